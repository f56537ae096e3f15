"""Figures at every level of the hierarchy, from count tables and from records.

Count tables (report, population, count-form sources) hold rows at whatever level the office
reported. :func:`table_hierarchy` keeps each reported row and adds, for every coarser area with
no row of its own, the sum of the finest reported rows inside it (``reported`` false, ``parts``
= how many rows were summed). A sum is blank when any of its parts is blank: a partial sum
would look like a real figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpstat.schema.areas import LEVEL_NAMES, ancestor, ancestors_series, depth, level_of
from fpstat.schema.periods import period_kind, period_of

TABLE_KEYS = ["role", "period", "area_code"]


def floats(values: pd.Series) -> pd.Series:
    """Numbers of a column read from CSV as float64 (NaN where blank or not a number)."""
    numbers = pd.to_numeric(values.astype("string"), errors="coerce")
    return pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=values.index)


def with_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``level`` and ``depth`` columns from its 12-digit ``area_code``."""
    result = frame.copy()
    levels = {code: level_of(code) for code in result["area_code"].dropna().unique()}
    result["level"] = result["area_code"].map(levels).astype("string")
    result["depth"] = (
        result["level"].map({name: i for i, name in enumerate(LEVEL_NAMES)}).astype("int64")
    )
    return result


def reported_rows(tables: pd.DataFrame) -> pd.DataFrame:
    """One row per role, period and area (the first in file/sheet/row order), with levels."""
    ordered = tables.sort_values(
        [*TABLE_KEYS, "source_file", "source_sheet", "source_row"],
        kind="mergesort",
        na_position="last",
    )
    return with_levels(ordered.drop_duplicates(TABLE_KEYS).reset_index(drop=True))


def table_hierarchy(tables: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """Rows at every level: as reported where there is a row, else the sum of the finest rows.

    Returns ``role, period, level, area_code, <values>, reported, parts``.
    """
    rows = reported_rows(tables)
    columns = [*TABLE_KEYS, "level", *values, "reported", "parts"]
    if rows.empty:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in columns})
    rows["reported"] = True
    rows["parts"] = 1
    finest_depth = rows.groupby(["role", "period"])["depth"].transform("max")
    finest = rows[rows["depth"] == finest_depth]
    pieces = [rows[columns]]
    for level in LEVEL_NAMES:
        deeper = finest[finest["depth"] > depth(level)].copy()
        if deeper.empty:
            continue
        deeper["area_code"] = ancestors_series(deeper["area_code"].astype("string"), level)
        grouped = deeper.groupby(TABLE_KEYS, sort=True)
        sums = grouped[values].sum(min_count=1)
        complete = grouped[values].count().eq(grouped.size(), axis=0)
        sums = sums.where(complete)
        sums["parts"] = grouped.size()
        sums = sums.reset_index()
        sums["level"] = level
        sums["reported"] = False
        pieces.append(sums[columns])
    combined = pd.concat(pieces, ignore_index=True)
    combined = combined.sort_values([*TABLE_KEYS, "reported"], ascending=[True, True, True, False])
    combined = combined.drop_duplicates(TABLE_KEYS)  # a reported row wins over a sum
    combined["level"] = combined["level"].astype("string")
    return combined.sort_values(["role", "period", "level", "area_code"]).reset_index(drop=True)


def records_sex_counts(monthly: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Record-level births by role, period of ``kind``, level and area (births, male, female)."""
    if monthly.empty:
        return pd.DataFrame(
            columns=["source", "period", "level", "area_code", "births", "male", "female"]
        )
    months = pd.Series(pd.unique(monthly["month"].astype(str)))
    first_days = pd.to_datetime(months + "-01")
    month_to_period = dict(zip(months, period_of(first_days, kind).astype(str), strict=True))
    frame = monthly.assign(period=monthly["month"].astype(str).map(month_to_period))
    grouped = frame.groupby(["role", "period", "level", "area_code"], sort=True)[
        ["births", "male", "female"]
    ].sum()
    return grouped.reset_index().rename(columns={"role": "source"})


def table_sex_counts(tables: pd.DataFrame, *, months: bool) -> pd.DataFrame:
    """Count-table boys and girls at every level, for month periods or for the other periods."""
    kinds = tables["period"].astype(str).map(period_kind)
    chosen = tables[(kinds == "month") if months else (kinds != "month")]
    chosen = chosen[chosen["births_male"].notna() & chosen["births_female"].notna()]
    levels = table_hierarchy(chosen, ["births_male", "births_female"])
    levels = levels.dropna(subset=["births_male", "births_female"])
    return pd.DataFrame(
        {
            "source": levels["role"].astype(str),
            "period": levels["period"].astype(str),
            "level": levels["level"].astype(str),
            "area_code": levels["area_code"].astype(str),
            "male": levels["births_male"].astype(np.int64),
            "female": levels["births_female"].astype(np.int64),
            "reported": levels["reported"].astype(bool),
            "parts": levels["parts"].astype(np.int64),
        }
    )


def parent_of(code: str, level: str) -> str:
    """The code of the area one level up, ``""`` for a province."""
    index = LEVEL_NAMES.index(level)
    return "" if index == 0 else ancestor(code, LEVEL_NAMES[index - 1])
