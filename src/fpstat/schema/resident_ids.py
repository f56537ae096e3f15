"""Resident identity numbers (公民身份号码, GB 11643-1999): validate, upgrade, decode.

An ID is 6 digits of area, 8 of birth date, 3 of sequence (odd for men) and a check character
from ISO 7064 MOD 11-2 (``X`` for 10). The check weights digit *i* (0-based) by 2^(17-i) mod 11;
the check character is ``"10X98765432"[sum mod 11]``. A 15-digit first-generation ID (GB
11643-1989) has a 2-digit year and no check: ``19`` goes before its year and the check is
computed. Every ID in a column is checked at once on a numpy matrix of its bytes: IDs are all
distinct, so there is nothing to gain from parsing distinct values.

An ID that went through a floating-point number (scientific notation ``3.10101E+17``, a ``.0``
tail, or 16+ digits stored in a number cell, which a double cannot hold exactly) has lost
digits for good: ``id-precision-lost``. Anything else that is not a valid ID is ``id-invalid``.
Neither is ever repaired: a guessed ID would link the wrong people.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.schema.columns import arrow_text, equals, halfwidth, to_series

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_ZERO, _NINE, _UPPER_X, _LOWER_X = ord("0"), ord("9"), ord("X"), ord("x")
_CENTURY = np.frombuffer(b"19", dtype=np.uint8)
_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"
_FLOAT_TAIL = r"^\d{16,}\.0*$"
_SEXES = pa.array(["F", "M"], pa.string())  # by parity of the sequence number
_ID_REASONS = pa.array([None, "id-invalid", "id-precision-lost"], pa.string())


class NormalisedIds(NamedTuple):
    values: pd.Series       # 18-character IDs, upper-case X; null where blank or rejected
    reasons: pd.Series      # id-invalid / id-precision-lost, else null
    birth_dates: pd.Series  # date32 embedded in the ID
    sexes: pd.Series        # "M"/"F" from the sequence number's parity


def id_check_character(first_17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID."""
    digits = np.frombuffer(first_17.encode("ascii"), dtype=np.uint8).astype(np.int64) - _ZERO
    return chr(_CHECK[int(digits @ _WEIGHTS) % 11])


def _byte_matrix(values: pa.Array, width: int) -> np.ndarray:
    """An (n, width) uint8 matrix of n non-null strings of exactly ``width`` bytes each."""
    array = values
    if len(array) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], dtype=offset_type)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width)


def _strings(matrix: np.ndarray) -> pa.Array:
    """The rows of a uint8 matrix as an Arrow string array."""
    count, width = matrix.shape
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), count, [None, pa.py_buffer(np.ascontiguousarray(matrix).tobytes())]
    )
    return fixed.cast(pa.binary()).cast(pa.string())


def _scatter(values: pa.Array, where: np.ndarray) -> pa.Array:
    """A full-length array with ``values`` at the true positions of ``where``, null elsewhere."""
    if where.all():
        return values
    positions = np.full(len(where), -1, dtype=np.int64)
    positions[where] = np.arange(int(where.sum()))
    return values.take(pa.array(positions, mask=positions < 0))


def _is_digit(matrix: np.ndarray) -> np.ndarray:
    return (matrix >= _ZERO) & (matrix <= _NINE)


def _number(digits: np.ndarray) -> np.ndarray:
    """The integer written by each row of a matrix of ASCII digits."""
    total = np.zeros(len(digits), dtype=np.int64)
    for position in range(digits.shape[1]):
        total = total * 10 + (digits[:, position] - _ZERO)
    return total


def _check_characters(body: np.ndarray) -> np.ndarray:
    """The ISO 7064 MOD 11-2 check character (as a byte) of each row of 17 ASCII digits."""
    total = np.zeros(len(body), dtype=np.int64)
    for position, weight in enumerate(_WEIGHTS):
        total += (body[:, position] - _ZERO).astype(np.int64) * weight
    return _CHECK[total % 11]


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _real_dates(yyyymmdd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(days, real)`` for an (n, 8) matrix of digits: days since 1970-01-01 (Arrow's date32)
    and whether each is a real date. Civil-to-days arithmetic after H. Hinnant,
    "chrono-Compatible Low-Level Date Algorithms" (days_from_civil), in integer numpy."""
    year, month, day = _number(yyyymmdd[:, :4]), _number(yyyymmdd[:, 4:6]), _number(yyyymmdd[:, 6:])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    real = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    month = np.where(real, month, 1)
    real &= day <= _DAYS_IN_MONTH[month] + ((month == 2) & leap)
    shifted_year = year - (month <= 2)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468, real


def _precision_lost(ids: pa.Array, candidates: np.ndarray, from_number: np.ndarray) -> np.ndarray:
    """IDs a float has been through: scientific notation or a ``.0`` tail (looked for among the
    ``candidates`` only, the cells that are no well-formed ID), or 16+ digits in a number cell."""
    lost = np.zeros(len(ids), dtype=bool)
    if candidates.any():
        texts = ids.filter(pa.array(candidates))
        floats = pc.or_(pc.match_substring_regex(texts, _SCIENTIFIC), pc.match_substring_regex(texts, _FLOAT_TAIL))
        lost[candidates] = pc.fill_null(floats, False).to_numpy(zero_copy_only=False)
    if from_number.any():
        numbers = ids.filter(pa.array(from_number))
        long_digits = pc.and_(pc.ascii_is_decimal(numbers), pc.greater_equal(pc.binary_length(numbers), 16))
        lost[from_number] |= pc.fill_null(long_digits, False).to_numpy(zero_copy_only=False)
    return lost


def normalise_resident_ids(column: pd.Series, kinds: pd.Series | None = None) -> NormalisedIds:
    """Validate resident IDs, upgrade 15-digit ones, decode birth date and sex (module docstring).

    ``kinds`` says which cells the file stored as numbers (``"n"``); full-width characters, a
    lower-case ``x`` and spreadsheet text markers (``'3205...``, ``="3205..."``) are accepted.
    """
    ids = pc.utf8_trim_whitespace(halfwidth(arrow_text(column)))
    quoted = pc.fill_null(pc.or_(pc.starts_with(ids, "'"), pc.starts_with(ids, "=")), False)
    if pc.any(quoted).as_py():
        unwrapped = pc.replace_substring_regex(ids.filter(quoted), r'^(?:=\s*"(.*)"|\'(.*))$', r"\1\2")
        ids = pc.replace_with_mask(ids, quoted, unwrapped)
    size = len(ids)
    byte_length = pc.fill_null(pc.binary_length(ids), 0).to_numpy(zero_copy_only=False)
    body = np.zeros((size, 17), dtype=np.uint8)  # the 17 digits before the check character
    given = np.zeros(size, dtype=np.uint8)       # the check character as written (0: none)
    long_form = byte_length == 18
    long_rows = _byte_matrix(ids.filter(pa.array(long_form)), 18)
    last = np.where(long_rows[:, 17] == _LOWER_X, _UPPER_X, long_rows[:, 17])
    long_ok = _is_digit(long_rows[:, :17]).all(axis=1) & (_is_digit(last) | (last == _UPPER_X))
    body[long_form], given[long_form] = long_rows[:, :17], last
    long_form[long_form] = long_ok
    short_form = byte_length == 15
    short_rows = _byte_matrix(ids.filter(pa.array(short_form)), 15)
    short_ok = _is_digit(short_rows).all(axis=1)
    century = np.broadcast_to(_CENTURY, (len(short_rows), 2))
    body[short_form] = np.hstack([short_rows[:, :6], century, short_rows[:, 6:]])
    short_form[short_form] = short_ok

    present = pc.is_valid(ids).to_numpy(zero_copy_only=False)
    from_number = np.zeros(size, dtype=bool) if kinds is None else equals(arrow_text(kinds), "n")
    lost = _precision_lost(ids, present & ~(long_form | short_form), from_number & present)
    long_form &= ~lost
    short_form &= ~lost
    well_formed = long_form | short_form
    rows = body[well_formed]
    check = _check_characters(rows)
    check_ok = np.where(long_form[well_formed], given[well_formed] == check, True)
    days, real = _real_dates(rows[:, 6:14])
    good = check_ok & real
    valid = well_formed.copy()
    valid[well_formed] = good

    full = np.hstack([rows[good], check[good][:, None]])
    dates = pa.array(days[good].astype(np.int32), pa.int32()).cast(pa.date32())
    sexes = _SEXES.take(pa.array((rows[good, 16] - _ZERO) % 2, pa.uint8()))
    reason_index = np.where(lost, 2, np.where(present & ~valid, 1, 0)).astype(np.int8)
    reasons = _ID_REASONS.take(pa.array(reason_index))
    index = column.index
    return NormalisedIds(
        to_series(_scatter(_strings(full), valid), pa.string(), index),
        to_series(reasons, pa.string(), index),
        to_series(_scatter(dates, valid), pa.date32(), index),
        to_series(_scatter(sexes, valid), pa.string(), index),
    )
