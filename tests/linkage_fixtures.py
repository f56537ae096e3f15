"""Small synthetic record tables for the linkage tests (no other engineer's code involved)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = (
    "role", "record_id", "child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
    "father_id", "area_code", "area_name", "birth_order", "within_policy", "registered_on",
    "migrant", "source_file", "source_sheet", "source_row",
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉鑫宇浩然子轩涵梓萱欣怡一诺"


def resident_id(area6: str, born: dt.date, sequence: int) -> str:
    """A valid 18-character resident ID (GB 11643, ISO 7064 MOD 11-2 check character)."""
    body = f"{area6}{born:%Y%m%d}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def record(role: str, record_id: str, **fields: Any) -> dict[str, Any]:
    """One normalised record; unspecified fields are blank (area and date have defaults)."""
    row: dict[str, Any] = {column: None for column in COLUMNS}
    row.update(role=role, record_id=record_id, sex="M", birth_date=dt.date(2024, 3, 5),
               area_code="320581101201", source_file=f"{role}.xlsx", source_sheet="Sheet1")
    row.update(fields)
    return row


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A record table with the normalised dtypes; rows numbered 2, 3, ... unless given."""
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if table["source_row"].isna().any():
        table["source_row"] = range(2, len(table) + 2)
    strings = [c for c in COLUMNS if c not in ("birth_date", "registered_on", "birth_order",
                                               "within_policy", "migrant", "source_row")]
    table[strings] = table[strings].astype("string")
    table["birth_date"] = pd.to_datetime(table["birth_date"]).dt.date.astype("date32[pyarrow]")
    table["registered_on"] = pd.to_datetime(table["registered_on"]).astype("date32[pyarrow]")
    table["birth_order"] = table["birth_order"].astype("Int64")
    table["within_policy"] = table["within_policy"].astype("boolean")
    table["migrant"] = table["migrant"].astype("boolean")
    table["source_row"] = table["source_row"].astype("int64")
    return table


def population(births: int, seed: int) -> pd.DataFrame:
    """True births: mothers (some with two children), names, dates, villages, child IDs."""
    rng = np.random.default_rng(seed)
    rows = []
    used: set[str] = set()
    mother_count = max(1, int(births / 1.3))
    for index in range(births):
        mother = int(rng.integers(0, mother_count))
        mother_rng = np.random.default_rng([seed, mother])
        mother_born = dt.date(1985, 1, 1) + dt.timedelta(int(mother_rng.integers(0, 3650)))
        village = f"320581{101 + int(mother_rng.integers(0, 3)):03d}{201 + int(mother_rng.integers(0, 8)):03d}"
        mother_name = "".join(mother_rng.choice(list(SURNAMES), 1)) + "".join(mother_rng.choice(list(GIVEN), 2))
        surname = "".join(mother_rng.choice(list(SURNAMES), 1))
        born = dt.date(2023, 1, 1) + dt.timedelta(int(rng.integers(0, 730)))
        sex = "M" if rng.random() < 0.52 else "F"
        while True:
            sequence = int(rng.integers(0, 499)) * 2 + (1 if sex == "M" else 0)
            child_id = resident_id(village[:6], born, sequence)
            if child_id not in used:
                used.add(child_id)
                break
        rows.append({
            "birth": f"U{index:05d}",
            "child_id": child_id,
            "child_name": surname + "".join(rng.choice(list(GIVEN), int(rng.integers(1, 3)))),
            "sex": sex, "birth_date": born,
            "mother_id": resident_id(village[:6], mother_born, 2 * (mother % 400) + 2),
            "mother_name": mother_name, "area_code": village,
            "birth_order": int(rng.integers(1, 3)),
        })
    return pd.DataFrame(rows)


def source(births: pd.DataFrame, role: str, prefix: str, keep: dict[str, float], seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """One source's records of ``births``: fields kept with the given shares, others blank.

    Returns the record table and record_id -> true birth.
    """
    rng = np.random.default_rng([seed, sum(map(ord, role))])
    rows, truth = [], {}
    for number, birth in enumerate(births.itertuples(index=False)):
        fields = {}
        for field in ("child_id", "child_name", "mother_id", "mother_name", "birth_order"):
            fields[field] = getattr(birth, field) if rng.random() < keep.get(field, 1.0) else None
        record_id = f"{prefix}{number:05d}"
        rows.append(record(role, record_id, sex=birth.sex, birth_date=birth.birth_date,
                           area_code=birth.area_code, **fields))
        truth[record_id] = birth.birth
    return frame(rows), truth
