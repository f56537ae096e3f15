"""Normalisers: one small function per kind of value, vectorised over a column.

Each takes a column of cell texts (and, where it matters, what the file stored in each cell:
``"s"`` text, ``"n"`` number, ``"d"`` date, ``"b"`` boolean, see ``fpstat.io.RawSheet.kinds``)
and returns a :class:`Normalised`: the clean values and, aligned with them, a reason code
(:mod:`fpstat.schema.reasons`) where a value is unusable. Blank cells give a null value and no
reason; whether a blank is allowed is the caller's business.

Values repeat a lot (a million births have a few thousand distinct dates), so scalar parsing
runs once per *distinct* value and is mapped back (:mod:`fpstat.schema.columns`); resident
IDs, which are all distinct, are checked with numpy over the whole column
(:mod:`fpstat.schema.resident_ids`). No Python loop runs per row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from fpstat.schema.areas import pad_area_code
from fpstat.schema.columns import Normalised, clean_text, nfkc, per_distinct
from fpstat.schema.periods import parse_period
from fpstat.schema.resident_ids import NormalisedIds, id_check_character, normalise_resident_ids

__all__ = [
    "Normalised", "NormalisedIds", "clean_text", "excel_serial_date", "id_check_character",
    "nfkc", "normalise_area_codes", "normalise_birth_order", "normalise_counts", "normalise_dates",
    "normalise_migrant", "normalise_periods", "normalise_resident_ids", "normalise_sex",
    "normalise_within_policy", "parse_date",
]

EARLIEST_DATE = dt.date(1900, 1, 1)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"
_NO_DATA = frozenset({"-", "--", "—", "——", "/", "\\", "－"})
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9, "十": 10, "头": 1}
_DATE_TEXT = (
    re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]+\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})()年(\d{1,2})月(\d{1,2})[日号]?(?:\s*\d{1,2}[:时].*)?$"),
    re.compile(r"^(\d{4})()(\d{2})(\d{2})$"),
)
_BIRTH_ORDER = re.compile(r"^第?([一二两三四五六七八九十头]+|\d+)(?:孩|胎|个)?(?:及以上|以上)?$")

SEX_VALUES = {
    "男": "M", "男性": "M", "1": "M", "m": "M", "male": "M",
    "女": "F", "女性": "F", "2": "F", "f": "F", "female": "F",
}
POLICY_VALUES = {
    **dict.fromkeys(("符合政策", "政策内", "符合", "是", "1", "y", "yes", "true", "t"), True),
    **dict.fromkeys(("政策外", "不符合", "不符合政策", "否", "0", "n", "no", "false"), False),
}
MIGRANT_VALUES = {
    **dict.fromkeys(("流入", "流动", "流动人口", "外来", "是", "1", "y", "yes", "true"), True),
    **dict.fromkeys(
        ("否", "本地", "户籍", "非流动", "非流动人口", "本地户籍", "户籍人口", "0", "n", "no", "false"),
        False,
    ),
}


# ---------------------------------------------------------------- dates

def excel_serial_date(serial: float) -> dt.date | None:
    """The date of an Excel (1900 system) serial number; ``None`` for 0, 60 or out of range.

    Excel counts 1900-02-29, which never existed (a Lotus 1-2-3 compatibility bug), as serial
    60: serials below it are one day later than a plain count from 1899-12-30 would say.
    """
    whole = int(serial)
    if whole < 1 or whole > _EXCEL_MAX_SERIAL or whole == 60:
        return None
    if whole < 60:
        return _EXCEL_EPOCH + dt.timedelta(days=whole + 1)
    return _EXCEL_EPOCH + dt.timedelta(days=whole)


def parse_date(value: str, kind: str = "s") -> dt.date | None:
    """One date cell: ISO, ``2010/7/14``, ``2010.07.14``, ``20100714``, ``2010年7月14日``,
    ``2010-7-14 00:00:00``, an Excel serial (number cells, or 5-digit text); else ``None``."""
    text = nfkc(value)
    if kind == "n" or re.fullmatch(r"\d{5}", text):
        if not re.fullmatch(r"\d{8}", text):
            try:
                serial = float(text)
            except ValueError:
                return None
            return excel_serial_date(serial) if np.isfinite(serial) else None
    for pattern in _DATE_TEXT:
        match = pattern.match(text)
        if match:
            year, _, month, day = match.groups()
            try:
                return dt.date(int(year), int(month), int(day))
            except ValueError:
                return None
    return None


def normalise_dates(column: pd.Series, kinds: pd.Series | None = None, *, as_of: dt.date) -> Normalised:
    """Dates as date32; ``invalid-date``, or ``date-out-of-range`` outside 1900-01-01..as_of."""

    def parse(text: str, kind: str) -> tuple[dt.date | None, str | None]:
        day = parse_date(text, kind)
        if day is None:
            return None, "invalid-date"
        if not EARLIEST_DATE <= day <= as_of:
            return None, "date-out-of-range"
        return day, None

    return per_distinct(column, kinds, parse, pa.date32())


# ---------------------------------------------------------------- coded values

def _lookup(table: dict[str, Any], reason: str) -> Callable[[str, str], tuple[Any, str | None]]:
    def parse(text: str, _kind: str) -> tuple[Any, str | None]:
        key = re.sub(r"\s+", "", nfkc(text)).casefold()
        if key in table:
            return table[key], None
        return None, reason

    return parse


def normalise_sex(column: pd.Series) -> Normalised:
    """``M``/``F`` from 男/女, 男性/女性, 1/2 (GB/T 2261.1), M/F, male/female; else ``invalid-sex``."""
    return per_distinct(column, None, _lookup(SEX_VALUES, "invalid-sex"), pa.string())


def _birth_order(text: str, _kind: str) -> tuple[int | None, str | None]:
    key = re.sub(r"\s+", "", nfkc(text))
    if key in ("多孩", "多胎"):
        return 3, None
    number: int | None = None
    if re.fullmatch(r"\d+(\.0+)?", key):
        number = int(key.split(".")[0])
    else:
        match = _BIRTH_ORDER.match(key)
        if match:
            word = match.group(1)
            if word.isdigit():
                number = int(word)
            elif len(word) == 1:
                number = _CHINESE_DIGITS[word]
            else:
                number = 10  # 十一, 十二 ...: well past three
    if number is None or number < 1:
        return None, "invalid-birth-order"
    return min(number, 3), None


def normalise_birth_order(column: pd.Series) -> Normalised:
    """1, 2 or 3 (three or more) from 1/2/3/4+, 一孩/二孩/多孩, 第一胎 ..., ``1.0``."""
    return per_distinct(column, None, _birth_order, pa.int64())


def normalise_within_policy(column: pd.Series) -> Normalised:
    """True from 符合政策/政策内/是/1/Y; false from 政策外/不符合/否/0/N; else ``invalid-boolean``."""
    return per_distinct(column, None, _lookup(POLICY_VALUES, "invalid-boolean"), pa.bool_())


def normalise_migrant(column: pd.Series) -> Normalised:
    """True from 流入/流动/是; false from 否/本地/户籍/非流动; else ``invalid-boolean``."""
    return per_distinct(column, None, _lookup(MIGRANT_VALUES, "invalid-boolean"), pa.bool_())


def _exact_integer(text: str) -> int | None:
    """An integral number written in any float form (``3.20581101203e+11``), exactly, or None."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _area_code(text: str, kind: str) -> tuple[str | None, str | None]:
    value = nfkc(text)
    if re.fullmatch(r"\d+\.0*", value):
        value = value.split(".")[0]
    elif kind == "n" and re.fullmatch(_SCIENTIFIC, value):
        # A number cell is exact up to 2**53; a code typed as *text* in scientific notation
        # ("3.20581E+11") has already lost digits and is not accepted.
        number = _exact_integer(value)
        value = str(number) if number is not None and 0 <= number < 2**53 else value
    code = pad_area_code(value)
    return (code, None) if code else (None, "invalid-area-code")


def normalise_area_codes(column: pd.Series, kinds: pd.Series | None = None) -> Normalised:
    """12-digit statistical area codes: 2/4/6/9/12 digits, right-padded; else ``invalid-area-code``."""
    return per_distinct(column, kinds, _area_code, pa.string())


def _count(text: str, kind: str) -> tuple[int | None, str | None]:
    value = re.sub(r"\s+", "", nfkc(text))
    if value in _NO_DATA:
        return None, None  # an explicit "no figure" mark, not a number to check
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.0*)?", value):
        value = value.replace(",", "")
    if re.fullmatch(r"\d+(\.0*)?", value):
        return int(value.split(".")[0]), None
    if kind == "n":
        number = _exact_integer(value)
        if number is not None and number >= 0:
            return number, None
    return None, "invalid-number"


def normalise_counts(column: pd.Series, kinds: pd.Series | None = None) -> Normalised:
    """Non-negative whole numbers (``12``, ``1,234``, ``12.0``); ``-``/``—`` mean no figure."""
    return per_distinct(column, kinds, _count, pa.int64())


_MONTH_ONLY = re.compile(r"^(\d{1,2})月(?:份)?$")
_QUARTER_ONLY = re.compile(r"^第?([1-4一二三四])季(?:度)?$")


def normalise_periods(column: pd.Series, year: int | None = None) -> Normalised:
    """Canonical periods (``fpstat.schema.periods.parse_period``); ``invalid-period`` otherwise.

    A monthly sheet often writes only ``3月`` or ``第一季度``; when the sheet's title or name
    gives its ``year``, those become ``2024-03`` / ``2024-Q1``.
    """

    def parse(text: str, _kind: str) -> tuple[str | None, str | None]:
        period = parse_period(text)
        value = re.sub(r"\s+", "", nfkc(text))
        if period is None and year is not None:
            month = _MONTH_ONLY.match(value)
            quarter = _QUARTER_ONLY.match(value)
            if month and 1 <= int(month.group(1)) <= 12:
                period = f"{year}-{int(month.group(1)):02d}"
            elif quarter:
                period = parse_period(f"{year}年第{quarter.group(1)}季度")
        return (period, None) if period else (None, "invalid-period")

    return per_distinct(column, None, parse, pa.string())
