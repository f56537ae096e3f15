"""Roll-ups over the area hierarchy and periods: sums of counts, never averages of rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from indicators_fixtures import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    make_run,
    many,
    one,
    rows_of,
    table_row,
)

from fpstat.engine import Engine
from fpstat.indicators import compute_indicators
from fpstat.indicators.rollup import rollup_additive, rollup_reported, sy_windows
from fpstat.indicators.tables import TABLE_FIELDS, prepare_tables, to_period_kind

COMPARED = ["numerator", "denominator", "value", "ci_low", "ci_high"]


def mixed_register() -> list[dict]:
    records = []
    for index, (area, boys, girls) in enumerate(
        [(VILLAGE_A1, 7, 3), (VILLAGE_A2, 2, 9), (VILLAGE_B1, 11, 10), (TOWN_B, 4, 1)]
    ):
        records += many(
            "planning",
            f"M{index}-",
            boys,
            sex="M",
            birth_date="2024-02-01",
            area_code=area,
            within_policy=index % 2 == 0,
            order=1 + index % 3,
            registered_on="2024-02-15",
        )
        records += many(
            "planning",
            f"F{index}-",
            girls,
            sex="F",
            birth_date="2024-06-01",
            area_code=area,
            within_policy=True,
            order=1,
            registered_on="2024-08-15",
        )
    return records


def test_rollup_equals_direct_computation_on_the_parent(tmp_path: Path) -> None:
    """The county's figures from villages and a township-level record equal those of the same
    records all coded to the county."""
    records = mixed_register()
    by_village = compute_indicators(make_run(tmp_path / "villages", records=records)).table
    flattened = [dict(r, area_code=COUNTY) for r in records]
    direct = compute_indicators(make_run(tmp_path / "county", records=flattened)).table
    for indicator in ("srb", "policy_rate", "order_share_2", "registration_timeliness"):
        rolled = one(by_village, indicator, source="planning", level="county")[COMPARED]
        same = one(direct, indicator, source="planning", level="county")[COMPARED]
        pd.testing.assert_series_equal(rolled, same, check_names=False)


def test_a_county_rate_is_not_the_mean_of_township_rates(tmp_path: Path) -> None:
    """County sex ratio = total boys / total girls, not the average of the townships' ratios."""
    table = compute_indicators(make_run(tmp_path, records=mixed_register())).table
    county = one(table, "srb", source="planning", level="county")
    assert (county["numerator"], county["denominator"]) == (24, 23)
    townships = rows_of(table, "srb", source="planning", level="township")
    assert county["value"] != townships["value"].mean()


def test_township_record_is_not_put_in_a_village(tmp_path: Path) -> None:
    """A record coded to a township counts in the township and above, never in a village."""
    table = compute_indicators(make_run(tmp_path, records=mixed_register())).table
    villages = rows_of(table, "srb", source="planning", level="village")
    assert set(villages["area_code"]) == {VILLAGE_A1, VILLAGE_A2, VILLAGE_B1}
    assert one(table, "srb", source="planning", area_code=TOWN_B)["numerator"] == 15


def test_reported_rows_roll_up_and_own_totals_win(tmp_path: Path) -> None:
    """Townships without a county row sum to the county; a county's own row is kept as reported."""
    summed = [
        table_row(
            "report", TOWN_A, "2024", births=30, births_male=16, births_female=14, population=5_000
        ),
        table_row(
            "report", TOWN_B, "2024", births=20, births_male=11, births_female=9, population=4_000
        ),
    ]
    table = compute_indicators(make_run(tmp_path / "sum", tables=summed)).table
    county = one(table, "birth_rate", source="report", level="county")
    assert (county["numerator"], county["denominator"]) == (50, 9_000)
    own = summed + [
        table_row(
            "report", COUNTY, "2024", births=52, births_male=27, births_female=25, population=9_100
        )
    ]
    table = compute_indicators(make_run(tmp_path / "own", tables=own)).table
    county = one(table, "birth_rate", source="report", level="county")
    assert (county["numerator"], county["denominator"]) == (52, 9_100)


def monthly_rows(area: str, months: range, births: int = 10, population: int = 1_000) -> list[dict]:
    return [
        table_row(
            "report",
            area,
            f"2024-{m:02d}",
            births=births,
            births_male=births // 2 + 1,
            births_female=births // 2 - 1,
            population=population + m,
            population_mean=population + m,
        )
        for m in months
    ]


def test_months_make_a_year_only_when_all_are_there(tmp_path: Path) -> None:
    """Township A's 12 months make its 2024; B's 11 do not, so neither does the county's sum."""
    rows = monthly_rows(TOWN_A, range(1, 13)) + monthly_rows(TOWN_B, range(1, 12))
    result = compute_indicators(make_run(tmp_path, tables=rows))
    town_a = one(result.table, "srb", source="report", area_code=TOWN_A)
    assert (town_a["numerator"], town_a["denominator"]) == (72, 48)
    assert rows_of(result.table, "srb", source="report", area_code=TOWN_B).empty
    assert rows_of(result.table, "srb", source="report", level="county").empty
    assert any("2024 built from 12 monthly rows for 1 area" in note for note in result.notes)
    assert any("2024 not built for 1 area" in note and "11 of 12" in note for note in result.notes)


def test_stocks_take_the_last_month_and_means_weigh_days() -> None:
    """Year-end population is December's; the mean population is the day-weighted mean of months."""
    frame = pd.DataFrame(monthly_rows(TOWN_A, range(1, 13)))
    prepared, _ = prepare_tables(frame, {"report": "report"})
    year, _ = to_period_kind(prepared, "year")
    row = year.iloc[0]
    assert row["population"] == 1_012 and row["births"] == 120
    days = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert row["population_mean"] == np.average(1_000 + np.arange(1, 13), weights=days)


def test_statistical_year_from_months_of_two_calendar_years() -> None:
    """2024SY is October 2023 to September 2024: its months across the two years make it."""
    rows = [
        table_row("report", TOWN_A, p, births=3)
        for p in [f"2023-{m:02d}" for m in (10, 11, 12)] + [f"2024-{m:02d}" for m in range(1, 10)]
    ]
    prepared, _ = prepare_tables(pd.DataFrame(rows), {"report": "report"})
    sy, notes = to_period_kind(prepared, "sy")
    assert list(sy["period"]) == ["2024SY"] and sy["births"].iloc[0] == 36
    assert notes == ["report: 2024SY built from 12 monthly rows for 1 area(s)"]


def test_monthly_rates_use_the_years_population_and_add_up(tmp_path: Path) -> None:
    """A month without its own population takes its year's (marked @2024): five months of births
    over one population add up to the period's rate (8 920 over 2.72 M is 3.28 per mille)."""
    births = [1_800, 1_700, 1_900, 1_720, 1_800]
    rows = [
        table_row("report", COUNTY, f"2024-{m:02d}", births=b)
        for m, b in zip(range(1, 6), births, strict=True)
    ]
    rows.append(table_row("report", COUNTY, "2024", population=2_720_000))
    result = compute_indicators(make_run(tmp_path, tables=rows, period="month"))
    months = rows_of(result.table, "birth_rate", source="report", level="county")
    assert set(months["denominator_source"]) == {"report.population_year_end@2024"}
    assert months["numerator"].sum() == 8_920
    assert months["value"].sum() == pytest_approx(1000 * 8_920 / 2_720_000)


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, rel=1e-5)


def test_sy_windows_need_every_year(tmp_path: Path) -> None:
    """A report window is kept only for areas with all three statistical years."""
    rows = [
        table_row("report", TOWN_A, f"{y}SY", births=10, births_within_policy=9)
        for y in (2022, 2023, 2024)
    ]
    rows += [
        table_row("report", TOWN_B, f"{y}SY", births=10, births_within_policy=9)
        for y in (2023, 2024)
    ]
    prepared, _ = prepare_tables(pd.DataFrame(rows), {"report": "report"})
    rolled = rollup_reported(to_period_kind(prepared, "sy")[0], TABLE_FIELDS)
    windows = sy_windows(rolled, ["births", "births_within_policy"], 3)
    assert set(windows["area_code"]) == {TOWN_A}
    assert windows.iloc[0]["period"] == "2024SY" and windows.iloc[0]["births"] == 30


codes = st.sampled_from([VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, TOWN_A, TOWN_B, COUNTY])
count_rows = st.lists(
    st.tuples(codes, st.sampled_from(["2023", "2024"]), st.integers(0, 50), st.integers(0, 50)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=15, deadline=None)
@given(count_rows, st.randoms(use_true_random=False))
def test_record_rollup_does_not_depend_on_row_order(rows, random) -> None:
    """Summed numerators and denominators are the same whatever the order of the rows."""
    frame = pd.DataFrame(
        rows, columns=["area_code", "period", "births_male", "births_female"]
    ).assign(source="planning")
    frame[["births_male", "births_female"]] = frame[["births_male", "births_female"]].astype(float)
    shuffled = frame.sample(frac=1.0, random_state=random.randint(0, 10_000))
    keys = ["source", "level", "area_code", "period"]
    with Engine() as engine:
        first = rollup_additive(frame, ["births_male", "births_female"], engine=engine)
        second = rollup_additive(shuffled, ["births_male", "births_female"], engine=engine)
    first = first.sort_values(keys).reset_index(drop=True)
    second = second.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(first, second)
    whole = first.loc[first["level"] == "all"]
    assert whole["births_male"].sum() == frame["births_male"].sum()


@settings(max_examples=40, deadline=None)
@given(count_rows, st.randoms(use_true_random=False))
def test_reported_rollup_does_not_depend_on_row_order(rows, random) -> None:
    """The own-or-sum roll-up of reported rows is the same whatever their order."""
    frame = pd.DataFrame(
        rows, columns=["area_code", "period", "births_male", "births_female"]
    ).assign(source="report")
    frame = frame.drop_duplicates(["area_code", "period"])
    frame[["births_male", "births_female"]] = frame[["births_male", "births_female"]].astype(float)
    shuffled = frame.sample(frac=1.0, random_state=random.randint(0, 10_000))
    keys = ["source", "level", "area_code", "period"]
    first = (
        rollup_reported(frame, ["births_male", "births_female"])
        .sort_values(keys)
        .reset_index(drop=True)
    )
    second = (
        rollup_reported(shuffled, ["births_male", "births_female"])
        .sort_values(keys)
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(first, second)


def test_sql_periods_from_months_agree_with_the_schema() -> None:
    """The engine's month-to-period expressions give the same periods as fpstat.schema.periods."""
    from fpstat.engine.sql_indicators import PERIOD_FROM_MONTH
    from fpstat.schema.periods import period_of

    starts = pd.Series(pd.date_range("2019-01-01", "2026-12-01", freq="MS"))
    with Engine() as engine:
        engine.register("months", pd.DataFrame({"month": starts.dt.strftime("%Y-%m")}))
        for kind, expression in PERIOD_FROM_MONTH.items():
            periods = engine.frame(f"SELECT {expression} AS period FROM months")["period"].astype(
                str
            )
            assert list(periods) == list(period_of(starts, kind).astype(str)), kind


def test_a_county_row_with_only_its_population_takes_births_from_townships(tmp_path: Path) -> None:
    """Own figures win count by count: the county's population is its own, its births its townships'."""
    rows = [
        table_row("report", TOWN_A, "2024", births=30, population=5_000),
        table_row("report", TOWN_B, "2024", births=20, population=4_000),
        table_row("report", COUNTY, "2024", population=9_500),
    ]
    table = compute_indicators(make_run(tmp_path, tables=rows)).table
    county = one(table, "birth_rate", source="report", level="county")
    assert (county["numerator"], county["denominator"]) == (50, 9_500)


def test_a_row_given_on_two_sheets_is_combined_count_by_count() -> None:
    """The same area and period on two sheets: each count from the first row that gives it."""
    first = table_row("report", TOWN_A, "2024", births=30)
    second = table_row("report", TOWN_A, "2024", births=31, population=5_000)
    first["source_sheet"], second["source_sheet"] = "年度报表", "统计局人口"
    prepared, notes = prepare_tables(pd.DataFrame([second, first]), {"report": "report"})
    assert len(prepared) == 1
    assert (prepared["births"].iloc[0], prepared["population"].iloc[0]) == (30, 5_000)
    assert "given more than once" in notes[0]
