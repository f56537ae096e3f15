"""Small run directories for the indicators tests, built with fpstat.rundir.RunDir."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from fpstat.rundir import RunDir

RECORD_TYPES: dict[str, pa.DataType] = {
    "role": pa.string(),
    "record_id": pa.string(),
    "child_pid": pa.string(),
    "sex": pa.string(),
    "birth_date": pa.date32(),
    "mother_pid": pa.string(),
    "father_pid": pa.string(),
    "area_code": pa.string(),
    "area_name": pa.string(),
    "birth_order": pa.int64(),
    "within_policy": pa.bool_(),
    "registered_on": pa.date32(),
    "migrant": pa.bool_(),
    "child_id_birth_date": pa.date32(),
    "child_id_sex": pa.string(),
    "source_file": pa.string(),
    "source_sheet": pa.string(),
    "source_row": pa.int64(),
}
COUNT_TYPES: dict[str, pa.DataType] = {
    "role": pa.string(),
    "area_code": pa.string(),
    "area_name": pa.string(),
    "period": pa.string(),
    **{
        name: pa.int64()
        for name in (
            "population",
            "population_mean",
            "births",
            "births_male",
            "births_female",
            "births_within_policy",
            "deaths",
            "women_15_49",
            "married_women_15_49",
            "contraceptive_users",
            "births_order_1",
            "births_order_2",
            "births_order_3plus",
            "birth_defects",
            "migrant_women",
            "migrant_women_registered",
        )
    },
    "source_file": pa.string(),
    "source_sheet": pa.string(),
    "source_row": pa.int64(),
}

#: A county, two townships, villages under them.
COUNTY = "320102000000"
TOWN_A = "320102001000"
TOWN_B = "320102002000"
VILLAGE_A1 = "320102001001"
VILLAGE_A2 = "320102001002"
VILLAGE_B1 = "320102002001"


def birth(
    role: str,
    record_id: str,
    sex: str,
    birth_date: str,
    area_code: str,
    *,
    order: int | None = None,
    within_policy: bool | None = None,
    registered_on: str | None = None,
    area_name: str | None = None,
    row: int = 0,
) -> dict[str, Any]:
    """One normalised, pseudonymised record."""
    return {
        "role": role,
        "record_id": record_id,
        "child_pid": None,
        "sex": sex,
        "birth_date": dt.date.fromisoformat(birth_date),
        "mother_pid": None,
        "father_pid": None,
        "area_code": area_code,
        "area_name": area_name,
        "birth_order": order,
        "within_policy": within_policy,
        "registered_on": dt.date.fromisoformat(registered_on) if registered_on else None,
        "migrant": None,
        "child_id_birth_date": None,
        "child_id_sex": None,
        "source_file": f"{role}.xlsx",
        "source_sheet": "Sheet1",
        "source_row": row,
    }


def many(role: str, prefix: str, count: int, **fields: Any) -> list[dict[str, Any]]:
    """``count`` records sharing ``fields`` (sex, birth_date, area_code ...)."""
    sex, birth_date, area_code = (
        fields.pop("sex"),
        fields.pop("birth_date"),
        fields.pop("area_code"),
    )
    return [
        birth(role, f"{prefix}{i:05d}", sex, birth_date, area_code, row=i + 2, **fields)
        for i in range(count)
    ]


def table_row(role: str, area_code: str, period: str, **counts: int) -> dict[str, Any]:
    """One normalised count-table row."""
    row: dict[str, Any] = {name: None for name in COUNT_TYPES}
    row.update(
        role=role,
        area_code=area_code,
        period=period,
        source_file=f"{role}.xlsx",
        source_sheet="年报",
    )
    row.update(counts)
    return row


def make_run(
    path: Path,
    *,
    records: list[dict[str, Any]] | None = None,
    duplicates: set[tuple[str, str]] | None = None,
    tables: list[dict[str, Any]] | None = None,
    completeness: pd.DataFrame | None = None,
    sex_disagreements: pd.DataFrame | None = None,
    period: str = "year",
) -> RunDir:
    """A run directory as reconcile writes it; ``duplicates`` are (role, record_id) marked so."""
    run = RunDir(path)
    run.manifest.parameters["period"] = period
    if records is not None:
        frame = pa.Table.from_pylist(records, schema=pa.schema(RECORD_TYPES))
        run.write_parquet("records.parquet", frame)
        duplicates = duplicates or set()
        links = pa.table(
            {
                "cluster_id": [f"c{i}" for i in range(len(records))],
                "role": [r["role"] for r in records],
                "record_id": [r["record_id"] for r in records],
                "rule": ["exact"] * len(records),
                "match_probability": [1.0] * len(records),
                "is_duplicate": [(r["role"], r["record_id"]) in duplicates for r in records],
            }
        )
        run.write_parquet("links.parquet", links)
    if tables is not None:
        for index, row in enumerate(tables):
            row["source_row"] = index + 2
        run.write_parquet(
            "tables.parquet", pa.Table.from_pylist(tables, schema=pa.schema(COUNT_TYPES))
        )
    if completeness is not None:
        run.write_csv("completeness.csv", completeness)
    if sex_disagreements is not None:
        run.write_csv("sex_disagreements.csv", sex_disagreements)
    run.save_manifest()
    return run


def rows_of(table: pd.DataFrame, indicator: str, **where: str) -> pd.DataFrame:
    """Rows of one indicator matching column values."""
    mask = table["indicator"] == indicator
    for column, value in where.items():
        mask &= table[column] == value
    return table.loc[mask]


def one(table: pd.DataFrame, indicator: str, **where: str) -> pd.Series:
    """The single row of one indicator matching column values."""
    found = rows_of(table, indicator, **where)
    assert len(found) == 1, f"{indicator} {where}: {len(found)} rows"
    return found.iloc[0]
