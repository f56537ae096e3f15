"""Two-list estimators: Lincoln-Petersen, Chapman with Seber's variance, Chao's interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpstat.errors import UsageError
from fpstat.reconcile.estimators import (
    chapman,
    chapman_arrays,
    lincoln_petersen,
    lincoln_petersen_arrays,
    lognormal_ci,
    normal_ci,
)

# Hepatitis A, Taiwan 1995 (tests/data/histories/hepatitis_a_taiwan.csv): list sizes and
# pairwise overlaps. P = 135, Q = 122, E = 126; P&Q = 49, P&E = 45, Q&E = 46.
HAV_PAIRS = {
    "PQ": (135, 122, 49, (336.1224, 333.5600, 28.69971, 288.6791, 403.4078)),
    "PE": (135, 126, 45, (378.0000, 374.4783, 35.58183, 318.6127, 460.7587)),
    "QE": (122, 126, 46, (334.1739, 331.3617, 29.92869, 284.6868, 404.3836)),
}


@pytest.mark.parametrize("pair", sorted(HAV_PAIRS))
def test_pairwise_hepatitis_matches_care(pair: str) -> None:
    """Petersen, Chapman, Seber SE and Chao's log-normal CI equal CARE1's printed digits.

    Source: Chao et al. (2001) Statistics in Medicine 20, 3123-3157, pairwise estimates of the
    HAV data, as printed by their program CARE (R package CARE1 1.1.0, ``estN.pair(HAV)``):
    columns Petersen, Chapman, se, cil, ciu at R's default 7 significant digits.
    """
    n1, n2, m, (petersen, chapman_n, se, low, high) = HAV_PAIRS[pair]
    estimate = chapman(n1, n2, m)
    assert round(lincoln_petersen(n1, n2, m).n_hat, 4) == petersen
    assert round(estimate.n_hat, 4) == chapman_n
    assert round(estimate.se, 5) == se
    assert (round(estimate.ci_low, 4), round(estimate.ci_high, 4)) == (low, high)
    assert estimate.n_observed == n1 + n2 - m
    assert estimate.estimable and estimate.warnings == ()


def test_seber_two_sample_example() -> None:
    """Seber (1982, p. 107): LP 2389.9 (SE 130.4) as Rcapture prints; Chapman by hand.

    Rcapture 1.4-4 ``closedp.t`` on the example of its man/closedp.Rd prints model Mt (which is
    Lincoln-Petersen for two samples) as abundance 2389.9, stderr 130.4. Chapman:
    949 * 422 / 168 - 1 = 2382.8036; Seber's variance
    949 * 422 * 781 * 254 / (168^2 * 169) = 16655.81, SE 129.06.
    """
    petersen = lincoln_petersen(948, 421, 167)
    assert (round(petersen.n_hat, 1), round(petersen.se, 1)) == (2389.9, 130.4)
    estimate = chapman(948, 421, 167)
    assert estimate.n_hat == pytest.approx(949 * 422 / 168 - 1)
    assert estimate.se**2 == pytest.approx(949 * 422 * 781 * 254 / (168**2 * 169))
    assert round(estimate.n_hat, 2) == 2382.80
    assert round(estimate.se, 2) == 129.06


def test_no_overlap_is_not_estimable() -> None:
    """m = 0 gives estimable=False with the no-overlap reason, never a division by zero."""
    for estimator in (chapman, lincoln_petersen):
        estimate = estimator(40, 25, 0)
        assert not estimate.estimable
        assert estimate.n_hat is None and estimate.se is None and estimate.ci_low is None
        assert [warning.code for warning in estimate.warnings] == ["no-overlap"]
    empty = chapman(0, 0, 0)
    assert not empty.estimable and empty.n_observed == 0


def test_empty_list_is_not_estimable() -> None:
    """A list with no records (n2 = 0) cannot overlap: not estimable."""
    estimate = chapman(120, 0, 0)
    assert not estimate.estimable and estimate.n_observed == 120


def test_inconsistent_counts_are_usage_errors() -> None:
    """An overlap larger than a list, or a negative count, is a UsageError in both languages."""
    with pytest.raises(UsageError) as raised:
        chapman(10, 5, 6)
    assert "overlap" in raised.value.message_en and "重叠" in raised.value.message_zh
    with pytest.raises(UsageError):
        lincoln_petersen(-1, 5, 0)


def test_complete_overlap_collapses_the_interval() -> None:
    """When both lists hold the same births, N = n with SE 0 and the CI is [n, n]."""
    estimate = chapman(50, 50, 50)
    assert estimate.n_hat == pytest.approx(50.0)
    assert estimate.se == 0
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((50.0, 50.0))


def test_few_recaptures_warns() -> None:
    """Fewer than 10 births on both lists gives the few-recaptures warning."""
    assert [warning.code for warning in chapman(30, 20, 4).warnings] == ["few-recaptures"]


def test_normal_interval_is_symmetric_and_lognormal_is_not() -> None:
    """The normal CI is N +- 1.96 SE; the log-normal one is skewed right and stays above n."""
    normal = chapman(60, 50, 12, ci="normal")
    assert normal.ci_high - normal.n_hat == pytest.approx(normal.n_hat - normal.ci_low)
    assert normal.ci_high - normal.n_hat == pytest.approx(1.959964 * normal.se, rel=1e-6)
    lognormal = chapman(60, 50, 12)
    assert lognormal.ci_high - lognormal.n_hat > lognormal.n_hat - lognormal.ci_low
    assert lognormal.ci_low >= lognormal.n_observed


def test_unknown_interval_and_bad_level_are_usage_errors() -> None:
    """An unknown interval method or a level outside (0, 1) is refused."""
    with pytest.raises(UsageError):
        chapman(60, 50, 12, ci="wald")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        chapman(60, 50, 12, level=95)


def test_lognormal_ci_formula() -> None:
    """Chao (1987): C = exp(1.96 sqrt(log(1 + var/f0^2))), CI = [n + f0/C, n + f0 C]."""
    low, high = lognormal_ci(200, 250, 20)
    factor = math.exp(1.959963985 * math.sqrt(math.log(1 + 400 / 2500)))
    assert float(low) == pytest.approx(200 + 50 / factor)
    assert float(high) == pytest.approx(200 + 50 * factor)
    low, high = normal_ci(250, 20)
    assert (float(low), float(high)) == pytest.approx((250 - 39.19928, 250 + 39.19928))


def test_vectorised_estimators_equal_scalar_ones() -> None:
    """The array forms give the scalar results element by element, NaN where m = 0."""
    n1, n2, m = np.array([135, 135, 40]), np.array([122, 126, 25]), np.array([49, 45, 0])
    n_hat, se, estimable = chapman_arrays(n1, n2, m)
    assert list(estimable) == [True, True, False]
    for index in range(2):
        scalar = chapman(int(n1[index]), int(n2[index]), int(m[index]))
        assert n_hat[index] == pytest.approx(scalar.n_hat)
        assert se[index] == pytest.approx(scalar.se)
    assert np.isnan(n_hat[2]) and np.isnan(se[2])
    petersen, _, _ = lincoln_petersen_arrays(n1, n2, m)
    assert petersen[0] == pytest.approx(135 * 122 / 49)


@given(
    st.integers(min_value=1, max_value=5000),
    st.integers(min_value=1, max_value=5000),
    st.data(),
)
def test_estimates_never_below_births_seen(n1: int, n2: int, data: st.DataObject) -> None:
    """N >= n1 + n2 - m and the interval contains N, for Chapman and Lincoln-Petersen."""
    m = data.draw(st.integers(min_value=1, max_value=min(n1, n2)))
    for estimator in (chapman, lincoln_petersen):
        estimate = estimator(n1, n2, m)
        assert estimate.n_hat >= estimate.n_observed - 1e-9
        assert estimate.ci_low - 1e-9 <= estimate.n_hat <= estimate.ci_high + 1e-9
        assert estimate.ci_low >= estimate.n_observed - 1e-9
