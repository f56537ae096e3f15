"""Periods: calendar years, family-planning statistical years, quarters and months.

Canonical strings (architecture spec): ``2024`` (calendar year), ``2024SY`` (statistical
year: 1 October 2023 to 30 September 2024, the family-planning statistics convention),
``2024-Q1``, ``2024-03``. A birth's period always comes from its birth date, never from the
reporting year of the source that recorded it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np
import pandas as pd

PERIOD_KINDS: tuple[str, ...] = ("year", "sy", "quarter", "month")
PERIOD_KIND_ZH = {"year": "年度", "sy": "统计年度", "quarter": "季度", "month": "月份"}

_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\d{4})\s*(?:SY|sy|统计年度|计生年度)$"), "sy"),
    (re.compile(r"^(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})\s*年\s*第?\s*([1-4一二三四])\s*季度?$"), "quarter"),
    (re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"), "month"),
    (re.compile(r"^(\d{4})(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})\s*年?(?:度)?$"), "year"),
)
_CHINESE_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_period(text: object) -> str | None:
    """Canonical period string for what a report table writes, or ``None`` if not a period.

    Accepts ``2024``, ``2024年``, ``2024年度``, ``2024SY``, ``2024统计年度``, ``2024-Q1``,
    ``2024Q1``, ``2024年第一季度``, ``2024-03``, ``2024/3``, ``2024年3月``, ``202403``, and
    numbers such as ``2024.0`` that spreadsheets produce for a year column.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    if isinstance(text, (int, np.integer)) or (isinstance(text, float) and float(text).is_integer()):
        text = str(int(text))
    value = str(text).translate(_FULLWIDTH).strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        year = int(match.group(1))
        if not 1900 <= year <= 2999:
            return None
        if kind == "year":
            return f"{year}"
        if kind == "sy":
            return f"{year}SY"
        if kind == "quarter":
            quarter = _CHINESE_QUARTER.get(match.group(2), match.group(2))
            return f"{year}-Q{quarter}"
        month = int(match.group(2))
        if not 1 <= month <= 12:
            return None
        return f"{year}-{month:02d}"
    return None


def period_kind(period: str) -> str:
    """``year``, ``sy``, ``quarter`` or ``month`` for a canonical period string."""
    if period.endswith("SY"):
        return "sy"
    if "-Q" in period:
        return "quarter"
    if "-" in period:
        return "month"
    return "year"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a canonical period."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if kind == "sy":
        return dt.date(year - 1, 10, 1), dt.date(year, 9, 30)
    if kind == "quarter":
        quarter = int(period[-1])
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        return dt.date(year, first_month, 1), dt.date(
            year, last_month, calendar.monthrange(year, last_month)[1]
        )
    month = int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def period_of(dates: pd.Series, kind: str) -> pd.Series:
    """The canonical period of each date (vectorised); null where the date is null."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    stamps = pd.to_datetime(dates)
    year = stamps.dt.year
    month = stamps.dt.month
    missing = stamps.isna()
    if kind == "year":
        text = year.astype("Int64").astype("string")
    elif kind == "sy":
        sy = year + (month >= 10).astype("Int64")
        text = sy.astype("Int64").astype("string") + "SY"
    elif kind == "quarter":
        quarter = (month - 1) // 3 + 1
        text = year.astype("Int64").astype("string") + "-Q" + quarter.astype("Int64").astype("string")
    else:
        text = (
            year.astype("Int64").astype("string")
            + "-"
            + month.astype("Int64").astype("string").str.pad(2, fillchar="0")
        )
    text = text.astype("string[pyarrow]")
    text[missing] = pd.NA
    return text


def months_of(period: str) -> list[str]:
    """The canonical months that make up a period, in order."""
    start, end = period_bounds(period)
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return months


def periods_within(period: str, kind: str) -> list[str]:
    """The periods of ``kind`` that lie wholly inside ``period`` (e.g. the quarters of 2024SY)."""
    months = months_of(period)
    if kind == "month":
        return months
    seen: list[str] = []
    for month in months:
        first = dt.date(int(month[:4]), int(month[5:7]), 1)
        candidate = period_of(pd.Series([first]), kind).iloc[0]
        if candidate not in seen:
            seen.append(candidate)
    start, end = period_bounds(period)
    return [p for p in seen if period_bounds(p)[0] >= start and period_bounds(p)[1] <= end]


def sy_window(period: str, years: int) -> list[str]:
    """The ``years`` statistical years ending with ``period`` (a ``YYYYSY`` string), oldest first."""
    if period_kind(period) != "sy":
        raise ValueError("a multi-year window is defined on statistical years")
    last = int(period[:4])
    return [f"{year}SY" for year in range(last - years + 1, last + 1)]
