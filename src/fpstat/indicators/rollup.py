"""Roll-ups over the area hierarchy and over statistical-year windows.

Counts are summed and the indicator computed afterwards from the summed numerator and
denominator: a county's rate is never the average of its townships' rates. A missing count
(NaN) makes its sum missing too, so a partial sum is never passed off as a total.

Count frames have columns ``source, area_code, period`` plus count fields (float64, NaN for
missing); rolled-up frames add ``level``. The whole drop is level ``all`` with an empty
``area_code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fpstat.engine import Engine
from fpstat.engine.sql_indicators import rollup_counts_sql
from fpstat.schema.areas import LEVEL_DIGITS, LEVEL_NAMES, level_of

ALL_LEVEL = "all"
#: Levels in output order: the whole drop, then province down to village.
LEVEL_ORDER: dict[str, int] = {ALL_LEVEL: 0, **{name: i + 1 for i, name in enumerate(LEVEL_NAMES)}}


def null_sum(frame: pd.DataFrame, keys: Sequence[str], fields: Sequence[str]) -> pd.DataFrame:
    """Group by ``keys`` and sum ``fields``; a group with any missing value sums to NaN."""
    fields = list(fields)
    if frame.empty:
        return pd.DataFrame(columns=[*keys, *fields])
    grouped = frame.groupby(list(keys), sort=True, dropna=False)
    sums = grouped[fields].sum(min_count=1)
    missing = frame[fields].isna().groupby([frame[k] for k in keys], sort=True, dropna=False).sum()
    return sums.mask(missing > 0).reset_index()


def valid_codes(frame: pd.DataFrame) -> pd.Series:
    """Rows whose ``area_code`` is a 12-digit code (others cannot be placed in the hierarchy)."""
    codes = frame["area_code"].astype("string")
    return codes.str.fullmatch(r"\d{12}").fillna(False).astype(bool)


def rollup_additive(
    frame: pd.DataFrame, fields: Sequence[str], *, engine: Engine | None = None
) -> pd.DataFrame:
    """Sum counts made from records up every level (a record at township level counts in
    its township and above, never in a village), plus the whole drop; run in the engine."""
    fields = list(fields)
    owned = engine is None
    engine = engine or Engine()
    try:
        engine.register("counts", frame[["source", "period", "area_code", *fields]])
        result = engine.frame(rollup_counts_sql(fields))
        engine.unregister("counts")
    finally:
        if owned:
            engine.close()
    for column in ("source", "period", "level", "area_code"):
        result[column] = result[column].astype(str).astype(object)
    for column in fields:
        result[column] = result[column].astype("float64")
    return result


def rollup_reported(
    frame: pd.DataFrame, fields: Sequence[str], *, notes: list[str] | None = None
) -> pd.DataFrame:
    """Roll reported rows (one per area and period) up the hierarchy, bottom-up.

    An area's figure for each count is its own row's where the table gives one (what was
    reported for it), else the sum of its children's figures (own or summed), level by level.
    So a county that reported its own total keeps it, a township that did not is the sum of
    its villages, and a county row giving only its population takes its births from its
    townships.
    A sum is missing (NaN) when a child area that the source reports in other periods is
    absent from this one: a partial sum is not a total. (Tables are small, one row per area
    and period, so this runs on plain dictionaries; NaN propagates through the sums.)
    """
    fields = list(fields)
    frame = frame.loc[valid_codes(frame)]
    values = frame[fields].to_numpy(dtype="float64", na_value=np.nan)
    own: dict[str, dict[tuple[str, str, str], np.ndarray]] = {name: {} for name in LEVEL_NAMES}
    for (source, period, code), row in zip(
        zip(
            frame["source"].astype(str),
            frame["period"].astype(str),
            frame["area_code"].astype(str),
            strict=True,
        ),
        values,
        strict=True,
    ):
        own[level_of(code)][(source, period, code)] = row
    levels: dict[str, dict[tuple[str, str, str], np.ndarray]] = {}
    below: dict[tuple[str, str, str], np.ndarray] = {}
    partial = 0
    for level in reversed(LEVEL_NAMES):
        digits = LEVEL_DIGITS[level]
        sums: dict[tuple[str, str, str], np.ndarray] = {}
        present: dict[tuple[str, str, str], int] = {}
        children: dict[tuple[str, str], set[str]] = {}
        for (source, period, code), row in below.items():
            parent = code[:digits].ljust(12, "0")
            key = (source, period, parent)
            sums[key] = sums[key] + row if key in sums else row.copy()
            present[key] = present.get(key, 0) + 1
            children.setdefault((source, parent), set()).add(code)
        current = dict(own[level])
        for key, row in sums.items():
            if present[key] < len(children[(key[0], key[2])]):
                row = np.full(len(fields), np.nan)
                partial += key not in current
            if key in current:
                # The area's own figures win; a count its row leaves blank is its children's.
                reported = current[key]
                current[key] = np.where(np.isnan(reported), row, reported)
            else:
                current[key] = row
        levels[level] = current
        below = current
    if partial and notes is not None:
        notes.append(
            f"{partial} area-period sum(s) of count tables are left out because a sub-area "
            "reported in other periods is missing from them"
        )
    whole: dict[tuple[str, str], np.ndarray] = {}
    for (source, period, _code), row in levels[LEVEL_NAMES[0]].items():
        whole[(source, period)] = (
            whole[(source, period)] + row if (source, period) in whole else row.copy()
        )
    records = [
        (source, period, ALL_LEVEL, "", row) for (source, period), row in sorted(whole.items())
    ]
    for level in LEVEL_NAMES:
        records += [(s, p, level, c, row) for (s, p, c), row in sorted(levels[level].items())]
    result = pd.DataFrame(
        [r[:4] for r in records], columns=["source", "period", "level", "area_code"], dtype=object
    )
    numbers = np.vstack([r[4] for r in records]) if records else np.empty((0, len(fields)))
    for index, name in enumerate(fields):
        result[name] = numbers[:, index]
    return result


def _shift_sy(period: pd.Series, years: int) -> pd.Series:
    return (period.str.slice(0, 4).astype(int) + years).astype(str) + "SY"


def sy_windows(
    frame: pd.DataFrame,
    fields: Sequence[str],
    years: int,
    *,
    covered: Mapping[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Sums over the ``years`` statistical years ending with each period (``sy_window``).

    ``frame`` holds statistical-year rows (``YYYYSY``), rolled up (with ``level``).
    With ``covered`` (source -> statistical years the source has data for; record sources),
    a window is kept when every year in it is covered, and an area without a row in a year
    counts zero for it. Without ``covered`` (reported tables), a window is kept for an area
    only when that area has a row for every year of it.
    """
    keys = ["source", "level", "area_code", "period"]
    shifted = pd.concat(
        [frame.assign(period=_shift_sy(frame["period"], offset)) for offset in range(years)],
        ignore_index=True,
    )
    members = shifted.groupby(keys, sort=True, dropna=False).size().rename("members")
    sums = null_sum(shifted, keys, fields).merge(members.reset_index(), on=keys)
    if covered is None:
        sums = sums.loc[(sums["members"] == years) & sums[list(fields)].notna().any(axis=1)]
    else:

        def window_covered(row_source: str, row_period: str) -> bool:
            have = covered.get(row_source, set())
            last = int(row_period[:4])
            return all(f"{year}SY" in have for year in range(last - years + 1, last + 1))

        pairs = sums[["source", "period"]].drop_duplicates()
        pairs["keep"] = [
            window_covered(s, p) for s, p in zip(pairs["source"], pairs["period"], strict=True)
        ]
        sums = sums.merge(pairs, on=["source", "period"])
        sums = sums.loc[sums["keep"]].drop(columns="keep")
    return sums.drop(columns="members").reset_index(drop=True)
