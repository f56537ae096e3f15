"""Stratified completeness: sum of strata, summed variance, merging of strata too small."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import chapman, lognormal_ci
from fpstat.reconcile.loglinear import fit_model
from fpstat.reconcile.strata import REST, estimate_stratified


def two_lists(planning_only: int, police_only: int, both: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"planning": [1, 1, 0], "police": [1, 0, 1], "count": [both, planning_only, police_only]}
    )


def test_sum_of_strata_and_summed_variance() -> None:
    """Adequate strata are estimated alone; N and Var add up; CI is log-normal on the total f0."""
    strata = {"F-1": two_lists(90, 70, 280), "M-1": two_lists(100, 80, 300)}
    result = estimate_stratified(strata)
    female, male = chapman(370, 350, 280), chapman(400, 380, 300)
    assert [group.stratum for group in result.strata] == ["F-1", "M-1"]
    assert result.collapsed == ()
    assert result.n_hat == pytest.approx(female.n_hat + male.n_hat)
    assert result.se == pytest.approx(math.hypot(female.se, male.se))
    low, high = lognormal_ci(result.n_observed, result.n_hat, result.se)
    assert (result.ci_low, result.ci_high) == pytest.approx((float(low), float(high)))
    assert result.estimable and result.warnings == ()


def test_small_strata_pool_into_rest() -> None:
    """Strata with fewer than 10 births on both lists are pooled into '(rest)' and reported."""
    strata = {
        "F-1": two_lists(90, 70, 280),
        "M-1": two_lists(100, 80, 300),
        "F-3": two_lists(20, 9, 6),
        "M-3": two_lists(25, 14, 7),
    }
    result = estimate_stratified(strata)
    assert [group.stratum for group in result.strata] == ["F-1", REST, "M-1"]
    rest = result.strata[1]
    assert rest.members == ("F-3", "M-3")
    assert rest.n_hat == pytest.approx(chapman(45 + 13, 23 + 13, 13).n_hat)
    assert result.collapsed == (("F-3", REST), ("M-3", REST))


def test_rest_too_small_merges_into_smallest_stratum() -> None:
    """A rest group still below 10 recaptures joins the adequate stratum with fewest births."""
    strata = {
        "big": two_lists(300, 200, 900),
        "medium": two_lists(60, 40, 120),
        "tiny-a": two_lists(5, 3, 2),
        "tiny-b": two_lists(4, 6, 0),
    }
    result = estimate_stratified(strata)
    labels = [group.stratum for group in result.strata]
    assert labels == ["big", f"medium + {REST}"]
    assert result.strata[1].members == ("medium", "tiny-a", "tiny-b")
    assert ("tiny-b", f"medium + {REST}") in result.collapsed
    assert result.n_observed == sum(frame["count"].sum() for frame in strata.values())


def test_nothing_estimable_even_pooled() -> None:
    """Lists that never overlap in any stratum: not estimable, with the reason, no exception."""
    result = estimate_stratified({"a": two_lists(5, 3, 0), "b": two_lists(2, 1, 0)})
    assert not result.estimable and result.n_hat is None
    assert result.warnings[0].code == "not-estimable"
    assert result.strata[0].members == ("a", "b")


def test_three_lists_use_the_chosen_log_linear_model() -> None:
    """With three lists each stratum gets the AIC-chosen model, or the model asked for."""
    rng = np.random.default_rng(5)
    strata = {
        name: CaptureHistories(("a", "b", "c"), rng.poisson(scale, 7).astype(float) + 5)
        for name, scale in (("x", 60), ("y", 80))
    }
    chosen = estimate_stratified(strata)
    assert all(group.method.startswith("[") for group in chosen.strata)
    fixed = estimate_stratified(strata, model="[1,2,3]")
    expected = sum(fit_model(part, "[1,2,3]", ci="lognormal").n_hat for part in strata.values())
    assert fixed.n_hat == pytest.approx(expected)


def test_strata_must_share_their_lists() -> None:
    """A stratum with other lists than the rest is a UsageError; none at all too."""
    other = pd.DataFrame({"planning": [1], "hospital": [1], "count": [3]})
    with pytest.raises(UsageError):
        estimate_stratified({"a": two_lists(5, 3, 20), "b": other})
    with pytest.raises(UsageError):
        estimate_stratified({})


def test_list_order_does_not_matter_between_strata() -> None:
    """A stratum whose table has the list columns in another order is aligned, not misread."""
    histories = CaptureHistories(("a", "b", "c"), np.array([40, 30, 25, 20, 15, 12, 10.0]))
    table = histories.to_frame()
    result = estimate_stratified(
        {"first": table, "second": table[["c", "a", "b", "count"]]}, model="[12,3]"
    )
    expected = fit_model(histories, "[12,3]", ci="lognormal").n_hat
    assert [group.n_hat for group in result.strata] == pytest.approx([expected, expected])
