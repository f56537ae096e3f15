"""What the checks read: the files of a run directory, loaded once and shared.

Every loader raises :class:`MissingInput` when its file is absent; the runner turns that into a
skipped check with the reason. Record-level roll-ups run as SQL through the engine
(``fpstat.engine.sql_audit``); tables of counts stay small and are handled in pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fpstat.audit.records import distinct_births
from fpstat.engine import Engine, sql_audit
from fpstat.rundir import RunDir
from fpstat.schema import COUNT_FIELDS
from fpstat.schema.periods import PERIOD_KINDS, period_bounds

RECORD_COLUMNS = (
    "role",
    "record_id",
    "child_pid",
    "mother_pid",
    "sex",
    "birth_date",
    "area_code",
    "area_name",
    "child_id_birth_date",
    "child_id_sex",
    "source_file",
    "source_sheet",
    "source_row",
)
#: Count columns of the normalised count table (docs/internals.md).
COUNT_COLUMNS = tuple(
    name for name in COUNT_FIELDS if name not in ("area_code", "area_name", "period")
)
_TEXT_COLUMNS = {
    "area_code": "string",
    "level": "string",
    "period": "string",
    "role": "string",
    "indicator": "string",
    "source": "string",
    "file": "string",
    "sheet": "string",
    "reason_code": "string",
    "unit": "string",
    "method": "string",
}


def plain_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow-backed columns as pandas' default text and NumPy number dtypes (much faster to
    sort and group); dates and booleans are left as they are."""
    result = frame.copy()
    for column in result.columns:
        series = result[column]
        if pd.api.types.is_string_dtype(series.dtype):
            result[column] = series.astype("str")
        elif pd.api.types.is_bool_dtype(series.dtype):
            continue
        elif pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
            result[column] = series.to_numpy(dtype="int64")
        elif pd.api.types.is_numeric_dtype(series.dtype):
            result[column] = series.to_numpy(dtype="float64", na_value=np.nan)
    return result


class MissingInput(Exception):
    """A file a check needs is not in the run directory."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Threshold:
    """One bound of an evaluation profile: ``kind`` is min, max, range or veto."""

    indicator: str
    kind: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def lower_bound(self) -> float | None:
        """The value an area must reach, for ``min`` and ``veto`` bounds; else ``None``."""
        if self.kind in ("min", "veto"):
            return self.value if self.value is not None else self.low
        return None


def _number(item: Any, name: str) -> float | None:
    found = getattr(item, name, None)
    return None if found is None else float(found)


def thresholds_from(profile: Any) -> tuple[Threshold, ...]:
    """Profile bounds from a loaded profile (``.thresholds``) or plain (indicator, kind, value) tuples."""
    items = getattr(profile, "thresholds", profile) or ()
    result = []
    for item in items:
        if isinstance(item, Threshold):
            result.append(item)
        elif isinstance(item, (tuple, list)):
            indicator, kind, value = item[0], item[1], item[2]
            if isinstance(value, (tuple, list)):
                result.append(
                    Threshold(str(indicator), str(kind), None, float(value[0]), float(value[1]))
                )
            else:
                result.append(
                    Threshold(str(indicator), str(kind), None if value is None else float(value))
                )
        else:
            result.append(
                Threshold(
                    indicator=str(item.indicator),
                    kind=str(item.kind),
                    value=_number(item, "value"),
                    low=_number(item, "low"),
                    high=_number(item, "high"),
                    note=str(getattr(item, "note", "") or ""),
                )
            )
    return tuple(result)


class AuditInputs:
    """Lazy, cached access to a run directory's files for the checks."""

    def __init__(
        self, run: RunDir, *, as_of: dt.date, thresholds: Iterable[Threshold] | None = None
    ) -> None:
        self.run = run
        self.as_of = as_of
        self.thresholds = tuple(thresholds) if thresholds is not None else None
        self._cache: dict[str, Any] = {}
        self._engine: Engine | None = None

    # -- files --------------------------------------------------------------------------------

    def has(self, name: str) -> bool:
        return self.run.exists(name)

    def manifest(self) -> dict[str, Any]:
        if not self.has("manifest.json"):
            raise MissingInput("manifest.json")
        return self.run.manifest.to_dict()

    @property
    def period_kind(self) -> str:
        """The run's period kind (``parameters.period``), ``year`` when not recorded."""
        kind = str(self.run.manifest.parameters.get("period") or "year")
        return kind if kind in PERIOD_KINDS else "year"

    def csv(self, name: str) -> pd.DataFrame:
        """A CSV of the run directory, codes and periods kept as text."""
        if name not in self._cache:
            if not self.has(name):
                raise MissingInput(name)
            header = self.run.read_csv(name, nrows=0).columns
            dtypes = {column: kind for column, kind in _TEXT_COLUMNS.items() if column in header}
            self._cache[name] = plain_dtypes(self.run.read_csv(name, dtype=dtypes))
        return self._cache[name]

    def _parquet(self, name: str, wanted: Iterable[str]) -> pd.DataFrame:
        if not self.has(name):
            raise MissingInput(name)
        path = self.run.file(name)
        present = [column for column in wanted if column in pq.read_schema(path).names]
        return pq.read_table(path, columns=present).to_pandas(types_mapper=pd.ArrowDtype)

    def links(self) -> pd.DataFrame | None:
        """``links.parquet`` if the run has it (used to de-duplicate), else ``None``."""
        if "links" not in self._cache:
            self._cache["links"] = (
                self._parquet("links.parquet", ("role", "record_id", "cluster_id", "is_duplicate"))
                if self.has("links.parquet")
                else None
            )
        return self._cache["links"]

    def records(self) -> pd.DataFrame:
        """Records of every record-level source with ``component`` and ``excess`` (duplicates)."""
        if "records" not in self._cache:
            records = self._parquet("records.parquet", RECORD_COLUMNS)
            for column in RECORD_COLUMNS:
                if column not in records:
                    records[column] = pd.Series(pd.NA, index=records.index, dtype="string")
            self._cache["records"] = distinct_births(records, self.links())
        return self._cache["records"]

    def tables(self) -> pd.DataFrame:
        """``tables.parquet`` with every count column present, as floats (NaN where blank)."""
        if "tables" not in self._cache:
            tables = self._parquet(
                "tables.parquet",
                (
                    "role",
                    "area_code",
                    "area_name",
                    "period",
                    *COUNT_COLUMNS,
                    "source_file",
                    "source_sheet",
                    "source_row",
                ),
            )
            for column in COUNT_COLUMNS:
                values = (
                    tables[column] if column in tables else pd.Series(np.nan, index=tables.index)
                )
                tables[column] = pd.to_numeric(values, errors="coerce").astype("float64")
            for column in (
                "role",
                "area_code",
                "period",
                "area_name",
                "source_file",
                "source_sheet",
            ):
                if column not in tables:
                    tables[column] = pd.Series(pd.NA, index=tables.index, dtype="string")
            if "source_row" not in tables:
                tables["source_row"] = np.nan
            tables = plain_dtypes(tables)
            keep = (
                tables["area_code"].str.fullmatch(r"\d{12}").fillna(False)
                & tables["period"].notna()
            )
            self._cache["tables"] = tables.loc[keep.astype(bool)].reset_index(drop=True)
        return self._cache["tables"]

    # -- record roll-ups (SQL) -----------------------------------------------------------------

    def _engine_with_records(self) -> Engine:
        if self._engine is None:
            records = self.records()
            columns = [
                "role",
                "area_code",
                "birth_date",
                "sex",
                "child_id_birth_date",
                "child_id_sex",
                "component",
                "excess",
            ]
            view = pa.Table.from_pandas(records[columns], preserve_index=False)
            self._engine = Engine()
            self._engine.register(sql_audit.AUDIT_RECORDS, view)
        return self._engine

    def _query(self, key: str, sql: str) -> pd.DataFrame:
        if key not in self._cache:
            self._cache[key] = plain_dtypes(self._engine_with_records().frame(sql))
        return self._cache[key]

    def monthly_births(self) -> pd.DataFrame:
        """Distinct births per role, month (``2024-03``), level and area: births, male, female."""
        return self._query("monthly", sql_audit.monthly_births())

    def duplicate_counts(self) -> pd.DataFrame:
        return self._query("duplicates", sql_audit.duplicate_counts())

    def id_mismatch_counts(self) -> pd.DataFrame:
        return self._query("id_mismatch", sql_audit.id_mismatch_counts())

    def coverage(self, role: str) -> tuple[dt.date, dt.date] | None:
        """Whole months spanned by a source's birth dates, capped at the as-of date."""
        key = f"coverage:{role}"
        if key not in self._cache:
            monthly = self.monthly_births()
            months = monthly.loc[
                (monthly["role"] == role) & (monthly["level"] == "province"), "month"
            ]
            span = None
            if not months.empty:
                start = period_bounds(str(months.min()))[0]
                end = min(period_bounds(str(months.max()))[1], self.as_of)
                span = (start, end) if start <= end else None
            self._cache[key] = span
        return self._cache[key]

    def covers(self, role: str, period: str) -> bool:
        """Whether a source's coverage includes the whole of ``period``."""
        span = self.coverage(role)
        if span is None:
            return False
        start, end = period_bounds(period)
        return span[0] <= start and end <= span[1]

    # -- names ---------------------------------------------------------------------------------

    def area_names(self) -> dict[str, str]:
        """The most frequent name written for each area code in records and tables (if any)."""
        if "names" not in self._cache:
            pieces = []
            for loader in (self.records, self.tables):
                try:
                    frame = loader()
                except MissingInput:
                    continue
                if "area_name" in frame:
                    pieces.append(frame[["area_code", "area_name"]].astype("string"))
            names: dict[str, str] = {}
            if pieces:
                both = pd.concat(pieces).dropna()
                both = both[both["area_name"].str.strip() != ""]
                counted = both.value_counts().rename("n").reset_index()
                counted = counted.sort_values(
                    ["area_code", "n", "area_name"], ascending=[True, False, True]
                )
                first = counted.drop_duplicates("area_code")
                names = dict(
                    zip(first["area_code"].astype(str), first["area_name"].astype(str), strict=True)
                )
            self._cache["names"] = names
        return self._cache["names"]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
