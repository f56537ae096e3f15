"""The ``truth/`` folder: what really happened, for tests and benchmarks to score against.

* ``births.parquet``: the true births, with one ``in_<role>`` flag per source;
* ``records.parquet``: every data row written to a record-level export, where it is, which
  birth it is, and whether a correct reader must reject it (and why);
* ``rejects.csv``: the rows a correct reader rejects, including the report tables' totals rows;
* ``totals.csv``: true births per area (every level) x period, and how many of them the
  planning register holds;
* ``injected.json``: the area-level problems planted in the drop.

Every column is documented in ``docs/sample.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat import rundir
from fpstat.sample.geography import Geography
from fpstat.sample.population import WINDOW_END, WINDOW_START
from fpstat.schema.areas import LEVELS, level_of
from fpstat.schema.periods import PERIOD_KINDS, period_of

RECORD_ROLES = ("planning", "police", "census", "hospital", "education")
BIRTH_COLUMNS = [
    "birth_uid", "area_code", "birth_date", "sex", "birth_order", "within_policy", "migrant",
    "mother_id", "child_id", *[f"in_{role}" for role in RECORD_ROLES],
    "maternity_uid", "multiple_birth", "township_code", "county_code", "mother_name",
    "mother_birth_date", "child_name", "registered_on", "hukou_registered_on",
]
RECORD_SCHEMA = pa.schema([
    ("role", pa.string()), ("file", pa.string()), ("sheet", pa.string()), ("row", pa.int64()),
    ("record_id", pa.string()), ("birth_uid", pa.string()), ("status", pa.string()),
    ("reason_code", pa.string()), ("field", pa.string()), ("is_duplicate", pa.bool_()),
    ("sex_misreported", pa.bool_()), ("perturbations", pa.string()),
])


def births_table(births: pd.DataFrame, captured: dict[str, np.ndarray]) -> pa.Table:
    """``truth/births.parquet``: the true births with an ``in_<role>`` flag per source; dates as date32."""
    table = births.copy()
    for role in RECORD_ROLES:
        table[f"in_{role}"] = captured[role]
    arrow = pa.Table.from_pandas(table[BIRTH_COLUMNS], preserve_index=False)
    for column in ("birth_date", "mother_birth_date", "registered_on", "hukou_registered_on"):
        index = arrow.schema.get_field_index(column)
        arrow = arrow.set_column(index, column, arrow[column].cast(pa.date32()))
    return arrow


def _few_strings(values: pd.Series) -> pa.Array:
    """A string column with few distinct values (file and sheet names), built fast."""
    return pa.array(pd.Categorical(values.to_numpy(dtype=object))).cast(pa.string())


def records_table(role: str, records: pd.DataFrame, positions: pd.DataFrame,
                  totals: pd.DataFrame) -> pa.Table:
    """Truth rows of one source, sorted by file, sheet and row: records, then totals rows.

    ``positions`` lists the records in output order (so a birth's first entry comes first).
    """
    wanted = ["birth_uid", "reason_code", "bad_field", "birth_row", "sex_misreported", "perturbations"]
    taken = records[wanted].iloc[positions["record"].to_numpy()]
    notes = taken["perturbations"].to_numpy(dtype=object)
    reason = taken["reason_code"].to_numpy(dtype=object)
    count = len(taken)
    columns: dict[str, Any] = {
        "role": pa.repeat(pa.scalar(role), count),
        "file": _few_strings(positions["file"]),
        "sheet": _few_strings(positions["sheet"]),
        "row": pa.array(positions["row"].to_numpy(dtype=np.int64)),
        "record_id": pa.array(positions["record_id"]).cast(pa.string()),
        "birth_uid": pa.array(taken["birth_uid"]).cast(pa.string()),
        "status": pa.array(np.where(pd.isna(reason), "valid", "rejected")),
        "reason_code": pa.array(reason, type=pa.string(), from_pandas=True),
        "field": pa.array(taken["bad_field"].to_numpy(dtype=object), type=pa.string(), from_pandas=True),
        "is_duplicate": pa.array(pd.Series(taken["birth_row"].to_numpy()).duplicated().to_numpy()),
        "sex_misreported": pa.array(taken["sex_misreported"].to_numpy(dtype=bool)),
        "perturbations": pa.array(np.where(notes == "", None, notes), type=pa.string()),
    }
    table = pa.table(columns, schema=RECORD_SCHEMA)
    if len(totals):
        count = len(totals)
        extra = {
            "role": [role] * count, "file": totals["file"].tolist(), "sheet": totals["sheet"].tolist(),
            "row": totals["row"].astype(int).tolist(), "record_id": [None] * count, "birth_uid": [None] * count,
            "status": ["rejected"] * count, "reason_code": ["totals-row"] * count, "field": [None] * count,
            "is_duplicate": [False] * count, "sex_misreported": [False] * count, "perturbations": [None] * count,
        }
        table = pa.concat_tables([table, pa.table(extra, schema=RECORD_SCHEMA)])
    keys = [("file", "ascending"), ("sheet", "ascending"), ("row", "ascending")]
    return table.take(pc.sort_indices(table, sort_keys=keys))


def sorted_records(tables: list[pa.Table]) -> pa.Table:
    """All sources' truth rows, by role, file, sheet and row."""
    return pa.concat_tables(sorted(tables, key=lambda table: table["role"][0].as_py() if len(table) else ""))


def rejects_table(records: pa.Table, report_totals: list[dict[str, Any]]) -> pd.DataFrame:
    frame = records.filter(pc.equal(records["status"], "rejected")).select(
        ["role", "file", "sheet", "row", "field", "reason_code"]
    ).to_pandas()
    report = pd.DataFrame(report_totals, columns=["role", "file", "sheet", "row"]).assign(
        field=None, reason_code="totals-row"
    )
    combined = pd.concat([frame, report], ignore_index=True)
    return combined.sort_values(["role", "file", "sheet", "row"], kind="stable").reset_index(drop=True)


def _periods_of_window() -> dict[str, list[str]]:
    dates = pd.Series(pd.date_range(WINDOW_START, WINDOW_END, freq="D"))
    return {kind: sorted(period_of(dates, kind).unique().tolist()) for kind in PERIOD_KINDS}


def totals_table(births: pd.DataFrame, geo: Geography, planning: pd.DataFrame) -> pd.DataFrame:
    """True births per area (every level) x period (every kind), with the register's share.

    Every period kind is a union of months, so births are first counted per village x month.
    """
    in_register = np.zeros(len(births), dtype=np.int64)
    in_register[planning["birth_row"].to_numpy()] = 1
    accepted = np.zeros(len(births), dtype=np.int64)
    accepted[planning.loc[planning["reason_code"].isna(), "birth_row"].to_numpy()] = 1
    counts = ["births", "births_male", "planning_births", "planning_births_accepted"]
    monthly = pd.DataFrame({
        "village": births["area_code"].astype(str).to_numpy(),
        "month": births["birth_date"].to_numpy(dtype="datetime64[M]"),
        "births": 1, "births_male": births["sex"].eq("M").to_numpy(dtype=np.int64),
        "planning_births": in_register, "planning_births_accepted": accepted,
    }).groupby(["village", "month"], as_index=False)[counts].sum()
    areas = sorted(geo.area_names())
    levels = {code: level_of(code) for code in areas}
    pieces = []
    for kind, periods in _periods_of_window().items():
        monthly["period"] = period_of(pd.Series(monthly["month"]), kind).astype(str).to_numpy()
        for level, digits in LEVELS:
            code = monthly["village"].str.slice(0, digits).str.pad(12, side="right", fillchar="0")
            grouped = monthly.assign(area_code=code).groupby(["area_code", "period"])[counts].sum()
            grid = pd.MultiIndex.from_product(
                [[a for a in areas if levels[a] == level], periods], names=["area_code", "period"]
            )
            grouped = grouped.reindex(grid, fill_value=0).reset_index()
            grouped["level"] = level
            grouped["kind"] = kind
            pieces.append(grouped)
    table = pd.concat(pieces, ignore_index=True)
    table["births_female"] = table["births"] - table["births_male"]
    table["depth"] = table["level"].map({name: i for i, (name, _) in enumerate(LEVELS)})
    table["kind_order"] = table["kind"].map({kind: i for i, kind in enumerate(PERIOD_KINDS)})
    table = table.sort_values(["depth", "area_code", "kind_order", "period"])
    columns = ["area_code", "level", "period", "births", "births_male", "births_female",
               "planning_births", "planning_births_accepted"]
    return table[columns].reset_index(drop=True)


def write_truth(out_dir: Path, births: pa.Table, records: pa.Table, rejects: pd.DataFrame,
                totals: pd.DataFrame, injected: dict[str, Any]) -> list[str]:
    folder = out_dir / "truth"
    rundir.write_parquet(folder / "births.parquet", births)
    rundir.write_parquet(folder / "records.parquet", records)
    rundir.write_csv(folder / "rejects.csv", rejects)
    rundir.write_csv(folder / "totals.csv", totals)
    rundir.write_json(folder / "injected.json", injected)
    return [f"truth/{name}" for name in ("births.parquet", "records.parquet", "rejects.csv", "totals.csv", "injected.json")]
