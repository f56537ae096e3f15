"""Reconcile checks: completeness.low and sex.misreported on hand-made figures."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from audit_fixtures import COUNTY, TOWNSHIPS, write_run

from fpstat.audit import run_audit

AS_OF = dt.date(2025, 6, 30)


def of(result, check):
    return [finding for finding in result.findings if finding.check == check]


def completeness_row(code, level, registered, total, low, high, period="2024SY"):
    return {
        "area_code": code,
        "level": level,
        "period": period,
        "n_planning": registered,
        "n_police": total - 5,
        "n_observed": total - 2,
        "est_total": total,
        "ci_low": low,
        "ci_high": high,
        "completeness_planning": registered / total,
        "completeness_police": (total - 5) / total,
        "method": "chapman",
    }


def test_completeness_error_warning_and_silence(tmp_path):
    """Upper bound below 90 %: error; only the estimate below: warning; 95 % complete: nothing."""
    frame = pd.DataFrame(
        [
            completeness_row(
                TOWNSHIPS[0], "township", 713, 1000, 962, 1045
            ),  # 71.3 %, upper 74.1 %
            completeness_row(TOWNSHIPS[1], "township", 880, 1000, 900, 1100),  # 88 %, upper 97.8 %
            completeness_row(TOWNSHIPS[2], "township", 950, 1000, 980, 1020),  # 95 %
            completeness_row(COUNTY, "county", 2543, 3000, 2950, 3060),  # 84.8 %, upper 86.2 %
        ]
    )
    write_run(tmp_path, completeness=frame)
    found = {f.area_code: f for f in of(run_audit(tmp_path, as_of=AS_OF), "completeness.low")}
    assert set(found) == {TOWNSHIPS[0], TOWNSHIPS[1], COUNTY}
    assert found[TOWNSHIPS[0]].severity == "error"
    assert found[TOWNSHIPS[1]].severity == "warning"
    assert found[COUNTY].severity == "error" and found[COUNTY].level == "county"
    first = found[TOWNSHIPS[0]]
    assert first.evidence["ci_high"] == pytest.approx(713 / 962, rel=1e-5)
    assert first.evidence["ci_low"] == pytest.approx(713 / 1045, rel=1e-5)
    assert "Register completeness 71.3 % (95 % CI 68.2-74.1 %)" in first.message_en
    assert "below 90 %" in first.message_en
    assert "出生登记完整率 71.3%（95%置信区间 68.2%-74.1%）" in first.message_zh
    assert first.period == "2024SY" and first.source == "planning"


def test_completeness_threshold_from_settings(tmp_path):
    """``threshold`` from the [checks] table replaces the default 0.90."""
    write_run(
        tmp_path,
        completeness=pd.DataFrame(
            [completeness_row(TOWNSHIPS[2], "township", 950, 1000, 980, 1020)]
        ),
    )
    result = run_audit(tmp_path, settings={"completeness.low": {"threshold": 0.99}}, as_of=AS_OF)
    assert [f.severity for f in of(result, "completeness.low")] == ["error"]


def disagreement_rows(rates, linked=1000, period="2024"):
    return pd.DataFrame(
        [
            {
                "area_code": code,
                "level": "township",
                "period": period,
                "linked_births": linked,
                "sex_disagreements": int(rate * linked),
            }
            for code, rate in zip(TOWNSHIPS, rates, strict=False)
        ]
    )


def test_sex_misreported_flags_the_bad_township_only(tmp_path):
    """One township with 4 % disagreements among eleven at 0.5 % is an error; the others are not flagged."""
    rates = [0.04] + [0.005] * 11
    frame = disagreement_rows(rates)
    county = {
        "area_code": COUNTY,
        "level": "county",
        "period": "2024",
        "linked_births": int(frame["linked_births"].sum()),
        "sex_disagreements": int(frame["sex_disagreements"].sum()),
    }
    write_run(tmp_path, sex_disagreements=pd.concat([frame, pd.DataFrame([county])]))
    (finding,) = of(run_audit(tmp_path, as_of=AS_OF), "sex.misreported")
    assert finding.area_code == TOWNSHIPS[0] and finding.severity == "error"
    assert finding.evidence["sex_disagreements"] == 40 and finding.evidence["linked_births"] == 1000
    assert finding.evidence["background_rate"] == pytest.approx(55 / 11000)
    assert finding.evidence["adjusted_p_value"] < 0.05 and finding.evidence["correction"] == "bh"
    assert "4.00 %" in finding.message_en and "性别不一致" in finding.message_zh


def test_sex_misreported_small_excess_is_chance(tmp_path):
    """Six disagreements in 500 against 0.5 % elsewhere is chance: no finding."""
    frame = disagreement_rows([0.012] + [0.005] * 11, linked=500)
    write_run(tmp_path, sex_disagreements=frame)
    assert of(run_audit(tmp_path, as_of=AS_OF), "sex.misreported") == []


def test_sex_misreported_background_is_trimmed_of_bad_areas(tmp_path):
    """Three very bad townships do not raise the background enough to hide a fourth, milder one."""
    frame = disagreement_rows([0.03, 0.03, 0.03, 0.012] + [0.004] * 8, linked=1500)
    write_run(tmp_path, sex_disagreements=frame)
    found = {f.area_code: f for f in of(run_audit(tmp_path, as_of=AS_OF), "sex.misreported")}
    assert set(found) == set(TOWNSHIPS[:4])
    assert found[TOWNSHIPS[3]].evidence["background_rate"] == pytest.approx(48 / 12000)


def test_sex_misreported_bonferroni_is_stricter_than_bh(tmp_path):
    """Four townships with 17 disagreements in 1,000 (vs 0.5 %) are flagged under BH, not under Bonferroni."""
    frame = pd.DataFrame(
        [
            {
                "area_code": code,
                "level": "township",
                "period": "2024",
                "linked_births": 1000,
                "sex_disagreements": 17 if i < 4 else 5,
            }
            for i, code in enumerate(TOWNSHIPS)
        ]
    )
    write_run(tmp_path, sex_disagreements=frame)
    bh = {f.area_code for f in of(run_audit(tmp_path, as_of=AS_OF), "sex.misreported")}
    bonferroni = of(
        run_audit(
            tmp_path, settings={"sex.misreported": {"correction": "bonferroni"}}, as_of=AS_OF
        ),
        "sex.misreported",
    )
    assert bh == set(TOWNSHIPS[:4])
    assert bonferroni == []


def test_sex_misreported_pooled_over_the_drop(tmp_path):
    """4 in 400 a year against 0.25 % elsewhere is chance in any one year but not over four: period ""."""
    frame = pd.concat(
        [
            pd.DataFrame(
                [
                    {
                        "area_code": code,
                        "level": "township",
                        "period": period,
                        "linked_births": 400,
                        "sex_disagreements": 4 if i == 0 else 1,
                    }
                    for i, code in enumerate(TOWNSHIPS)
                ]
            )
            for period in ("2021", "2022", "2023", "2024")
        ]
    )
    write_run(tmp_path, sex_disagreements=frame, period="year")
    (finding,) = of(run_audit(tmp_path, as_of=AS_OF), "sex.misreported")
    assert finding.area_code == TOWNSHIPS[0] and finding.period == ""
    assert finding.evidence["linked_births"] == 1600 and finding.evidence["sex_disagreements"] == 16
