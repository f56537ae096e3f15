"""Rows a correct reader must reject, one problem per row, with the reason it must give.

About 0.4 % of each record-level source's rows get exactly one unusable value, the reason code
being the reader's catalogue (``fpstat.schema.reasons``): an ID stored as a number
(``id-precision-lost``), an ID with a wrong check character or impossible embedded date
(``id-invalid``), a blank required field (``missing-value``), an impossible date
(``invalid-date``), a date before 1900 or after the as-of date (``date-out-of-range``), an
unknown sex code (``invalid-sex``), a malformed area code (``invalid-area-code``), a birth order
of 0 (``invalid-birth-order``). Every reason a source can have occurs at least once when the
source has enough rows, so that each is exercised in a small drop.

The corrupt value is described, not yet written: ``bad_kind`` says how the export writes it
(``blank``, ``text``, ``id-number``: the ID as a spreadsheet number, ``bad-date``: an impossible
year-month-day in the column's own date style, ``date``: a real date in that style).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from fpstat.sample import identity

CORRUPTION_RATE = 0.004
_COMMON = (
    "id-precision-lost", "id-invalid", "missing-value", "invalid-date", "date-out-of-range",
    "invalid-sex", "invalid-area-code",
)
REASONS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "planning": _COMMON + ("invalid-birth-order",),
    "police": _COMMON,
    "census": _COMMON,
    "hospital": _COMMON + ("invalid-birth-order",),
    "education": _COMMON,
}
#: Which ID a source most often gets wrong: the one it always holds.
_ID_FIRST = {"planning": "mother_id", "police": "child_id", "census": "mother_id",
             "hospital": "mother_id", "education": "child_id"}
_BAD_SEX = ("未知", "9", "不详", "0")
_BAD_ORDER = ("0", "-1")


def _full_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 18


def _id_field(row: dict[str, Any], role: str, numeric: bool) -> str | None:
    """The ID field to corrupt in this row, or None when it holds no usable ID."""
    first = _ID_FIRST[role]
    second = "child_id" if first == "mother_id" else "mother_id"
    for field in (first, second):
        value = row[field]
        if _full_id(value) and (not numeric or str(value)[-1].isdigit()):
            return field
    return None


def _bad_id(value: str, rng: np.random.Generator) -> str:
    """An ID with a wrong check character, or a right one over an impossible birth date."""
    if rng.random() < 0.6:
        wrong = [c for c in "0123456789X" if c != value[17]]
        return value[:17] + wrong[int(rng.integers(0, len(wrong)))]
    body = value[:10] + "13" + value[12:17]   # month 13
    return body + str(identity.check_characters(np.array([int(body)], dtype=np.int64))[0])


def _bad_date(date: dt.date, rng: np.random.Generator) -> str:
    """Year-month-day that is no date, near the real one: month 13, 30 February, day 32 ..."""
    choices = (
        (date.year, 13, date.day), (date.year, 2, 30), (date.year, 4, 31),
        (date.year, date.month, 32), (date.year, 0, date.day),
    )
    year, month, day = choices[int(rng.integers(0, len(choices)))]
    return f"{year}-{month}-{day}"


def _out_of_range(date: dt.date, rng: np.random.Generator) -> str:
    """A real date a typo put out of range: 1023 for 2023, 2035 for 2025 ..."""
    day = min(date.day, 28)
    year = date.year - 1000 if rng.random() < 0.5 else date.year + 10
    return dt.date(year, date.month, day).isoformat()


def _bad_area(code: str, rng: np.random.Generator) -> str:
    length = int(rng.choice(np.array([7, 8, 10, 11, 13])))
    return code[:length] if length < 12 else code + "0"


def corrupt(records: pd.DataFrame, role: str, rng: np.random.Generator) -> pd.DataFrame:
    """Add ``reason_code``, ``bad_field``, ``bad_kind``, ``bad_value`` (null on good rows), in place.

    An ID lost to a number is only ever one without an ``X``: a spreadsheet keeps such an ID
    as text. Workbooks then hold a number cell, CSV files the text a spreadsheet leaves behind
    (``3.20581E+17``).
    """
    count = len(records)
    reasons = REASONS_BY_ROLE[role]
    n_bad = int(round(count * CORRUPTION_RATE))
    if count >= 4 * len(reasons):
        n_bad = max(n_bad, len(reasons))
    n_bad = min(n_bad, count)
    rows = np.sort(rng.choice(count, size=n_bad, replace=False))
    wanted = np.resize(np.array(reasons, dtype=object), n_bad)
    rng.shuffle(wanted)
    reason_code = np.full(count, None, dtype=object)
    bad_field = np.full(count, None, dtype=object)
    bad_kind = np.full(count, None, dtype=object)
    bad_value = np.full(count, None, dtype=object)
    chosen = records.iloc[rows][["child_id", "mother_id", "birth_date", "area_code"]].to_dict("records")
    for row, reason, record in zip(rows.tolist(), wanted.tolist(), chosen, strict=True):
        field, kind, value = _corruption(record, role, reason, rng)
        if field is None:  # no ID to spoil in this row: blank a required field instead
            reason, field, kind, value = "missing-value", "area_code", "blank", None
        reason_code[row], bad_field[row], bad_kind[row], bad_value[row] = reason, field, kind, value
    for name, values in (("reason_code", reason_code), ("bad_field", bad_field),
                         ("bad_kind", bad_kind), ("bad_value", bad_value)):
        records[name] = pd.Series(values, index=records.index, dtype=object)
    return records


def _corruption(
    record: dict[str, Any], role: str, reason: str, rng: np.random.Generator
) -> tuple[str | None, str | None, str | None]:
    """(field, kind, value) that make this record's row fail with ``reason``."""
    birth_date = pd.Timestamp(record["birth_date"]).date()
    if reason == "id-precision-lost":
        field = _id_field(record, role, numeric=True)
        return (field, "id-number", str(record[field])) if field else (None, None, None)
    if reason == "id-invalid":
        field = _id_field(record, role, numeric=False)
        return (field, "text", _bad_id(str(record[field]), rng)) if field else (None, None, None)
    if reason == "missing-value":
        field = ("birth_date", "sex", "area_code")[int(rng.integers(0, 3))]
        return field, "blank", None
    if reason == "invalid-date":
        return "birth_date", "bad-date", _bad_date(birth_date, rng)
    if reason == "date-out-of-range":
        return "birth_date", "date", _out_of_range(birth_date, rng)
    if reason == "invalid-sex":
        return "sex", "text", _BAD_SEX[int(rng.integers(0, len(_BAD_SEX)))]
    if reason == "invalid-area-code":
        return "area_code", "text", _bad_area(str(record["area_code"]), rng)
    if reason == "invalid-birth-order":
        return "birth_order", "text", _BAD_ORDER[int(rng.integers(0, len(_BAD_ORDER)))]
    raise ValueError(f"unknown reason {reason}")


def number_of_id(value: str) -> float:
    """What a spreadsheet keeps of an 18-digit ID typed as a number: 15 significant digits."""
    return float(f"{int(value):.14e}")


def spreadsheet_text_of_id(value: str) -> str:
    """What a CSV saved from a spreadsheet holds for such an ID: ``3.20581E+17``."""
    return f"{float(value):.5E}"
