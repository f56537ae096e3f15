"""indicators.csv: columns, order, rounding and number formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from indicators_fixtures import TOWN_B, VILLAGE_A1, VILLAGE_A2, make_run, many, table_row

from fpstat.indicators import COLUMNS, REGISTRY, compute_indicators
from fpstat.indicators.result import format_number, round_significant


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path_factory.mktemp("out")
    records = many(
        "planning", "A", 7, sex="M", birth_date="2023-11-01", area_code=VILLAGE_A1, order=1
    )
    records += many(
        "planning", "B", 5, sex="F", birth_date="2024-02-01", area_code=VILLAGE_A2, order=2
    )
    records += many("planning", "C", 3, sex="F", birth_date="2024-05-01", area_code=TOWN_B, order=1)
    tables = [
        table_row(
            "report",
            TOWN_B,
            "2024",
            population=3_000_000,
            births=29_000,
            births_male=15_100,
            births_female=13_900,
        )
    ]
    result = compute_indicators(make_run(path, records=records, tables=tables))
    csv = pd.read_csv(
        path / "indicators.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    return result.table, csv


def test_columns_in_order(written) -> None:
    """The spec's columns, then the funnel columns, then denominator_source."""
    _, csv = written
    assert tuple(csv.columns) == COLUMNS
    assert COLUMNS[-1] == "denominator_source"


def test_rows_sorted_by_indicator_source_level_area_period(written) -> None:
    """Registry order of indicators, then source, level from the whole drop down, code, period."""
    table, _ = written
    order = {name: i for i, name in enumerate(REGISTRY)}
    levels = {"all": 0, "province": 1, "prefecture": 2, "county": 3, "township": 4, "village": 5}
    keys = list(
        zip(
            table["indicator"].map(order),
            table["source"],
            table["level"].map(levels),
            table["area_code"],
            table["period"],
            strict=True,
        )
    )
    assert keys == sorted(keys)


def test_numbers_are_plain_text(written) -> None:
    """Counts are integers without '.0', values have at most 6 significant digits, no exponents."""
    _, csv = written
    assert not csv["numerator"].str.contains(r"\.").any()
    assert not csv[["value", "ci_low", "ci_high"]].apply(lambda c: c.str.contains("e")).any().any()
    birth_rate = csv[
        (csv["indicator"] == "birth_rate")
        & (csv["source"] == "report")
        & (csv["level"] == "township")
    ]
    assert birth_rate[["numerator", "denominator", "value"]].values.tolist() == [
        ["29000", "3000000", "9.66667"]
    ]


def test_rounding_keeps_counts_exact() -> None:
    """Six significant digits for fractions; integers such as populations stay exact."""
    values = pd.Series([2_723_456.0, 3.279411764705882, 0.000123456789, np.nan, np.inf])
    rounded = round_significant(values)
    assert rounded.iloc[0] == 2_723_456 and rounded.iloc[1] == 3.27941
    assert (
        rounded.iloc[2] == 0.000123457 and np.isnan(rounded.iloc[3]) and np.isinf(rounded.iloc[4])
    )
    assert format_number(0.000123457) == "0.000123457"
    assert format_number(2_723_456.0) == "2723456"
    assert format_number(float("nan")) == ""
