"""Builders of small run directories for the audit tests (the formats of docs/internals.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpstat.rundir import RunDir

COUNTY = "320581000000"
TOWNSHIPS = [f"320581{100 + i:03d}000" for i in range(1, 13)]

RECORD_DEFAULTS: dict[str, Any] = {
    "role": "planning",
    "record_id": None,
    "child_pid": None,
    "mother_pid": None,
    "father_pid": None,
    "sex": "M",
    "birth_date": dt.date(2024, 3, 1),
    "area_code": TOWNSHIPS[0],
    "area_name": None,
    "birth_order": 1,
    "within_policy": True,
    "registered_on": None,
    "migrant": False,
    "child_id_birth_date": None,
    "child_id_sex": None,
    "source_file": "planning.xlsx",
    "source_sheet": "Sheet1",
    "source_row": None,
}
TABLE_COUNTS = (
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


def records_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Normalised records: every column present, record ids and rows numbered when not given."""
    filled = []
    for index, row in enumerate(rows):
        record = {**RECORD_DEFAULTS, **row}
        record["record_id"] = record["record_id"] or f"{record['role']}-{index:06d}"
        record["source_row"] = record["source_row"] or index + 3
        filled.append(record)
    frame = pd.DataFrame(filled, columns=list(RECORD_DEFAULTS))
    for column in ("birth_date", "registered_on", "child_id_birth_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    frame["birth_order"] = frame["birth_order"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def table_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A normalised count table: role, area_code, period and the count columns (blank if absent)."""
    filled = []
    for index, row in enumerate(rows):
        record = {
            "role": "report",
            "area_name": None,
            "source_file": "report.xlsx",
            "source_sheet": "年报",
            "source_row": index + 3,
            **{column: None for column in TABLE_COUNTS},
            **row,
        }
        filled.append(record)
    frame = pd.DataFrame(filled)
    for column in TABLE_COUNTS:
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return frame


def write_run(
    path: Path,
    *,
    records: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    tables: pd.DataFrame | None = None,
    completeness: pd.DataFrame | None = None,
    sex_disagreements: pd.DataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    rejects: pd.DataFrame | None = None,
    inputs: list[dict[str, Any]] | None = None,
    period: str = "year",
) -> RunDir:
    """A run directory holding the given files (and a manifest with the period kind)."""
    run = RunDir(path)
    run.manifest.parameters["period"] = period
    if inputs is not None:
        run.manifest.inputs = inputs
    if records is not None:
        run.write_parquet("records.parquet", records)
    if links is not None:
        run.write_parquet("links.parquet", links)
    if tables is not None:
        run.write_parquet("tables.parquet", tables)
    for name, frame in (
        ("completeness.csv", completeness),
        ("sex_disagreements.csv", sex_disagreements),
        ("indicators.csv", indicators),
        ("rejects.csv", rejects),
    ):
        if frame is not None:
            run.write_csv(name, frame)
    run.save_manifest()
    return run


def monthly_sex_rows(
    area_code: str,
    months: list[str],
    births: Iterable[int],
    srb: float | Iterable[float],
    rng: np.random.Generator,
    role: str = "report",
) -> list[dict[str, Any]]:
    """Monthly count-table rows with binomial boys among ``births`` at the given SRB."""
    births = list(births)
    ratios = [srb] * len(births) if np.isscalar(srb) else list(srb)
    rows = []
    for month, n, ratio in zip(months, births, ratios, strict=True):
        boys = int(rng.binomial(n, ratio / (100.0 + ratio)))
        rows.append(
            {
                "role": role,
                "area_code": area_code,
                "period": month,
                "births": n,
                "births_male": boys,
                "births_female": n - boys,
            }
        )
    return rows


def months(first_year: int, count: int) -> list[str]:
    """``count`` canonical months from January of ``first_year``."""
    return [f"{first_year + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def township_codes(counties: int, per_county: int) -> list[str]:
    """Township codes spread over counties of two prefectures of one province."""
    codes = []
    for county in range(counties):
        prefecture = 1 + county % 2
        for township in range(per_county):
            codes.append(f"32{prefecture:02d}{county + 1:02d}{township + 1:03d}000")
    return codes
