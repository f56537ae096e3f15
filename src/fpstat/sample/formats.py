"""How an office's export writes a value: the cell styles of the messy exports.

A *style* turns canonical values into spreadsheet cells the way one office's system does it:
dates as ISO text, ``2024/7/14``, ``2024.07.14``, ``20240714``, ``2024年7月14日``, real Excel
date cells or bare Excel serial numbers; sex as 男/女, 1/2 (GB/T 2261.1) or M/F; birth order as
一孩/二孩/多孩 or a number; policy as 符合政策/政策外, 是/否 or 政策内/政策外; migrant status as
是/否 or 户籍/流动; area codes as 12-digit village or 9-digit township codes.

Cells are Python values: ``str`` (a text cell), ``int``/``float`` (a number cell),
``datetime.datetime`` (a date cell), ``None`` (blank). CSV writers turn them into text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpstat.sample.corruption import number_of_id, spreadsheet_text_of_id

EXCEL_EPOCH = dt.date(1899, 12, 30)
_ORDER_ZH = {1: "一孩", 2: "二孩", 3: "多孩"}


def _date_parts(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    stamps = pd.DatetimeIndex(pd.to_datetime(np.asarray(values, dtype="datetime64[D]")))
    missing = stamps.isna()
    year = stamps.year.to_numpy(dtype=float, na_value=0).astype(int)
    month = stamps.month.to_numpy(dtype=float, na_value=0).astype(int)
    day = stamps.day.to_numpy(dtype=float, na_value=0).astype(int)
    return year, month, day, np.asarray(missing)


def _date_text(pattern: Callable[[int, int, int], str]) -> Callable[[Any], list[Any]]:
    def format_dates(values: Any) -> list[Any]:
        year, month, day, missing = _date_parts(values)
        return [
            None if gone else pattern(y, m, d)
            for y, m, d, gone in zip(year.tolist(), month.tolist(), day.tolist(), missing.tolist(), strict=True)
        ]

    return format_dates


DATE_PATTERNS: dict[str, Callable[[int, int, int], str]] = {
    "date-iso": lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    "date-slash": lambda y, m, d: f"{y}/{m}/{d}",
    "date-dot": lambda y, m, d: f"{y:04d}.{m:02d}.{d:02d}",
    "date-compact": lambda y, m, d: f"{y:04d}{m:02d}{d:02d}",
    "date-zh": lambda y, m, d: f"{y}年{m}月{d}日",
}


def _date_cells(values: Any) -> list[Any]:
    year, month, day, missing = _date_parts(values)
    return [
        None if gone else dt.datetime(y, m, d)
        for y, m, d, gone in zip(year.tolist(), month.tolist(), day.tolist(), missing.tolist(), strict=True)
    ]


def _serials(values: Any) -> list[Any]:
    days = np.asarray(values, dtype="datetime64[D]")
    serial = (days - np.datetime64(EXCEL_EPOCH)).astype(np.int64)
    return [None if np.isnat(day) else int(number) for day, number in zip(days, serial, strict=True)]


def _mapped(table: Mapping[Any, Any]) -> Callable[[Any], list[Any]]:
    def format_codes(values: Any) -> list[Any]:
        return [None if value is None or value is pd.NA else table.get(value) for value in list(values)]

    return format_codes


def _plain(values: Any) -> list[Any]:
    return [None if value is None or value is pd.NA or value != value else value for value in list(values)]


def _township_codes(values: Any) -> list[Any]:
    return [None if value is None else str(value)[:9] for value in list(values)]


STYLES: dict[str, Callable[[Any], list[Any]]] = {
    "text": _plain,
    "id": _plain,
    **{name: _date_text(pattern) for name, pattern in DATE_PATTERNS.items()},
    "date-cell": _date_cells,
    "date-serial": _serials,
    "sex-zh": _mapped({"M": "男", "F": "女"}),
    "sex-code": _mapped({"M": 1, "F": 2}),
    "sex-mf": _mapped({"M": "M", "F": "F"}),
    "order-zh": _mapped(_ORDER_ZH),
    "order-num": _mapped({1: 1, 2: 2, 3: 3}),
    "order-text": _mapped({1: "1", 2: "2", 3: "3"}),
    "policy-zh": _mapped({True: "符合政策", False: "政策外"}),
    "policy-yesno": _mapped({True: "是", False: "否"}),
    "policy-inout": _mapped({True: "政策内", False: "政策外"}),
    "migrant-yesno": _mapped({True: "是", False: "否"}),
    "migrant-hukou": _mapped({True: "流动", False: "户籍"}),
    "area12": _plain,
    "area9": _township_codes,
}


def format_column(values: Any, style: str) -> list[Any]:
    """The cells of one column written in ``style``."""
    return STYLES[style](values)


def corrupt_cell(kind: str, value: str | None, style: str, *, spreadsheet: bool) -> Any:
    """The cell a corruption leaves in a column of ``style`` (see ``corruption``)."""
    if kind == "blank":
        return None
    if kind == "text":
        return value
    if kind == "id-number":
        assert value is not None
        return number_of_id(value) if spreadsheet else spreadsheet_text_of_id(value)
    assert value is not None
    year, month, day = (int(part) for part in value.split("-"))
    pattern = DATE_PATTERNS.get(style, DATE_PATTERNS["date-iso"])
    if kind == "bad-date":
        return pattern(year, month, day)
    if kind == "date":
        if style == "date-cell" and year >= 1900:
            return dt.datetime(year, month, day)
        if style == "date-serial" and year >= 1900:
            return (dt.date(year, month, day) - EXCEL_EPOCH).days
        return pattern(year, month, day)
    raise ValueError(f"unknown corruption kind {kind}")


def cell_text(cell: Any) -> str:
    """A cell as CSV text (CSV exports only use text styles; numbers print plainly)."""
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    return str(cell)
