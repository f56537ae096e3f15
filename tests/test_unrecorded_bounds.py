"""Identification bounds for covariates only one of two lists records (fpstat.reconcile.unrecorded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from test_reconcile_completeness import FULL, cells_of, county, simulate

from fpstat.reconcile.area_estimates import stratum_keys
from fpstat.reconcile.completeness import CompletenessSettings, completeness_table
from fpstat.reconcile.estimators import chapman, lognormal_ci
from fpstat.reconcile.unrecorded import Region, combined, identification_region, unrecorded_cells


def _cells(table: list[tuple[str, str, int, int]], b_only: dict[str, int]):
    """Rows (stratum, cell, a, m) of the recording list and births only the other list saw per
    stratum, as the per-row arrays of :class:`UnrecordedCells` (list 0 records ``order``)."""
    rows = []
    for stratum, cell, a, m in table:
        rows += [(stratum, cell, 0b11, m), (stratum, cell, 0b01, a - m)]
    rows += [(stratum, "unknown", 0b10, count) for stratum, count in b_only.items()]
    frame = pd.DataFrame(rows, columns=["sex", "birth_order", "mask", "births"])
    return unrecorded_cells(
        ("planning", "police"), ["birth_order"], {"planning": FULL, "police": {**FULL, "birth_order": 0.0}},
        0.9, frame, frame["mask"].to_numpy(), frame["births"].to_numpy(), stratum_keys(frame, ["sex"]),
        stratum_keys,
    )


def test_the_ends_put_every_police_only_birth_in_the_best_and_the_worst_covered_cell():
    """Worked by hand: police saw 90 of the register's 100 first births and 25 of its 50
    third births, and 20 births the register lacks. All 20 first births: 50 + Chapman(100,
    110, 90); all third births: 100 + Chapman(50, 45, 25). Pooled Chapman lies between."""
    cells = _cells([("F", "1", 100, 90), ("F", "3", 50, 25)], {"F": 20})
    assert cells is not None and cells.recording == "planning" and cells.covariates == ("birth_order",)
    region = identification_region(cells, {"sex=F": "sex=F"}, min_recaptures=10)
    assert region is not None
    assert region.low == pytest.approx(50 + 101 * 111 / 91 - 1)
    assert region.high == pytest.approx(100 + 51 * 46 / 26 - 1)
    assert region.var_high == pytest.approx(chapman(50, 45, 25).se ** 2)
    pooled = chapman(150, 135, 115).n_hat
    assert region.low < pooled < region.high
    assert region.observed == 170


def test_without_births_only_the_other_list_saw_the_region_is_the_register():
    cells = _cells([("F", "1", 100, 90), ("F", "3", 50, 25)], {})
    region = identification_region(cells, {"sex=F": "sex=F"}, min_recaptures=10)
    assert region is not None and region.low == pytest.approx(150) and region.high == pytest.approx(150)


def test_cells_with_few_recaptures_are_pooled_before_they_can_be_an_end():
    """A cell of 5 register births, 2 seen by police, is too small to be the worst cell alone:
    it is estimated with the others too small (the collapsing rule of the strata)."""
    cells = _cells([("F", "1", 100, 90), ("F", "2", 60, 50), ("F", "3", 5, 2)], {"F": 20})
    region = identification_region(cells, {"sex=F": "sex=F"}, min_recaptures=10)
    assert region is not None
    # the small cell joins the smallest adequate one: order 2 and 3 together, a = 65, m = 52
    assert region.high == pytest.approx(100 + 66 * 73 / 53 - 1)


def test_strata_groups_add_up():
    cells = _cells([("F", "1", 100, 90), ("F", "3", 50, 25), ("M", "1", 80, 76), ("M", "3", 40, 30)],
                   {"F": 20, "M": 10})
    both = identification_region(cells, {"sex=F": "sex=F", "sex=M": "sex=M"}, min_recaptures=10)
    alone = [identification_region(_cells([row for row in [("F", "1", 100, 90), ("F", "3", 50, 25),
                                                            ("M", "1", 80, 76), ("M", "3", 40, 30)]
                                           if row[0] == sex], {sex: n}), {f"sex={sex}": f"sex={sex}"}, 10)
             for sex, n in (("F", 20), ("M", 10))]
    assert both is not None and all(r is not None for r in alone)
    summed = combined([r for r in alone if r is not None])
    assert (both.low, both.high, both.var_low, both.var_high, both.observed) == pytest.approx(
        (summed.low, summed.high, summed.var_low, summed.var_high, summed.observed))


def test_no_region_when_no_list_records_the_covariate():
    frame = pd.DataFrame({"sex": ["F"], "birth_order": ["1"]})
    none = unrecorded_cells(("planning", "police"), ["birth_order"],
                            {"planning": {**FULL, "birth_order": 0.0}, "police": {**FULL, "birth_order": 0.0}},
                            0.9, frame, np.array([3]), np.array([1.0]), stratum_keys(frame, ["sex"]), stratum_keys)
    assert none is None
    three = unrecorded_cells(("planning", "police", "census"), ["birth_order"], {}, 0.9, frame,
                             np.array([3]), np.array([1.0]), stratum_keys(frame, ["sex"]), stratum_keys)
    assert three is None


def test_a_point_region_has_the_two_sided_log_normal_interval():
    """Width 0: Imbens & Manski's critical value is the two-sided normal quantile."""
    region = Region("planning", ("birth_order",), 1000.0, 1000.0, 400.0, 400.0, 900.0)
    low, high = region.interval(0.95)
    expected = lognormal_ci(900.0, 1000.0, 20.0, 0.95)
    assert (low, high) == pytest.approx((float(expected[0]), float(expected[1])))


def test_a_wide_region_needs_only_the_one_sided_quantile():
    """Width >> standard error: the critical value tends to the one-sided quantile 1.645, so
    each end gets the log-normal limit of a 90 % two-sided interval."""
    region = Region("planning", ("birth_order",), 1000.0, 1400.0, 100.0, 100.0, 900.0)
    low, high = region.interval(0.95)
    one_sided = 2 * norm.cdf(norm.ppf(0.95)) - 1
    assert low == pytest.approx(float(lognormal_ci(900.0, 1000.0, 10.0, one_sided)[0]), rel=1e-6)
    assert high == pytest.approx(float(lognormal_ci(900.0, 1400.0, 10.0, one_sided)[1]), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(20, 400), st.floats(0.3, 0.99)), min_size=1, max_size=5),
       st.integers(0, 300))
def test_pooled_chapman_lies_in_the_region(cells, b_only):
    """Chapman on the pooled cells is the proportional split, inside the region to within
    Chapman's +1 corrections: ``(a+1)/(m+1)`` against ``a/m`` moves each of the ``b_only``
    births by less than ``1/m``, and every cell has ``m >= 10``."""
    table = [("F", str(i), a, max(10, int(a * p))) for i, (a, p) in enumerate(cells)]
    table = [(s, c, max(a, m), m) for s, c, a, m in table]
    region = identification_region(_cells(table, {"F": b_only}), {"sex=F": "sex=F"}, min_recaptures=10)
    assert region is not None
    n_a = sum(a for _, _, a, _ in table)
    m = sum(m for _, _, _, m in table)
    pooled = chapman(n_a, m + b_only, m).n_hat
    assert n_a <= region.low + 1e-9 and region.low <= region.high
    slack = b_only / 10 + 1e-9
    assert region.low - slack <= pooled <= region.high + slack


def test_a_county_whose_police_lacks_birth_order_gets_an_interval_that_holds_the_truth():
    """Girls of order 3 are missed by both lists; police records no order. Sex-only Chapman
    is biased low and its own interval misses N; the region's interval holds it."""
    births = simulate(20000, {"planning": (0.92, 0.35), "police": (0.9, 0.3)}, seed=1)
    coverage = {"planning": FULL, "police": {**FULL, "birth_order": 0.0}}
    row = county(completeness_table(cells_of(births), ("planning", "police"), coverage, ["2024SY"],
                                    CompletenessSettings()))
    assert row["method"].startswith("chapman stratified sex (")
    assert row["bounds_low"] <= row["est_total"] <= row["bounds_high"]
    assert row["ci_low"] <= 20000 <= row["ci_high"]
    assert row["ci_high_unstratified"] < 20000  # the sampling interval alone misses
    assert "covariate-not-recorded:order" in row["warnings"]
    full = county(completeness_table(cells_of(births), ("planning", "police"),
                                     {"planning": FULL, "police": FULL}, ["2024SY"], CompletenessSettings()))
    assert np.isnan(full["bounds_low"]) and np.isnan(full["bounds_high"])


def test_the_county_summary_adds_the_periods_limits_where_a_region_widened_them():
    """Over the window the regions add up, their sampling parts are not in ``se``: the
    summary interval is the sum of the periods' limits (conservative); without a region it is
    the log-normal interval of the summed variance."""
    from fpstat.reconcile.run import county_summary

    rows = pd.DataFrame({
        "area_code": ["320581000000"] * 2 + ["320582000000"] * 2, "level": "county",
        "period": ["2024SY", "2025SY"] * 2, "n_planning": [90, 95, 90, 95], "n_police": [80, 85, 80, 85],
        "n_observed": [100, 105, 100, 105], "est_total": [110.0, 112.0, 110.0, 112.0],
        "se": [3.0, 3.0, 3.0, 3.0], "ci_low": [104.0, 107.0, 104.0, 107.0],
        "ci_high": [140.0, 135.0, 117.0, 119.0],
        "bounds_low": [105.0, 108.0, np.nan, np.nan], "bounds_high": [130.0, 128.0, np.nan, np.nan],
    })
    summary = county_summary(rows, pd.DataFrame(), ("planning", "police")).set_index("county_code")
    assert (summary.loc["320581000000", "ci_low"], summary.loc["320581000000", "ci_high"]) == (211.0, 275.0)
    low, high = lognormal_ci(205.0, 222.0, np.sqrt(18.0))
    assert summary.loc["320582000000", "ci_low"] == round(float(low), 1)
    assert summary.loc["320582000000", "ci_high"] == round(float(high), 1)
