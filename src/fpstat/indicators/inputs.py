"""What the indicators stage reads from a run directory; every file optional.

``records.parquet`` and ``links.parquet`` stay Arrow tables (they go straight to the engine);
``tables.parquet``, ``completeness.csv`` and ``sex_disagreements.csv`` are small and become
pandas frames. Area codes and periods are always read as text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fpstat.errors import UsageError
from fpstat.indicators.areas import AreaTable
from fpstat.rundir import RunDir
from fpstat.schema.periods import PERIOD_KINDS, period_kind

RECORDS = "records.parquet"
LINKS = "links.parquet"
TABLES = "tables.parquet"
COMPLETENESS = "completeness.csv"
SEX_DISAGREEMENTS = "sex_disagreements.csv"

#: Record columns the indicators use, with the type to give one a file lacks.
RECORD_COLUMNS: dict[str, pa.DataType] = {
    "role": pa.string(),
    "record_id": pa.string(),
    "sex": pa.string(),
    "birth_date": pa.date32(),
    "area_code": pa.string(),
    "area_name": pa.string(),
    "birth_order": pa.int64(),
    "within_policy": pa.bool_(),
    "registered_on": pa.date32(),
    "source_file": pa.string(),
    "source_sheet": pa.string(),
    "source_row": pa.int64(),
}
LINK_COLUMNS: dict[str, pa.DataType] = {
    "role": pa.string(),
    "record_id": pa.string(),
    "cluster_id": pa.string(),
    "is_duplicate": pa.bool_(),
}
_TEXT_COLUMNS = {"area_code": "string", "level": "string", "period": "string", "method": "string"}


@dataclass
class RunInputs:
    """The run directory's inputs to the indicators, ``None`` where a file is absent."""

    period_kind: str
    records: pa.Table | None = None
    links: pa.Table | None = None
    tables: pd.DataFrame | None = None
    completeness: pd.DataFrame | None = None
    sex_disagreements: pd.DataFrame | None = None


def _read_arrow(path: object, columns: dict[str, pa.DataType]) -> pa.Table:
    """The named columns of a Parquet file, missing ones added as typed nulls."""
    present = set(pq.ParquetFile(path).schema_arrow.names)
    table = pq.read_table(path, columns=[name for name in columns if name in present])
    for name, arrow_type in columns.items():
        if name in present:
            if table.schema.field(name).type != arrow_type:
                index = table.schema.get_field_index(name)
                table = table.set_column(index, name, table.column(name).cast(arrow_type))
        else:
            table = table.append_column(name, pa.nulls(table.num_rows, arrow_type))
    return table.select(list(columns))


def _remap_arrow(table: pa.Table, areas: AreaTable | None) -> pa.Table:
    if areas is None or not areas.mapping:
        return table
    codes = table.column("area_code").to_pandas().astype("string")
    remapped = pa.array(areas.remap(codes).astype(object).where(codes.notna(), None), pa.string())
    return table.set_column(table.schema.get_field_index("area_code"), "area_code", remapped)


def _read_text_csv(run: RunDir, name: str) -> pd.DataFrame:
    frame = run.read_csv(name, dtype=_TEXT_COLUMNS)
    for column in _TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("string")
    return frame


def resolve_period_kind(run: RunDir, requested: str | None) -> str:
    """``--period`` if given, else the manifest's ``parameters.period``, else inferred, else year."""
    kind = requested or run.manifest.parameters.get("period")
    if kind is None and run.exists(COMPLETENESS):
        periods = _read_text_csv(run, COMPLETENESS)["period"].dropna()
        kinds = sorted({period_kind(p) for p in periods})
        kind = kinds[0] if len(kinds) == 1 else None
    kind = kind or "year"
    if kind not in PERIOD_KINDS:
        raise UsageError(
            f"--period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}",
            f"--period 须为 {', '.join(PERIOD_KINDS)} 之一，而不是 {kind!r}",
            field="period",
        )
    return kind


def read_run_inputs(
    run: RunDir, *, period_kind: str | None = None, areas: AreaTable | None = None
) -> RunInputs:
    """Load what exists of the run directory; area codes remapped by ``areas`` if given."""
    inputs = RunInputs(period_kind=resolve_period_kind(run, period_kind))
    if run.exists(RECORDS):
        inputs.records = _remap_arrow(_read_arrow(run.file(RECORDS), RECORD_COLUMNS), areas)
    if run.exists(LINKS):
        inputs.links = _read_arrow(run.file(LINKS), LINK_COLUMNS)
    if run.exists(TABLES):
        tables = run.read_parquet(TABLES)
        if areas is not None:
            tables["area_code"] = areas.remap(tables["area_code"].astype("string"))
        inputs.tables = tables
    for name, attribute in (
        (COMPLETENESS, "completeness"),
        (SEX_DISAGREEMENTS, "sex_disagreements"),
    ):
        if run.exists(name):
            setattr(inputs, attribute, _read_text_csv(run, name))
    return inputs


def empty_links() -> pa.Table:
    """A links table with no rows (when a run has records but no links.parquet)."""
    return pa.table({name: pa.array([], type=kind) for name, kind in LINK_COLUMNS.items()})
