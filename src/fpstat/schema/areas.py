"""The 12-digit statistical area code hierarchy (统计用区划代码).

A code is province (2 digits) + prefecture (2) + county (2) + township (3) + village (3).
Shorter codes (6-digit county codes of GB/T 2260, 9-digit township codes) are right-padded
with zeros to 12 digits, as the National Bureau of Statistics publishes them. A code's level is
the deepest part that is not all zeros.
"""

from __future__ import annotations

import re

import pandas as pd

#: Levels from the top, with the number of significant digits of each.
LEVELS: tuple[tuple[str, int], ...] = (
    ("province", 2),
    ("prefecture", 4),
    ("county", 6),
    ("township", 9),
    ("village", 12),
)
LEVEL_NAMES: tuple[str, ...] = tuple(name for name, _ in LEVELS)
LEVEL_DIGITS: dict[str, int] = dict(LEVELS)
LEVEL_ZH: dict[str, str] = {
    "province": "省",
    "prefecture": "地市",
    "county": "县区",
    "township": "乡镇街道",
    "village": "村居",
}

_VALID_LENGTHS = (2, 4, 6, 9, 12)
_DIGITS = re.compile(r"^\d+$")


def pad_area_code(text: str | None) -> str | None:
    """Return the 12-digit form of an area code, or ``None`` if it is not one.

    Accepts 2-, 4-, 6-, 9- and 12-digit codes (surrounding spaces ignored); anything else,
    including codes with letters or a ``.0`` float tail, is not an area code.
    """
    if text is None:
        return None
    code = str(text).strip()
    if not _DIGITS.match(code) or len(code) not in _VALID_LENGTHS:
        return None
    return code.ljust(12, "0")


def level_of(code: str) -> str:
    """The level of a 12-digit code: the deepest part that is not all zeros."""
    if len(code) != 12:
        raise ValueError("area codes must be padded to 12 digits first")
    level = "province"
    start = 0
    for name, digits in LEVELS:
        if code[start:digits].strip("0"):
            level = name
        start = digits
    return level


def ancestor(code: str, level: str) -> str:
    """The 12-digit code of ``code``'s ancestor at ``level`` (itself if already there)."""
    digits = LEVEL_DIGITS[level]
    return code[:digits].ljust(12, "0")


def depth(level: str) -> int:
    """0 for province ... 4 for village."""
    return LEVEL_NAMES.index(level)


def ancestors_series(codes: pd.Series, level: str) -> pd.Series:
    """Vectorised :func:`ancestor` over a Series of 12-digit codes."""
    digits = LEVEL_DIGITS[level]
    return codes.str.slice(0, digits).str.pad(12, side="right", fillchar="0")


def expand_to_levels(
    frame: pd.DataFrame,
    code_column: str = "area_code",
    *,
    deepest: str = "village",
) -> pd.DataFrame:
    """One copy of ``frame`` per level from province down to ``deepest``, stacked.

    Each copy has ``code_column`` replaced by the ancestor code at that level and a ``level``
    column. Rows whose own code is coarser than a level (a township-level row has no village)
    are left out of the deeper copies, so a roll-up never invents a village.
    """
    own_depth = frame[code_column].map(lambda c: depth(level_of(c)) if isinstance(c, str) else -1)
    pieces = []
    for name in LEVEL_NAMES[: depth(deepest) + 1]:
        keep = own_depth >= depth(name)
        piece = frame.loc[keep].copy()
        piece[code_column] = ancestors_series(piece[code_column], name)
        piece["level"] = name
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)
