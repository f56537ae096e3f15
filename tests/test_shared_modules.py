"""The modules beside the stages: areas, periods, privacy, run directory, engine."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpstat.engine import Engine
from fpstat.privacy import key_fingerprint, mask_id, mask_name, mask_value, pseudonymise
from fpstat.rundir import RunDir, csv_bytes, write_private_xlsx
from fpstat.schema.areas import ancestor, expand_to_levels, level_of, pad_area_code
from fpstat.schema.periods import (
    parse_period,
    period_bounds,
    period_kind,
    period_of,
    periods_within,
    sy_window,
)


def test_area_codes_pad_and_levels():
    """6- and 9-digit codes are right-padded; a code's level is its deepest non-zero part."""
    assert pad_area_code("320581") == "320581000000"
    assert pad_area_code(" 320581101 ") == "320581101000"
    assert pad_area_code("3205811012") is None
    assert pad_area_code("32058110120X") is None
    assert level_of("320000000000") == "province"
    assert level_of("320500000000") == "prefecture"
    assert level_of("320581000000") == "county"
    assert level_of("320581101000") == "township"
    assert level_of("320581101203") == "village"
    assert ancestor("320581101203", "county") == "320581000000"


def test_expand_to_levels_never_invents_deeper_areas():
    """A township-level row rolls up to county but produces no village row."""
    frame = pd.DataFrame({"area_code": ["320581101203", "320581102000"], "births": [3, 4]})
    expanded = expand_to_levels(frame)
    assert set(expanded.loc[expanded.level == "village", "area_code"]) == {"320581101203"}
    county = expanded[expanded.level == "county"]
    assert county.births.sum() == 7 and set(county.area_code) == {"320581000000"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", "2024"), ("2024年", "2024"), ("2024年度", "2024"), (2024.0, "2024"),
        ("2024SY", "2024SY"), ("2024统计年度", "2024SY"), ("2024-Q1", "2024-Q1"),
        ("2024Q3", "2024-Q3"), ("2024年第二季度", "2024-Q2"), ("2024-03", "2024-03"),
        ("2024年3月", "2024-03"), ("2024/3", "2024-03"), ("202403", "2024-03"),
        ("２０２４年３月", "2024-03"), ("2024-13", None), ("abc", None), (None, None),
    ],
)
def test_parse_period_accepts_what_report_tables_write(text, expected):
    """Every period form of the data contract maps to its canonical string."""
    assert parse_period(text) == expected


def test_statistical_year_runs_october_to_september():
    """2024SY is 1 October 2023 to 30 September 2024 (family-planning convention)."""
    assert period_bounds("2024SY") == (dt.date(2023, 10, 1), dt.date(2024, 9, 30))
    assert periods_within("2024SY", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"]
    assert sy_window("2025SY", 3) == ["2023SY", "2024SY", "2025SY"]
    assert period_kind("2024-Q2") == "quarter" and period_kind("2024-02") == "month"


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_every_date_lies_in_its_period(day):
    """For every kind, a date falls within the bounds of the period assigned to it."""
    for kind in ("year", "sy", "quarter", "month"):
        period = period_of(pd.Series([day]), kind).iloc[0]
        start, end = period_bounds(period)
        assert start <= day <= end
        assert parse_period(period) == period


def test_pseudonyms_are_keyed_and_stable():
    """Same key, same pseudonym; another key, another; nulls stay null."""
    ids = pd.Series(["11010519491231002X", None, "11010519491231002X"], dtype="string")
    first = pseudonymise(ids, b"k1")
    assert first.iloc[0] == first.iloc[2] and pd.isna(first.iloc[1])
    assert "1949" not in first.iloc[0]
    assert pseudonymise(ids, b"k2").iloc[0] != first.iloc[0]
    assert key_fingerprint(b"k1") != key_fingerprint(b"k2")


def test_masking_hides_names_and_id_bodies():
    """Names keep only the surname character; IDs keep area prefix and last four."""
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_value("sex", "男") == "男"
    assert mask_value("mother_name", "王静") == "王*"


def test_csv_has_bom_and_neutralised_formulas():
    """CSV output opens correctly in Excel and cannot run formulas."""
    data = csv_bytes(pd.DataFrame({"a": ["=HYPERLINK(1)", "-12", "@x", "张"]}))
    assert data.startswith("\ufeff".encode())
    assert b"'=HYPERLINK(1)" in data and b"\n-12\n" in data and b"'@x" in data


def test_run_dir_writes_atomically_and_keeps_manifest(tmp_path):
    """Outputs are recorded in the manifest with their hash; reopening keeps it."""
    run = RunDir(tmp_path / "run")
    run.write_json("findings.json", {"findings": []})
    run.manifest.parameters["period"] = "sy"
    run.save_manifest()
    again = RunDir(tmp_path / "run")
    assert again.manifest.parameters == {"period": "sy"}
    assert "findings.json" in again.manifest.outputs
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]
    run.log("reconcile.done", rows=3)
    assert json.loads((tmp_path / "run" / "fpstat.log").read_text().splitlines()[0])["rows"] == 3


def test_private_workbook_is_owner_only(tmp_path):
    """Record-level personal data is written 0600."""
    path = write_private_xlsx(tmp_path / "records.xlsx", {"births": pd.DataFrame({"a": ["x"]})})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_engine_returns_arrow_backed_frames():
    """SQL runs in DuckDB over registered frames and returns Arrow dtypes."""
    with Engine() as engine:
        engine.register("t", pd.DataFrame({"code": ["1", "1", "2"]}))
        result = engine.frame("SELECT code, count(*) AS n FROM t GROUP BY code ORDER BY code")
    assert result["code"].tolist() == ["1", "2"] and result["n"].tolist() == [2, 1]
