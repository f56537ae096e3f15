"""Small in-memory drops for the reconcile tests: known births, sources that capture some.

Each birth has a child ID, a mother ID and names; each source holds a known subset of births
(independent captures with fixed probabilities, lower for girls), so tests know exactly which
births the planning register lacks. Tables have the normalised record-table columns.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from fpstat.schema import LoadResult, empty_counts, empty_records
from fpstat.schema.fields import RECORD_COLUMNS

VILLAGES = (
    "320581101201", "320581101202", "320581102201", "320582100201", "320582100202",
    "320582103201",
)
PREFIX = {"planning": "JS", "police": "GA", "census": "PC", "hospital": "CS", "education": "JY"}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉"


def _id(rng: np.random.Generator, count: int, first: str) -> list[str]:
    numbers = rng.choice(10**11, size=count, replace=False)
    return [f"{first}{n:011d}X" for n in numbers]


def _names(rng: np.random.Generator, count: int) -> list[str]:
    return [
        _SURNAMES[rng.integers(len(_SURNAMES))] + _GIVEN[rng.integers(len(_GIVEN))]
        + _GIVEN[rng.integers(len(_GIVEN))]
        for _ in range(count)
    ]


def true_births(count: int, seed: int) -> pd.DataFrame:
    """One row per true birth in two statistical years (2024SY, 2025SY)."""
    rng = np.random.default_rng(seed)
    start = dt.date(2023, 10, 1)
    return pd.DataFrame({
        "birth_uid": [f"B{n:06d}" for n in range(count)],
        "child_id": _id(rng, count, "320581"),
        "child_name": _names(rng, count),
        "sex": np.where(rng.random(count) < 0.52, "M", "F"),
        "birth_date": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 730, count)],
        "mother_id": _id(rng, count, "320582"),
        "mother_name": _names(rng, count),
        "area_code": rng.choice(VILLAGES, count),
        "birth_order": rng.choice([1, 2, 3], count, p=[0.5, 0.38, 0.12]),
        "within_policy": rng.random(count) < 0.9,
        "migrant": rng.random(count) < 0.1,
    })


def capture(births: pd.DataFrame, probabilities: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Which births each source holds: independent draws, girls 5 points less often."""
    rng = np.random.default_rng(seed)
    girl = births["sex"].to_numpy() == "F"
    return {role: rng.random(len(births)) < p - 0.05 * girl for role, p in probabilities.items()}


def source_table(births: pd.DataFrame, role: str, held: np.ndarray) -> pd.DataFrame:
    """The normalised record table of one source holding the births ``held``."""
    rows = births.loc[held].reset_index(drop=True)
    table = pd.DataFrame({column: pd.Series([None] * len(rows), dtype=object) for column in RECORD_COLUMNS})
    for column in ("child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
                   "area_code", "birth_order"):
        table[column] = rows[column].to_numpy()
    if role == "planning":
        table["within_policy"] = rows["within_policy"].to_numpy()
        table["migrant"] = rows["migrant"].to_numpy()
    table["role"] = role
    table["record_id"] = [f"{PREFIX[role]}{n:06d}" for n in range(1, len(rows) + 1)]
    table["source_file"] = f"{role}.csv"
    table["source_sheet"] = ""
    table["source_row"] = np.arange(2, len(rows) + 2)
    typed = empty_records()
    return pd.concat([typed, table.astype({c: typed[c].dtype for c in RECORD_COLUMNS})], ignore_index=True)


def small_drop(
    count: int = 1500,
    probabilities: dict[str, float] | None = None,
    seed: int = 7,
) -> tuple[LoadResult, pd.DataFrame, dict[str, np.ndarray]]:
    """A LoadResult with record tables, the true births, and what each source holds."""
    probabilities = probabilities or {"planning": 0.88, "police": 0.9, "hospital": 0.93}
    births = true_births(count, seed)
    held = capture(births, probabilities, seed + 1)
    records = {role: source_table(births, role, mask) for role, mask in held.items()}
    inputs = [
        {"path": f"{role}.csv", "sheet": "", "role": role, "rows_read": len(frame),
         "rows_accepted": len(frame), "rows_rejected": 0}
        for role, frame in records.items()
    ]
    return LoadResult(records=records, counts={}, inputs=inputs), births, held


def count_table(records: pd.DataFrame, role: str, period_kind: str = "sy", level_digits: int = 9) -> pd.DataFrame:
    """Aggregate a record table into a normalised count table (area x period x births)."""
    from fpstat.schema.periods import period_of

    frame = pd.DataFrame({
        "area_code": records["area_code"].astype(str).str.slice(0, level_digits).str.pad(12, side="right", fillchar="0"),
        "period": period_of(records["birth_date"], period_kind).astype(str),
        "male": (records["sex"] == "M").astype(int),
        "female": (records["sex"] == "F").astype(int),
    })
    grouped = frame.groupby(["area_code", "period"], as_index=False).agg(
        births_male=("male", "sum"), births_female=("female", "sum")
    )
    grouped["births"] = grouped["births_male"] + grouped["births_female"]
    typed = empty_counts()
    table = pd.DataFrame({column: pd.Series([None] * len(grouped), dtype=object) for column in typed.columns})
    for column in ("area_code", "period", "births", "births_male", "births_female"):
        table[column] = grouped[column].to_numpy()
    table["role"] = role
    table["source_file"] = f"{role}_counts.xlsx"
    table["source_sheet"] = "Sheet1"
    table["source_row"] = np.arange(2, len(grouped) + 2)
    return pd.concat([typed, table.astype({c: typed[c].dtype for c in typed.columns})], ignore_index=True)
