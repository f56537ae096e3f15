"""The result of the indicators stage and its indicators.csv form.

Numbers are rounded to :data:`SIGNIFICANT_DIGITS` significant digits (counts stay exact
integers), so that float noise never changes the file: the same inputs give the same bytes.
Rows are sorted by indicator (registry order), source, level (the whole drop, then province
down to village), area code, period (by date) and denominator source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fpstat.indicators.profiles import Profile
from fpstat.indicators.registry import INDICATOR_ORDER
from fpstat.indicators.rollup import LEVEL_ORDER
from fpstat.schema.fields import RECORD_ROLES
from fpstat.schema.periods import period_bounds

SIGNIFICANT_DIGITS = 6

#: Columns of indicators.csv, in order.
COLUMNS: tuple[str, ...] = (
    "indicator",
    "indicator_zh",
    "source",
    "area_code",
    "area_name",
    "level",
    "period",
    "numerator",
    "denominator",
    "value",
    "unit",
    "ci_low",
    "ci_high",
    "threshold",
    "status",
    "funnel_low_95",
    "funnel_high_95",
    "funnel_low_998",
    "funnel_high_998",
    "funnel_position",
    "denominator_source",
)
NUMBER_COLUMNS: tuple[str, ...] = (
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "funnel_low_95",
    "funnel_high_95",
    "funnel_low_998",
    "funnel_high_998",
)
_SOURCE_ORDER = {role: index for index, role in enumerate((*RECORD_ROLES, "report", "population"))}


def round_significant(values: pd.Series, digits: int = SIGNIFICANT_DIGITS) -> pd.Series:
    """Round to ``digits`` significant digits; integers and infinities unchanged, NaN kept.

    Scaling is by an exact power of ten (multiplied or divided as the sign of the exponent
    asks), so the result is the double nearest to the rounded decimal and prints as it.
    """
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    # Counts (integers) stay exact: only fractional values are rounded.
    fractional = np.isfinite(array) & (array != np.round(array))
    magnitude = np.zeros_like(array)
    magnitude[fractional] = np.floor(np.log10(np.abs(array[fractional])))
    shift = (digits - 1 - magnitude).astype("int64")
    rounded = array.copy()
    up = fractional & (shift >= 0)
    down = fractional & (shift < 0)
    rounded[up] = np.round(array[up] * 10.0 ** shift[up]) / 10.0 ** shift[up]
    rounded[down] = np.round(array[down] / 10.0 ** -shift[down]) * 10.0 ** -shift[down]
    return pd.Series(rounded, index=values.index, dtype="float64")


def format_number(value: float) -> str:
    """Plain decimal text (no exponent) for the CSV; integers without ``.0``; empty for NaN."""
    if value is None or value != value:
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer():
        return str(int(value))
    text = repr(float(value))
    return np.format_float_positional(value, trim="-") if "e" in text else text


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """indicators.csv order (see module docstring)."""
    periods = {p: period_bounds(p) for p in frame["period"].unique()}
    sources = {s: _SOURCE_ORDER.get(s.split("-")[0], 99) for s in frame["source"].unique()}
    keys = pd.DataFrame(
        {
            "indicator": frame["indicator"].map(INDICATOR_ORDER),
            "source_rank": frame["source"].map(sources),
            "source": frame["source"],
            "level": frame["level"].map(LEVEL_ORDER),
            "area_code": frame["area_code"],
            "period_start": frame["period"].map({p: b[0].toordinal() for p, b in periods.items()}),
            "period_end": frame["period"].map({p: b[1].toordinal() for p, b in periods.items()}),
            "period": frame["period"],
            "denominator_source": frame["denominator_source"],
        },
        index=frame.index,
    )
    order = keys.sort_values(list(keys.columns), kind="mergesort").index
    return frame.loc[order].reset_index(drop=True)


@dataclass
class IndicatorResult:
    """Indicators of one run: the table, what could not be computed and why, and notes."""

    table: pd.DataFrame
    profile: Profile
    period_kind: str
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    funnels: pd.DataFrame = field(default_factory=pd.DataFrame)

    def csv_frame(self) -> pd.DataFrame:
        """The table as indicators.csv writes it: numbers as plain text, blanks for missing."""
        frame = self.table.copy()
        for column in NUMBER_COLUMNS:
            frame[column] = [format_number(v) for v in frame[column].astype("float64")]
        return frame[list(COLUMNS)].fillna("")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: rows (numbers as numbers, missing as null), skipped, notes, funnels."""
        rows = []
        for record in self.table[list(COLUMNS)].to_dict(orient="records"):
            rows.append({key: _plain(value) for key, value in record.items()})
        funnels = [
            {key: _plain(value) for key, value in record.items()}
            for record in self.funnels.to_dict(orient="records")
        ]
        return {
            "period_kind": self.period_kind,
            "profile": self.profile.name,
            "rows": rows,
            "skipped": self.skipped,
            "notes": self.notes,
            "funnels": funnels,
        }


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, np.integer):
        return int(value)
    return value
