"""Counts from the record-level registers, per source, area and period (run in the engine).

The records are counted once, per role, area and month; every period kind (quarter, year,
statistical year) is a union of months, so its counts are sums of the monthly ones.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from fpstat.engine import Engine
from fpstat.engine.sql_indicators import (
    AREA_NAME_COUNTS_SQL,
    RECORD_COUNT_FIELDS,
    period_counts_sql,
    record_counts_sql,
)
from fpstat.indicators.inputs import empty_links

__all__ = ["RECORD_COUNT_FIELDS", "RecordCounter"]


class RecordCounter:
    """Counts the records once per month; :meth:`counts` adds months up to a period kind."""

    def __init__(self, engine: Engine, records: pa.Table, links: pa.Table | None) -> None:
        self.engine = engine
        engine.register("records", records)
        engine.register("links", links if links is not None else empty_links())
        self._months = engine.arrow(record_counts_sql())
        engine.register("record_months", self._months)

    def counts(self, period_kind: str, labels: dict[str, str]) -> pd.DataFrame:
        """``source, area_code, period`` and :data:`RECORD_COUNT_FIELDS` (float64)."""
        frame = self.engine.frame(period_counts_sql(period_kind))
        result = pd.DataFrame(
            {
                "source": frame["role"].astype(str).map(lambda role: labels.get(role, role)),
                "area_code": frame["area_code"].astype(str),
                "period": frame["period"].astype(str),
            }
        )
        for column in RECORD_COUNT_FIELDS:
            result[column] = frame[column].astype("float64")
        return result

    def area_name_counts(self) -> list[tuple[str, str, int]]:
        """``(area_code, area_name, how often)`` over all records."""
        frame = self.engine.frame(AREA_NAME_COUNTS_SQL)
        return list(
            zip(
                frame["area_code"].astype(str),
                frame["area_name"].astype(str),
                frame["n"].astype(int),
                strict=True,
            )
        )

    def close(self) -> None:
        for name in ("records", "links", "record_months"):
            self.engine.unregister(name)
