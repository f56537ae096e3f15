"""Integrity checks: srb.out_of_range, srb.volatile, threshold.heaping, digits.preference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from audit_fixtures import (
    COUNTY,
    TOWNSHIPS,
    monthly_sex_rows,
    months,
    records_frame,
    table_frame,
    write_run,
)

from fpstat.audit import run_audit

AS_OF = dt.date(2026, 6, 30)


def of(result, check):
    return [finding for finding in result.findings if finding.check == check]


def test_srb_out_of_range_needs_the_whole_interval_outside(tmp_path):
    """SRB 156 on 1,150 births is flagged; 113 on 100 births (wide interval) and 106 are not."""
    tables = table_frame(
        [
            {
                "area_code": TOWNSHIPS[0],
                "period": "2024",
                "births": 1150,
                "births_male": 700,
                "births_female": 450,
            },
            {
                "area_code": TOWNSHIPS[1],
                "period": "2024",
                "births": 100,
                "births_male": 53,
                "births_female": 47,
            },
            {
                "area_code": TOWNSHIPS[2],
                "period": "2024",
                "births": 2060,
                "births_male": 1060,
                "births_female": 1000,
            },
            {
                "area_code": TOWNSHIPS[0],
                "period": "2024-03",
                "births": 100,
                "births_male": 80,
                "births_female": 20,
            },
        ]
    )
    write_run(tmp_path, tables=tables)
    findings = of(run_audit(tmp_path, as_of=AS_OF), "srb.out_of_range")
    township = [f for f in findings if f.level == "township"]
    assert [f.area_code for f in township] == [TOWNSHIPS[0]]
    finding = township[0]
    assert finding.severity == "warning" and finding.period == "2024" and finding.source == "report"
    assert finding.evidence["srb"] == pytest.approx(155.556, rel=1e-5)
    assert finding.evidence["ci_low"] > 107 and finding.evidence["reported"] is True
    assert "above the range 103-107" in finding.message_en and "高于正常范围" in finding.message_zh
    county = [f for f in findings if f.level == "county"]
    assert county and county[0].evidence["parts"] == 3 and county[0].evidence["reported"] is False


def test_srb_out_of_range_on_records_by_run_period(tmp_path):
    """Register records are counted by the run's period (statistical year) and de-duplicated; range from settings."""
    rows = [
        {"sex": "M" if i % 3 else "F", "birth_date": dt.date(2023, 11, 1), "child_pid": f"C{i}"}
        for i in range(300)
    ]
    rows += [
        {"sex": "M", "birth_date": dt.date(2023, 11, 1), "child_pid": "C1"}
    ] * 50  # duplicates of one boy
    write_run(tmp_path, records=records_frame(rows), period="sy")
    findings = of(run_audit(tmp_path, as_of=AS_OF), "srb.out_of_range")
    assert {f.period for f in findings} == {"2024SY"}
    township = next(f for f in findings if f.level == "township")
    assert (
        township.evidence["male"] == 200
        and township.evidence["female"] == 100
        and township.source == "planning"
    )
    wider = run_audit(
        tmp_path, settings={"srb.out_of_range": {"low": 100, "high": 250}}, as_of=AS_OF
    )
    assert of(wider, "srb.out_of_range") == []


def test_srb_volatile_flags_an_injected_swing_not_noise(tmp_path):
    """Alternating SRB 140/85 at ~300 births a month is flagged; 30 births a month at constant SRB is not."""
    rng = np.random.default_rng(20240601)
    month_list = months(2023, 24)
    swing = monthly_sex_rows(
        TOWNSHIPS[0], month_list, [300] * 24, [140 if i % 2 else 85 for i in range(24)], rng
    )
    quiet = monthly_sex_rows(TOWNSHIPS[1], month_list, rng.integers(25, 40, 24), 112, rng)
    write_run(tmp_path, tables=table_frame(swing + quiet))
    findings = of(run_audit(tmp_path, as_of=AS_OF), "srb.volatile")
    township = [f for f in findings if f.level == "township"]
    assert [f.area_code for f in township] == [TOWNSHIPS[0]]
    finding = township[0]
    assert finding.severity == "warning" and finding.period == "" and finding.source == "report"
    assert finding.evidence["months"] == 24 and finding.evidence["df"] == 23
    assert finding.evidence["p_value"] < 0.001
    assert (
        finding.evidence["first_month"] == "2023-01" and finding.evidence["last_month"] == "2024-12"
    )
    assert (
        "vary more than chance allows" in finding.message_en
        and "波动超出随机范围" in finding.message_zh
    )


def test_srb_volatile_from_register_records(tmp_path):
    """Monthly sex ratios of a register come from birth dates; a swing in the records is flagged for that source."""
    rows = []
    for month in range(12):
        boys = 70 if month % 2 else 40
        for i in range(100):
            rows.append(
                {
                    "sex": "M" if i < boys else "F",
                    "birth_date": dt.date(2024, month + 1, 1 + i % 28),
                    "child_pid": f"C{month}-{i}",
                }
            )
    write_run(tmp_path, records=records_frame(rows))
    findings = of(run_audit(tmp_path, as_of=AS_OF), "srb.volatile")
    assert {(f.level, f.source) for f in findings} == {
        ("province", "planning"),
        ("prefecture", "planning"),
        ("county", "planning"),
        ("township", "planning"),
    }
    assert findings[0].evidence["monthly"][0] == {"period": "2024-01", "male": 40, "female": 60}


def heaping_indicators(values_by_year, first_township=1):
    rows = []
    for period, values in values_by_year.items():
        for index, value in enumerate(values):
            rows.append(
                {
                    "indicator": "policy_rate",
                    "source": "report",
                    "area_code": f"320581{first_township + index:03d}000",
                    "level": "township",
                    "period": period,
                    "value": value,
                    "unit": "%",
                }
            )
    return pd.DataFrame(rows)


HEAPED = {  # eight townships, two years: 15 of 16 values just above 92 %, one just below
    "2023SY": [92.1, 92.4, 92.5, 92.8, 92.3, 92.6, 92.2, 92.9],
    "2024SY": [92.2, 92.3, 92.7, 92.1, 92.6, 92.4, 92.8, 91.6],
}


def test_threshold_heaping_fires_for_the_county_when_rates_cluster_above(tmp_path):
    """15 of 16 township-years near 92 % just above it fire for the county (and the areas above it)."""
    write_run(tmp_path, indicators=heaping_indicators(HEAPED), period="sy")
    findings = of(
        run_audit(tmp_path, profile=[("policy_rate_3y", "veto", 92)], as_of=AS_OF),
        "threshold.heaping",
    )
    assert [f.level for f in findings] == ["province", "prefecture", "county"]
    county = findings[-1]
    assert county.area_code == COUNTY and county.severity == "warning" and county.period == ""
    assert (
        county.evidence["above"] == 15
        and county.evidence["below"] == 1
        and county.evidence["units"] == 8
    )
    assert county.evidence["expected_share_above"] == 0.5
    assert county.evidence["p_value"] == pytest.approx(0.0415, abs=5e-4)  # t(7) = 7 / sqrt(8 + 4)
    assert (
        county.evidence["threshold_indicator"] == "policy_rate_3y"
        and county.evidence["indicator"] == "policy_rate"
    )
    assert county.evidence["periods"] == ["2023SY", "2024SY"]
    assert "heap just above" in county.message_en and "集中在考核线" in county.message_zh


def test_threshold_heaping_allows_for_the_slope_of_the_distribution(tmp_path):
    """The same 15-to-1 is no heaping where 60 other township-years lie in (93, 95] and none in [89, 91)."""
    rising = heaping_indicators({"2023SY": [94.0] * 30, "2024SY": [94.5] * 30}, first_township=20)
    write_run(tmp_path, indicators=pd.concat([heaping_indicators(HEAPED), rising]), period="sy")
    assert (
        of(
            run_audit(tmp_path, profile=[("policy_rate_3y", "veto", 92)], as_of=AS_OF),
            "threshold.heaping",
        )
        == []
    )


def test_threshold_heaping_uses_the_default_profile_and_skips_without_bounds(tmp_path):
    """The shipped default profile's veto (policy_rate_3y >= 92) is used; a value at 92.0 counts half each side."""
    heaped = heaping_indicators({"2024SY": [92.1, 92.4, 92.0, 92.8, 92.3, 92.6, 92.2, 92.5]})
    write_run(tmp_path, indicators=heaped, period="sy")
    (county, *_) = [
        f for f in of(run_audit(tmp_path, as_of=AS_OF), "threshold.heaping") if f.level == "county"
    ]
    assert county.evidence["above"] == 7.5 and county.evidence["below"] == 0.5
    assert (
        of(run_audit(tmp_path, profile=[("srb", "max", 110)], as_of=AS_OF), "threshold.heaping")
        == []
    )


def digit_rows(counts):
    rows = []
    for index, count in enumerate(counts):
        code = TOWNSHIPS[index % len(TOWNSHIPS)]
        rows.append(
            {
                "area_code": code,
                "period": months(2020, 72)[index // len(TOWNSHIPS)],
                "births": int(count),
            }
        )
    return rows


def test_digits_preference_terminal_heaping(tmp_path):
    """Counts that end in 0 or 5 fire for the county; honest counts do not."""
    rng = np.random.default_rng(7)
    honest = rng.integers(20, 900, 240)
    write_run(tmp_path / "honest", tables=table_frame(digit_rows(honest)))
    assert of(run_audit(tmp_path / "honest", as_of=AS_OF), "digits.preference") == []
    rounded = (np.round(honest / 5) * 5).astype(int)
    write_run(tmp_path / "rounded", tables=table_frame(digit_rows(rounded)))
    findings = of(run_audit(tmp_path / "rounded", as_of=AS_OF), "digits.preference")
    county = next(f for f in findings if f.level == "county")
    assert county.area_code == COUNTY and county.source == "report" and county.severity == "warning"
    assert county.evidence["test"] == "terminal" and county.evidence["values"] == 240
    assert county.evidence["observed"][0] + county.evidence["observed"][5] == 240
    assert (
        county.period == ""
        and "last digits are not uniform" in county.message_en
        and "尾数" in county.message_zh
    )
    assert {f.level for f in findings} == {"county", "prefecture", "province"}


def cross_section(values, figure="population"):
    return table_frame(
        [
            {"area_code": f"320581{index + 1:03d}000", "period": "2024", figure: int(value)}
            for index, value in enumerate(values)
        ]
    )


def test_digits_preference_benford_on_a_wide_cross_section(tmp_path):
    """80 townships' populations spread over 4 orders conform to Benford; invented ones with uniform first digits do not."""
    rng = np.random.default_rng(11)
    write_run(tmp_path / "benford", tables=cross_section(np.floor(10 ** rng.uniform(1, 5, 80))))
    assert of(run_audit(tmp_path / "benford", as_of=AS_OF), "digits.preference") == []
    first, scale = rng.integers(5, 10, 80), 10 ** rng.integers(1, 5, 80)
    write_run(tmp_path / "invented", tables=cross_section(first * scale + rng.integers(0, scale)))
    county = next(
        f
        for f in of(run_audit(tmp_path / "invented", as_of=AS_OF), "digits.preference")
        if f.level == "county"
    )
    assert county.evidence["test"] == "benford" and county.evidence["figure"] == "population"
    assert (
        county.period == "2024"
        and county.evidence["mad"] > 0.015
        and county.evidence["values"] == 80
    )
    assert "Benford" in county.message_en and "本福特" in county.message_zh


def test_digits_preference_no_benford_on_a_narrow_spread(tmp_path):
    """Counts within one order of magnitude are not held to Benford's law, however their first digits fall."""
    rng = np.random.default_rng(5)
    write_run(tmp_path, tables=cross_section(rng.integers(500, 1000, 80)))
    assert of(run_audit(tmp_path, as_of=AS_OF), "digits.preference") == []


def test_digits_preference_leaves_small_counts_alone(tmp_path):
    """A township's monthly boys and girls (about a dozen) cut at 10 have skewed last digits by size alone: no finding."""
    rng = np.random.default_rng(12)
    rows = []
    for index, code in enumerate(TOWNSHIPS):
        rows += monthly_sex_rows(code, months(2020, 60), rng.poisson(22 + index, 60), 110, rng)
    write_run(tmp_path, tables=table_frame(rows))
    assert of(run_audit(tmp_path, as_of=AS_OF), "digits.preference") == []
    strict = run_audit(tmp_path, settings={"digits.preference": {"min_mean": 0.0}}, as_of=AS_OF)
    assert of(strict, "digits.preference")  # without the series filter the size shows through
