"""Each indicator's formula on hand-computed figures, from records, tables and reconcile's files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from indicators_fixtures import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    birth,
    make_run,
    many,
    one,
    rows_of,
    table_row,
)

from fpstat.errors import UsageError
from fpstat.indicators import compute_indicators
from fpstat.rundir import RunDir


def planning_register() -> list[dict]:
    """15 de-duplicated planning births of 2024 and one duplicate entry (see each block)."""
    records = []
    # A1: 6 boys, first births, within policy, registered after 10 days.
    records += many(
        "planning",
        "A1-",
        6,
        sex="M",
        birth_date="2024-03-01",
        area_code=VILLAGE_A1,
        order=1,
        within_policy=True,
        registered_on="2024-03-11",
    )
    # A2: 4 girls, second births, within policy, registered after 40 days (late).
    records += many(
        "planning",
        "A2-",
        4,
        sex="F",
        birth_date="2024-05-01",
        area_code=VILLAGE_A2,
        order=2,
        within_policy=True,
        registered_on="2024-06-10",
    )
    # B1: 3 boys, third births, outside policy, registered after 5 days.
    records += many(
        "planning",
        "B1-",
        3,
        sex="M",
        birth_date="2024-07-01",
        area_code=VILLAGE_B1,
        order=3,
        within_policy=False,
        registered_on="2024-07-06",
    )
    # B1: 2 girls with no order, no policy attribute, no registration date.
    records += many("planning", "B1x", 2, sex="F", birth_date="2024-08-01", area_code=VILLAGE_B1)
    # A duplicate entry of a girl in A1: counted only as an entry and a duplicate.
    records.append(
        birth(
            "planning", "DUP", "F", "2024-03-01", VILLAGE_A1, order=1, within_policy=False, row=99
        )
    )
    # Police: 5 boys and 5 girls registered at township level.
    records += many("police", "G-M", 5, sex="M", birth_date="2024-04-01", area_code=TOWN_A)
    records += many("police", "G-F", 5, sex="F", birth_date="2024-04-02", area_code=TOWN_A)
    return records


def report_tables() -> list[dict]:
    return [
        table_row(
            "report",
            COUNTY,
            "2024",
            population=10_000,
            population_mean=9_800,
            births=14,
            births_male=8,
            births_female=6,
            births_within_policy=13,
            deaths=7,
            women_15_49=2_500,
            married_women_15_49=2_000,
            contraceptive_users=1_800,
            births_order_1=7,
            births_order_2=5,
            births_order_3plus=2,
            birth_defects=1,
            migrant_women=50,
            migrant_women_registered=46,
        ),
        table_row("population", COUNTY, "2024", population=10_400),
    ]


COMPLETENESS = pd.DataFrame(
    {
        "area_code": [COUNTY],
        "level": ["county"],
        "period": ["2024"],
        "n_planning": [15],
        "n_police": [10],
        "n_observed": [18],
        "est_total": [20.0],
        "ci_low": [18.0],
        "ci_high": [25.0],
        "method": ["Mt"],
    }
)
SEX = pd.DataFrame(
    {
        "area_code": [COUNTY, TOWN_A, TOWN_B],
        "level": ["county", "township", "township"],
        "period": ["2024"] * 3,
        "linked_births": [12, 8, 4],
        "sex_disagreements": [1, 1, 0],
    }
)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("run")
    run = make_run(
        path,
        records=planning_register(),
        duplicates={("planning", "DUP")},
        tables=report_tables(),
        completeness=COMPLETENESS,
        sex_disagreements=SEX,
    )
    return compute_indicators(run)


def county(result, indicator: str, source: str, **where: str) -> pd.Series:
    return one(
        result.table,
        indicator,
        source=source,
        level="county",
        area_code=COUNTY,
        period="2024",
        **where,
    )


def test_sex_ratio_from_records_excludes_the_duplicate(result) -> None:
    """9 boys / 6 girls = 150 per 100 girls: the duplicate girl does not count."""
    row = county(result, "srb", "planning")
    assert (row["numerator"], row["denominator"], row["value"]) == (9, 6, 150)
    assert row["unit"] == "boys per 100 girls"


def test_policy_rate_from_records_over_known_attributes(result) -> None:
    """10 within policy of the 13 births whose attribute is known: 76.9231 %."""
    row = county(result, "policy_rate", "planning")
    assert (row["numerator"], row["denominator"]) == (10, 13)
    assert row["value"] == pytest.approx(76.9231)


def test_order_shares_from_records(result) -> None:
    """First, second and third births over the 13 with a known order: 6, 4 and 3."""
    values = [
        county(result, f"order_share_{k}", "planning")["numerator"] for k in ("1", "2", "3plus")
    ]
    assert values == [6, 4, 3]
    assert county(result, "order_share_1", "planning")["value"] == pytest.approx(
        100 * 6 / 13, rel=1e-5
    )


def test_registration_timeliness(result) -> None:
    """Registered within 30 days: 6 + 3 of the 13 births with both dates."""
    row = county(result, "registration_timeliness", "planning")
    assert (row["numerator"], row["denominator"]) == (9, 13)


def test_duplicate_rate_counts_every_entry(result) -> None:
    """1 duplicate among 16 entries: 6.25 %."""
    row = county(result, "duplicate_rate", "planning")
    assert (row["numerator"], row["denominator"], row["value"]) == (1, 16, 6.25)


def test_record_sources_side_by_side(result) -> None:
    """The police register gives its own sex ratio (5/5) next to the planning register's."""
    row = county(result, "srb", "police")
    assert row["value"] == 100
    assert set(rows_of(result.table, "srb", level="county")["source"]) == {
        "planning",
        "police",
        "report",
    }


def test_report_table_indicators(result) -> None:
    """From the report table: birth, death, growth, fertility rates and shares, by hand."""
    expected = {
        "birth_rate": 1000 * 14 / 9_800,
        "death_rate": 1000 * 7 / 9_800,
        "natural_growth_rate": 1000 * 7 / 9_800,
        "general_fertility_rate": 1000 * 14 / 2_500,
        "srb": 100 * 8 / 6,
        "policy_rate": 100 * 13 / 14,
        "order_share_1": 100 * 7 / 14,
        "order_share_3plus": 100 * 2 / 14,
        "contraceptive_prevalence": 90.0,
        "birth_defect_rate": 1000 / 14,
        "migrant_registration_rate": 92.0,
    }
    for indicator, value in expected.items():
        assert county(result, indicator, "report")["value"] == pytest.approx(value, rel=1e-5), (
            indicator
        )


def test_rates_say_which_population(result) -> None:
    """The report's rates use its mean population; the statistics bureau's table only a year-end one."""
    assert county(result, "birth_rate", "report")["denominator_source"] == "report.population_mean"
    from_bureau = county(
        result, "birth_rate", "planning", denominator_source="population.population_year_end"
    )
    assert (from_bureau["numerator"], from_bureau["denominator"]) == (15, 10_400)
    from_report = county(
        result, "birth_rate", "planning", denominator_source="report.population_mean"
    )
    assert from_report["value"] == pytest.approx(1000 * 15 / 9_800, rel=1e-5)
    assert "not annualised" in from_report["unit"]


def test_natural_growth_interval_is_given(result) -> None:
    """Natural growth carries the Poisson-difference interval around (14 - 7) / 9 800."""
    row = county(result, "natural_growth_rate", "report")
    assert row["ci_low"] < row["value"] < row["ci_high"]


def test_general_fertility_from_records_over_report_women(result) -> None:
    """15 register births over the report's 2 500 women 15-49: 6 per mille."""
    row = county(result, "general_fertility_rate", "planning")
    assert (row["value"], row["denominator_source"]) == (6, "report.women_15_49")


def test_report_accuracy_against_the_register(result) -> None:
    """14 births reported upward over 15 de-duplicated births in the register: 0.933333, no interval."""
    row = county(result, "report_accuracy", "report")
    assert (row["numerator"], row["denominator"]) == (14, 15)
    assert row["value"] == pytest.approx(0.933333)
    assert pd.isna(row["ci_low"]) and row["unit"] == "ratio"


def test_completeness_and_underreporting_from_reconcile(result) -> None:
    """15 registered of an estimated 20 (18-25): 75 % (60-83.3); under-reporting 25 % (16.7-40)."""
    row = county(result, "completeness", "planning")
    assert (row["value"], row["ci_low"], row["ci_high"]) == (75, 60, pytest.approx(83.3333))
    under = county(result, "underreport_rate", "planning")
    assert (under["value"], under["ci_low"], under["ci_high"]) == (25, pytest.approx(16.6667), 40)
    assert county(result, "completeness", "police")["value"] == 50


def test_sex_misreport_rate_from_reconcile(result) -> None:
    """1 of 12 linked births disagrees on sex: 8.33333 %, at every level reconcile wrote."""
    row = county(result, "sex_misreport_rate", "planning")
    assert row["value"] == pytest.approx(8.33333)
    assert len(rows_of(result.table, "sex_misreport_rate", level="township")) == 2


def test_profile_statuses_at_county_level(result) -> None:
    """Default profile at county level: migrants 92 % meets, 71.4 per mille defects above, srb out of range."""
    assert county(result, "migrant_registration_rate", "report")["status"] == "meets"
    assert county(result, "birth_defect_rate", "report")["status"] == "above"
    assert county(result, "srb", "planning")["threshold"] == "103-107"
    assert county(result, "srb", "planning")["status"] == "out_of_range"
    assert set(rows_of(result.table, "srb", level="township")["status"]) == {""}


def test_indicators_without_figures_are_listed(result) -> None:
    """policy_rate_3y needs three statistical years: it is listed with the reason."""
    skipped = {item["indicator"]: item["reason"] for item in result.skipped}
    assert set(skipped) == {"policy_rate_3y"}
    assert "three statistical years" in skipped["policy_rate_3y"]


def test_whole_drop_row(result) -> None:
    """The whole drop is level 'all' with an empty area code, named 全部."""
    row = one(result.table, "srb", source="planning", level="all")
    assert (row["area_code"], row["area_name"], row["value"]) == ("", "全部", 150)


def test_three_year_policy_rate_and_veto(tmp_path: Path) -> None:
    """Three statistical years 27/30 = 90 % fail the 92 % veto; the report's 278/300 meets it."""
    records = []
    for year, within in (("2022", 9), ("2023", 10), ("2024", 8)):
        records += many(
            "planning",
            f"Y{year}w",
            within,
            sex="M",
            birth_date=f"{year}-03-01",
            area_code=VILLAGE_A1,
            within_policy=True,
        )
        records += many(
            "planning",
            f"Y{year}o",
            10 - within,
            sex="F",
            birth_date=f"{year}-03-02",
            area_code=VILLAGE_A1,
            within_policy=False,
        )
    tables = [
        table_row("report", COUNTY, f"{year}SY", births=100, births_within_policy=within)
        for year, within in (("2022", 95), ("2023", 93), ("2024", 90))
    ]
    result = compute_indicators(make_run(tmp_path, records=records, tables=tables, period="sy"))
    register = one(result.table, "policy_rate_3y", source="planning", level="county")
    assert (register["period"], register["numerator"], register["denominator"]) == (
        "2024SY",
        27,
        30,
    )
    assert (register["threshold"], register["status"]) == (">= 92 (veto)", "veto")
    report = one(result.table, "policy_rate_3y", source="report", level="county")
    assert (report["numerator"], report["denominator"], report["status"]) == (278, 300, "meets")
    assert (
        one(result.table, "policy_rate", source="planning", level="county", period="2024SY")[
            "value"
        ]
        == 80
    )


def test_a_rate_of_exactly_the_threshold_meets_it(tmp_path: Path) -> None:
    """46 of 50 is exactly 92 % and meets '>= 92' despite floating point."""
    records = []
    for year in ("2022", "2023", "2024"):
        records += many(
            "planning",
            f"W{year}",
            46,
            sex="M",
            birth_date=f"{year}-02-01",
            area_code=VILLAGE_A1,
            within_policy=True,
        )
        records += many(
            "planning",
            f"O{year}",
            4,
            sex="F",
            birth_date=f"{year}-02-01",
            area_code=VILLAGE_A1,
            within_policy=False,
        )
    result = compute_indicators(make_run(tmp_path, records=records, period="sy"))
    row = one(result.table, "policy_rate_3y", source="planning", level="county")
    assert (row["value"], row["status"]) == (92, "meets")


def test_without_links_records_are_not_deduplicated(tmp_path: Path) -> None:
    """Without links.parquet every record counts, the notes say so, and duplicate_rate is not given."""
    run = make_run(tmp_path, records=planning_register())
    run.file("links.parquet").unlink()
    result = compute_indicators(RunDir(tmp_path, create=False))
    assert county(result, "srb", "planning")["denominator"] == 7
    assert any("not de-duplicated" in note for note in result.notes)
    assert "duplicate_rate" not in set(result.table["indicator"])
    assert (
        "links.parquet is absent"
        in {i["indicator"]: i["reason"] for i in result.skipped}["duplicate_rate"]
    )


def test_an_empty_run_directory_is_a_usage_error(tmp_path: Path) -> None:
    """A directory with none of reconcile's files cannot give indicators."""
    with pytest.raises(UsageError):
        compute_indicators(RunDir(tmp_path))


def test_a_repeated_record_number_counts_once_as_a_birth(tmp_path: Path) -> None:
    """Two records sharing a number, one marked duplicate: one birth, one duplicate entry, and
    the first in file order is the birth that counts."""
    records = [
        birth("planning", "SAME", "M", "2024-01-05", VILLAGE_A1, row=2),
        birth("planning", "SAME", "F", "2024-01-05", VILLAGE_A1, row=3),
        birth("planning", "OTHER", "F", "2024-01-06", VILLAGE_A1, row=4),
    ]
    run = make_run(tmp_path, records=records)
    links = run.read_parquet("links.parquet")
    links["is_duplicate"] = [True, False, False]  # links' own order does not matter
    run.write_parquet("links.parquet", links)
    table = compute_indicators(RunDir(tmp_path, create=False)).table
    assert one(table, "duplicate_rate", source="planning", level="county")[
        ["numerator", "denominator"]
    ].tolist() == [1, 3]
    assert one(table, "srb", source="planning", level="county")[
        ["numerator", "denominator"]
    ].tolist() == [1, 1]
