"""Confidence intervals of the indicators against published worked examples and hand figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpstat.indicators import (
    REGISTRY,
    completeness_interval,
    interval_for,
    poisson_difference_interval,
    poisson_exact_interval,
    rate_interval,
    sex_ratio_interval,
    wilson_interval,
)

# Newcombe RG (1998), Stat Med 17:857-872, method 3 (Wilson score, no continuity correction).
NEWCOMBE_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_WILSON)
def test_wilson_matches_newcombe_1998(x: int, n: int, low: float, high: float) -> None:
    """The Wilson interval reproduces Newcombe's (1998) worked examples to four decimals."""
    lo, hi = wilson_interval(x, n)
    assert round(float(lo[0]), 4) == low
    assert round(float(hi[0]), 4) == high


def test_wilson_is_exact_at_the_edges() -> None:
    """0 of n has a lower bound of exactly 0 and n of n an upper bound of exactly 1."""
    lo, hi = wilson_interval([0, 7], [7, 7])
    assert lo[0] == 0.0 and hi[1] == 1.0


def test_wilson_without_trials_is_undefined() -> None:
    """No trials give NaN bounds, not an error."""
    lo, hi = wilson_interval([0], [0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


@given(
    st.integers(min_value=1, max_value=100_000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_wilson_contains_estimate_and_stays_in_unit_interval(case: tuple[int, int]) -> None:
    """The Wilson interval contains x/n and lies within [0, 1] for any x <= n."""
    x, n = case
    lo, hi = wilson_interval(x, n)
    assert 0.0 <= lo[0] <= x / n <= hi[0] <= 1.0


@pytest.mark.parametrize(
    ("count", "low", "high"),
    [
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (10, 4.795, 18.39),
        (20, 12.22, 30.89),
    ],
)
def test_garwood_exact_poisson_limits(count: int, low: float, high: float) -> None:
    """Exact Poisson limits match the Garwood (1936) tables (x = 0: 0-3.689; x = 10: 4.795-18.39)."""
    lo, hi = poisson_exact_interval(count)
    assert lo[0] == pytest.approx(low, abs=5e-3)
    assert hi[0] == pytest.approx(high, abs=5e-3)


def test_birth_rate_of_the_seed_five_months() -> None:
    """8,920 births over 2.72 million people give about 3.27 per mille for the period (not annualised);
    the census's 2.81 million would give about 3.17, so the 3.27 reported implies the register's 2.72 M."""
    birth_rate = REGISTRY["birth_rate"]
    assert "not annualised" in birth_rate.unit
    register = birth_rate.scale * 8920 / 2_720_000
    census = birth_rate.scale * 8920 / 2_810_000
    assert register == pytest.approx(3.27, abs=0.01)
    assert census == pytest.approx(3.17, abs=0.01)
    implied_population = 8920 / (3.27 / 1000)
    assert implied_population == pytest.approx(2.73e6, rel=0.002)
    low, high = interval_for(birth_rate, np.array([8920.0]), np.array([2_720_000.0]))
    # Garwood bounds on the count over the population: about 3.21-3.35 per mille.
    assert low[0] == pytest.approx(3.211, abs=0.002)
    assert high[0] == pytest.approx(3.348, abs=0.002)


def test_rate_interval_divides_the_count_bounds_by_the_exposure() -> None:
    """A rate's interval is the count's exact interval over the exposure."""
    lo, hi = rate_interval(10, 1000)
    assert lo[0] == pytest.approx(4.795 / 1000, rel=1e-3)
    assert hi[0] == pytest.approx(18.39 / 1000, rel=1e-3)


def test_sex_ratio_interval_maps_the_wilson_interval_of_the_share_of_boys() -> None:
    """106 boys and 100 girls: Wilson on 106/206 mapped by p/(1-p) brackets 1.06."""
    lo, hi = sex_ratio_interval(106, 100)
    p_lo, p_hi = wilson_interval(106, 206)
    assert lo[0] == pytest.approx(p_lo[0] / (1 - p_lo[0]))
    assert hi[0] == pytest.approx(p_hi[0] / (1 - p_hi[0]))
    assert lo[0] < 1.06 < hi[0]


def test_sex_ratio_without_girls_has_no_upper_bound() -> None:
    """All boys: the upper bound of the ratio is infinite."""
    _, hi = sex_ratio_interval(5, 0)
    assert math.isinf(hi[0])


def test_completeness_interval_inverts_the_estimated_total() -> None:
    """900 registered of an estimated 1000 (950-1100): completeness 0.818-0.947."""
    lo, hi = completeness_interval(900, 950, 1100)
    assert lo[0] == pytest.approx(900 / 1100)
    assert hi[0] == pytest.approx(900 / 950)


def test_completeness_interval_is_capped_at_one() -> None:
    """A total's lower bound below the register count cannot make completeness exceed 100 %."""
    _, hi = completeness_interval(900, 880, 1000)
    assert hi[0] == 1.0


def test_underreport_interval_is_the_complement() -> None:
    """Under-reporting's interval is 100 % minus completeness's, bounds swapped."""
    numerator, denominator = np.array([900.0]), np.array([1000.0])
    bounds = {"total_low": np.array([950.0]), "total_high": np.array([1100.0])}
    c_lo, c_hi = interval_for(REGISTRY["completeness"], numerator, denominator, **bounds)
    u_lo, u_hi = interval_for(REGISTRY["underreport_rate"], numerator, denominator, **bounds)
    assert u_lo[0] == pytest.approx(100 - c_hi[0])
    assert u_hi[0] == pytest.approx(100 - c_lo[0])


def test_natural_growth_interval_is_a_poisson_difference() -> None:
    """1200 births, 800 deaths, 100 000 people: 4 per mille +- 1.96 sqrt(2000)/100 000."""
    lo, hi = poisson_difference_interval(1200, 800, 100_000)
    half = 1.959964 * math.sqrt(2000) / 100_000
    assert lo[0] == pytest.approx(0.004 - half, rel=1e-6)
    assert hi[0] == pytest.approx(0.004 + half, rel=1e-6)


def test_report_accuracy_has_no_interval() -> None:
    """The spec gives report accuracy no interval."""
    lo, hi = interval_for(REGISTRY["report_accuracy"], np.array([95.0]), np.array([100.0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])
