"""Consistency checks: report vs register, denominators, relations, time, outliers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from audit_fixtures import COUNTY, TOWNSHIPS, records_frame, table_frame, write_run

from fpstat.audit import run_audit

AS_OF = dt.date(2025, 6, 30)


def of(result, check):
    return [finding for finding in result.findings if finding.check == check]


def register_births(code, count, first=dt.date(2023, 10, 1), days=365, prefix="C"):
    """``count`` planning births spread over ``days`` from ``first``."""
    return [
        {
            "area_code": code,
            "child_pid": f"{prefix}{code}-{i}",
            "sex": "MF"[i % 2],
            "birth_date": first + dt.timedelta(days=i * days // count),
        }
        for i in range(count)
    ]


def test_report_vs_register_by_birth_date_window(tmp_path):
    """2024SY reports are compared with register births of Oct 2023-Sep 2024: equal, +1 % warning, +10 % error."""
    rows = (
        register_births(TOWNSHIPS[0], 100)
        + register_births(TOWNSHIPS[1], 100)
        + register_births(TOWNSHIPS[2], 100)
    )
    rows += [
        dict(rows[0], record_id="dup-1"),
        dict(rows[1], record_id="dup-2"),
    ]  # duplicates do not count
    rows += register_births(
        TOWNSHIPS[0], 7, first=dt.date(2023, 9, 1), days=28, prefix="early"
    )  # born before the window
    report = table_frame(
        [
            {"area_code": TOWNSHIPS[0], "period": "2024SY", "births": 100},
            {"area_code": TOWNSHIPS[1], "period": "2024SY", "births": 101},
            {"area_code": TOWNSHIPS[2], "period": "2024SY", "births": 110},
            {
                "area_code": TOWNSHIPS[0],
                "period": "2024",
                "births": 55,
            },  # window not covered by the register
        ]
    )
    write_run(tmp_path, records=records_frame(rows), tables=report, period="sy")
    found = {
        (f.level, f.area_code): f
        for f in of(run_audit(tmp_path, as_of=AS_OF), "report.register_mismatch")
    }
    assert ("township", TOWNSHIPS[0]) not in found
    assert found[("township", TOWNSHIPS[1])].severity == "warning"
    assert found[("township", TOWNSHIPS[2])].severity == "error"
    third = found[("township", TOWNSHIPS[2])].evidence
    assert (
        third["reported"] == 110
        and third["register"] == 100
        and third["relative_difference"] == pytest.approx(0.1)
    )
    assert third["window_start"] == "2023-10-01" and third["window_end"] == "2024-09-30"
    county = found[("county", COUNTY)]
    assert county.evidence["reported"] == 311 and county.evidence["register"] == 300
    assert county.evidence["parts"] == 3 and county.severity == "error"
    assert all(f.period == "2024SY" for f in found.values())
    assert "2023-10-01" in found[("township", TOWNSHIPS[2])].message_zh


def test_report_vs_register_not_before_the_register_is_complete(tmp_path):
    """A period that ends after the as-of date, or that the register does not wholly cover, is not compared."""
    rows = register_births(TOWNSHIPS[0], 100)
    report = table_frame([{"area_code": TOWNSHIPS[0], "period": "2024SY", "births": 140}])
    write_run(tmp_path, records=records_frame(rows), tables=report, period="sy")
    assert of(run_audit(tmp_path, as_of=dt.date(2024, 8, 31)), "report.register_mismatch") == []
    assert of(run_audit(tmp_path, as_of=AS_OF), "report.register_mismatch")


def test_population_denominator_bands_and_basis(tmp_path):
    """Report population vs the statistics bureau: 1 % nothing, 3 % warning, 6 % error; year-end with year-end."""
    tables = table_frame(
        [
            {"area_code": TOWNSHIPS[0], "period": "2024", "population": 10100},
            {"area_code": TOWNSHIPS[1], "period": "2024", "population": 10300},
            {"area_code": TOWNSHIPS[2], "period": "2024", "population": 10600},
            *(
                {
                    "role": "population",
                    "area_code": code,
                    "period": "2024",
                    "population": 10000,
                    "population_mean": 9000,
                }
                for code in TOWNSHIPS[:3]
            ),
        ]
    )
    write_run(tmp_path, tables=tables)
    found = {
        (f.level, f.area_code): f
        for f in of(run_audit(tmp_path, as_of=AS_OF), "population.denominator_mismatch")
    }
    assert ("township", TOWNSHIPS[0]) not in found
    assert found[("township", TOWNSHIPS[1])].severity == "warning"
    assert found[("township", TOWNSHIPS[2])].severity == "error"
    assert found[("township", TOWNSHIPS[2])].evidence["basis"] == "year-end"
    assert found[("township", TOWNSHIPS[2])].source == "population"
    assert (
        found[("county", COUNTY)].evidence["report"] == 31000
        and found[("county", COUNTY)].evidence["other"] == 30000
    )


def test_relations_per_table_row(tmp_path):
    """Each broken identity or inclusion of a row is named in one error; a consistent row has none."""
    tables = table_frame(
        [
            {
                "area_code": TOWNSHIPS[0],
                "period": "2024",
                "births": 100,
                "births_male": 52,
                "births_female": 48,
                "births_within_policy": 95,
                "births_order_1": 60,
                "births_order_2": 38,
                "births_order_3plus": 2,
            },
            {
                "area_code": TOWNSHIPS[1],
                "period": "2024",
                "births": 100,
                "births_male": 52,
                "births_female": 47,
                "births_within_policy": 101,
                "married_women_15_49": 900,
                "contraceptive_users": 950,
                "women_15_49": 800,
            },
            {
                "area_code": TOWNSHIPS[2],
                "period": "2024",
                "births": 100,
                "births_order_1": 60,
                "births_order_2": 30,
            },
        ]
    )
    write_run(tmp_path, tables=tables)
    (finding,) = of(run_audit(tmp_path, as_of=AS_OF), "relation.inconsistent")
    assert (
        finding.area_code == TOWNSHIPS[1]
        and finding.severity == "error"
        and finding.source == "report"
    )
    assert [r["relation"] for r in finding.evidence["relations"]] == [
        "boys + girls = births",
        "births within policy <= births",
        "contraceptive users <= married women 15-49",
        "married women 15-49 <= women 15-49",
    ]
    assert finding.evidence["source_row"] == 4 and finding.evidence["source_file"] == "report.xlsx"
    assert "出生男 + 出生女 = 出生人数 不成立" in finding.message_zh


def test_time_consistency_two_sided_against_strictly_preceding_years(tmp_path):
    """+40 % and -40 % against the mean of the three years before fire; the current year is not in its own mean."""
    series = {"2019": 1000, "2020": 1000, "2021": 1000, "2022": 1400, "2023": 1000, "2024": 600}
    tables = table_frame(
        [{"area_code": TOWNSHIPS[0], "period": p, "births": v} for p, v in series.items()]
        + [
            {"area_code": TOWNSHIPS[0][:9] + "001", "period": p, "births": v // 100}
            for p, v in series.items()
        ]
    )
    write_run(tmp_path, tables=tables)
    found = {
        (f.level, f.period): f for f in of(run_audit(tmp_path, as_of=AS_OF), "time.inconsistent")
    }
    township = {period: f for (level, period), f in found.items() if level == "township"}
    assert sorted(township) == ["2022", "2024"]
    assert township["2022"].evidence["mean"] == 1000 and township["2022"].evidence[
        "ratio"
    ] == pytest.approx(1.4)
    assert township["2024"].evidence["preceding"] == {"2021": 1000, "2022": 1400, "2023": 1000}
    assert township["2024"].evidence["mean"] == pytest.approx(3400 / 3, rel=1e-5)
    assert (
        township["2024"].severity == "warning" and township["2024"].evidence["figure"] == "births"
    )
    assert not any(level == "village" for level, _ in found)  # 10 births a year: noise, not judged


def test_time_consistency_of_register_births_only_for_covered_years(tmp_path):
    """Register births per year are compared only over years the register covers wholly."""
    rows = (
        register_births(TOWNSHIPS[0], 400, first=dt.date(2021, 1, 1), days=365, prefix="a")
        + register_births(TOWNSHIPS[0], 400, first=dt.date(2022, 1, 1), days=365, prefix="b")
        + register_births(TOWNSHIPS[0], 200, first=dt.date(2023, 1, 1), days=365, prefix="c")
        + register_births(TOWNSHIPS[0], 10, first=dt.date(2024, 1, 1), days=60, prefix="d")
    )
    write_run(tmp_path, records=records_frame(rows), period="year")
    findings = [
        f
        for f in of(run_audit(tmp_path, as_of=dt.date(2024, 3, 1)), "time.inconsistent")
        if f.level == "township"
    ]
    assert [(f.period, f.source) for f in findings] == [("2023", "planning")]
    assert findings[0].evidence["value"] == 200 and findings[0].evidence["mean"] == 400


def indicator_rows(values, ci=None, indicator="birth_rate"):
    return pd.DataFrame(
        [
            {
                "indicator": indicator,
                "source": "report",
                "area_code": code,
                "level": "township",
                "period": "2024",
                "value": value,
                "unit": "‰",
                "ci_low": (ci or {}).get(i, (None, None))[0],
                "ci_high": (ci or {}).get(i, (None, None))[1],
            }
            for i, (code, value) in enumerate(zip(TOWNSHIPS, values, strict=False))
        ]
    )


def test_outlier_modified_z_and_meanad_fallback(tmp_path):
    """A birth rate of 30 among ~10 is an error; with MAD 0 the MeanAD fallback still scores 80 among 95s."""
    frame = pd.concat(
        [
            indicator_rows([10.0, 10.5, 11.0, 9.8, 10.2, 10.1, 30.0, 10.4]),
            indicator_rows([95, 95, 95, 95, 95, 95, 80], indicator="policy_rate"),
        ]
    )
    write_run(tmp_path, indicators=frame)
    found = {f.evidence["indicator"]: f for f in of(run_audit(tmp_path, as_of=AS_OF), "outlier")}
    assert set(found) == {"birth_rate", "policy_rate"}
    assert found["birth_rate"].area_code == TOWNSHIPS[6] and found["birth_rate"].severity == "error"
    assert found["birth_rate"].evidence["median"] == pytest.approx(10.3)
    assert found["policy_rate"].evidence["modified_z"] == pytest.approx(-7 / 1.253314, rel=1e-5)
    assert found["policy_rate"].severity == "error" and found["policy_rate"].evidence["peers"] == 7


def test_outlier_needs_peers_and_a_value_beyond_its_interval(tmp_path):
    """Fewer than five peers: nothing; an outlier whose own interval holds the median: nothing."""
    few = indicator_rows([10.0, 10.5, 11.0, 30.0])
    wide = indicator_rows([10.0, 10.5, 11.0, 9.8, 10.2, 10.1, 30.0], ci={6: (5.0, 60.0)})
    write_run(tmp_path / "few", indicators=few)
    write_run(tmp_path / "wide", indicators=wide)
    assert of(run_audit(tmp_path / "few", as_of=AS_OF), "outlier") == []
    assert of(run_audit(tmp_path / "wide", as_of=AS_OF), "outlier") == []
    loose = run_audit(
        tmp_path / "wide", settings={"outlier": {"beyond_interval": False}}, as_of=AS_OF
    )
    assert len(of(loose, "outlier")) == 1
