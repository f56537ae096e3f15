"""counts.csv: the register against each source, from records or from count tables alike."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reconcile_fixtures import count_table, small_drop
from scipy.stats import binom, binomtest

from fpstat.reconcile import ReconcileSettings, reconcile_inputs
from fpstat.reconcile.counts import drop_subtotals, map_periods, ratio_interval
from fpstat.rundir import RunDir
from fpstat.schema import LoadResult

AS_OF = dt.date(2026, 1, 31)


@given(st.integers(0, 400), st.integers(1, 400))
@settings(max_examples=60, deadline=None)
def test_ratio_interval_is_the_exact_conditional_one(register, source):
    """Each end leaves 2.5 % in its tail of the binomial given the total (Ederer & Mantel 1974)."""
    ratio, low, high = (float(v[0]) for v in ratio_interval(np.array([register]), np.array([source])))
    total = register + source
    assert ratio == pytest.approx(register / source)
    if register > 0:
        p_low = low / (1 + low)
        assert binom.sf(register - 1, total, p_low) == pytest.approx(0.025, abs=1e-6)
    else:
        assert low == 0.0
    p_high = high / (1 + high)
    assert binom.cdf(register, total, p_high) == pytest.approx(0.025, abs=1e-6)
    exact = binomtest(register, total).proportion_ci(0.95, method="exact")
    assert low == pytest.approx(exact.low / (1 - exact.low), rel=1e-6, abs=1e-12)


def test_ratio_without_source_births_is_blank():
    """A source with no births gives no ratio (not infinity)."""
    ratio, low, high = ratio_interval(np.array([5]), np.array([0]))
    assert np.isnan(ratio[0]) and np.isnan(low[0]) and np.isnan(high[0])


def test_periods_map_only_when_they_fit_inside():
    """Months and quarters fall into their statistical year; a calendar year straddles two."""
    mapped = map_periods(pd.Series(["2024-10", "2024-Q4", "2025-Q3", "2024", None]), "sy")
    assert mapped.tolist()[:3] == ["2025SY", "2025SY", "2025SY"]
    assert pd.isna(mapped.iloc[3]) and pd.isna(mapped.iloc[4])


def test_subtotal_rows_are_not_counted_twice():
    """A county row next to its townships' rows is a subtotal and is left out."""
    table = pd.DataFrame({
        "role": "census", "period": "2024SY",
        "area_code": ["320581000000", "320581101000", "320581102000", "320582000000"],
        "births": [30, 10, 20, 40],
    })
    kept, dropped = drop_subtotals(table)
    assert dropped == 1 and kept["area_code"].tolist() == ["320581101000", "320581102000", "320582000000"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The register against census records, and against the same census as a township table."""
    os.environ.setdefault("FPSTAT_PSEUDONYM_KEY", "tests-only-key")
    loaded, _, _ = small_drop(count=900, probabilities={"planning": 0.88, "census": 0.85}, seed=11)
    census = loaded.records["census"]
    as_table = LoadResult(records={"planning": loaded.records["planning"]},
                          counts={"census": count_table(census, "census")}, inputs=loaded.inputs)
    frames = []
    for name, data in (("records", loaded), ("table", as_table)):
        run = RunDir(tmp_path_factory.mktemp(name))
        reconcile_inputs(data, run, ReconcileSettings(as_of=AS_OF))
        frames.append(run.read_csv("counts.csv", dtype={"area_code": str, "period": str}))
    return frames


def test_census_as_records_or_as_count_table_gives_the_same_counts(two_runs):
    """Every township-and-above row is identical; the count table has no village rows."""
    from_records, from_table = two_runs
    assert set(from_table["level"]) == {"province", "prefecture", "county", "township"}
    above_villages = from_records[from_records["level"] != "village"].reset_index(drop=True)
    pd.testing.assert_frame_equal(above_villages, from_table.reset_index(drop=True))


def test_counts_add_up_and_compare_with_the_register(two_runs):
    """Boys and girls add up to births; difference and bound follow from the two counts."""
    table = two_runs[0]
    assert (table["births_male"] + table["births_female"] == table["births"]).all()
    assert (table["difference"] == table["register_births"] - table["births"]).all()
    positive = table["births"] > 0
    bound = np.minimum(1, table.loc[positive, "register_births"] / table.loc[positive, "births"]).round(4)
    assert np.allclose(table.loc[positive, "completeness_bound"], bound)
    county = table[table["level"] == "county"].groupby("period")["births"].sum()
    province = table[table["level"] == "province"].set_index("period")["births"]
    assert county.to_dict() == province.to_dict()
