"""Funnel-plot limits (Spiegelhalter 2005) against hand-computed figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fpstat.indicators import funnel_limits, funnel_position
from fpstat.indicators.funnel import (
    MIN_UNITS_FOR_OVERDISPERSION,
    grouped_funnel_limits,
    overdispersion,
)


def binomial_cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1))


def binomial_quantile(q: float, n: int, p: float) -> int:
    return next(r for r in range(n + 1) if binomial_cdf(r, n, p) >= q)


def poisson_cdf(r: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(r + 1))


def poisson_quantile(q: float, mean: float) -> int:
    return next(r for r in range(10_000) if poisson_cdf(r, mean) >= q)


def test_exact_binomial_limits_are_the_quantiles_of_the_count() -> None:
    """Units of 20, 50, 200 around a pooled 10 %: limits are the binomial quantiles over n (in %)."""
    x = np.array([2.0, 5.0, 20.0])
    n = np.array([20.0, 50.0, 200.0])
    fit, limits = funnel_limits("binomial", x, n, 100.0)
    assert fit is not None and fit.target == pytest.approx(10.0) and fit.tau2 == 0.0
    for i, size in enumerate((20, 50, 200)):
        assert limits[0.95][1][i] == pytest.approx(100 * binomial_quantile(0.975, size, 0.1) / size)
        assert limits[0.95][0][i] == pytest.approx(100 * binomial_quantile(0.025, size, 0.1) / size)
        assert limits[0.998][1][i] == pytest.approx(
            100 * binomial_quantile(0.999, size, 0.1) / size
        )
    # Binom(20, 0.1): P(X <= 4) = 0.957, P(X <= 5) = 0.989, so the 97.5 % limit is 5/20.
    assert limits[0.95][1][0] == pytest.approx(25.0)


def test_interpolated_limits_follow_the_papers_appendix() -> None:
    """With interpolation: (r_p - alpha)/n, alpha = (F(r_p) - p)/(F(r_p) - F(r_p - 1))."""
    x = np.array([2.0, 5.0, 20.0])
    n = np.array([20.0, 50.0, 200.0])
    _, limits = funnel_limits("binomial", x, n, 1.0, interpolate=True)
    r = binomial_quantile(0.975, 20, 0.1)
    alpha = (binomial_cdf(r, 20, 0.1) - 0.975) / (
        binomial_cdf(r, 20, 0.1) - binomial_cdf(r - 1, 20, 0.1)
    )
    assert limits[0.95][1][0] == pytest.approx((r - alpha) / 20)
    assert limits[0.95][1][0] == pytest.approx(0.22846, abs=1e-5)


def test_exact_poisson_limits_for_rates() -> None:
    """Births over populations around a pooled 3 per mille: limits are Poisson quantiles over n."""
    x = np.array([30.0, 60.0, 9.0])
    n = np.array([10_000.0, 20_000.0, 3_000.0])
    fit, limits = funnel_limits("poisson", x, n, 1000.0)
    assert fit is not None and fit.target == pytest.approx(3.0)
    expected = 1000 * poisson_quantile(0.999, 30.0) / 10_000
    assert limits[0.998][1][0] == pytest.approx(expected)
    assert limits[0.998][0][0] == pytest.approx(1000 * poisson_quantile(0.001, 30.0) / 10_000)


def test_sex_ratio_limits_map_the_share_of_boys() -> None:
    """Sex-ratio limits are binomial limits on boys/(boys+girls) mapped to boys per 100 girls."""
    boys = np.array([52.0, 106.0, 210.0])
    girls = np.array([48.0, 100.0, 200.0])
    fit, limits = funnel_limits("sex-ratio", boys, girls, 100.0)
    share = boys.sum() / (boys.sum() + girls.sum())
    assert fit is not None and fit.target == pytest.approx(100 * share / (1 - share))
    high_share = binomial_quantile(0.975, 100, share) / 100
    assert limits[0.95][1][0] == pytest.approx(100 * high_share / (1 - high_share))


def test_an_in_control_count_on_the_first_step_is_not_flagged() -> None:
    """1 duplicate among 3 entries against a 1 % target happens 3 % of the time: within 99.8 %."""
    x = np.array([1.0, 0.0, 2.0, 1.0])
    n = np.array([3.0, 100.0, 100.0, 97.0])
    _, limits = funnel_limits("binomial", x, n, 100.0)
    positions = funnel_position(100 * x / n, limits)
    assert positions[0] in ("within", "above_95")
    assert positions[0] != "above_998"


def test_positions_name_the_band() -> None:
    """Values beyond the limits are above/below at 95 % or 99.8 %."""
    limits = {
        0.95: (np.array([1.0] * 5), np.array([2.0] * 5)),
        0.998: (np.array([0.5] * 5), np.array([3.0] * 5)),
    }
    positions = funnel_position(np.array([1.5, 2.5, 3.5, 0.7, 0.2]), limits)
    assert list(positions) == ["within", "above_95", "above_998", "below_95", "below_998"]


def test_too_few_units_give_no_funnel() -> None:
    """Two areas are no funnel."""
    fit, limits = funnel_limits("binomial", np.array([1.0, 2.0]), np.array([10.0, 20.0]), 100.0)
    assert fit is None and limits == {}


def test_overdispersion_by_hand() -> None:
    """phi is the mean square of 10 %-Winsorised z-scores on the arcsine scale; tau2 is DerSimonian-Laird."""
    x = np.array([10, 30, 12, 45, 8, 25, 60, 15, 5, 40, 22, 33], dtype=float)
    n = np.array([100, 120, 90, 150, 80, 110, 160, 95, 70, 130, 100, 140], dtype=float)
    theta = x.sum() / n.sum()
    z = [
        (math.asin(math.sqrt(xi / ni)) - math.asin(math.sqrt(theta))) * 2 * math.sqrt(ni)
        for xi, ni in zip(x, n, strict=True)
    ]
    low, high = np.quantile(z, [0.1, 0.9])
    phi = sum(min(max(v, low), high) ** 2 for v in z) / len(z)
    weights = [4 * ni for ni in n]
    tau2 = (len(z) * phi - (len(z) - 1)) / (
        sum(weights) - sum(w * w for w in weights) / sum(weights)
    )
    got_phi, got_tau2 = overdispersion("binomial", x, n, theta)
    assert got_phi == pytest.approx(phi) and phi > 1
    assert got_tau2 == pytest.approx(tau2)
    fit, limits = funnel_limits("binomial", x, n, 1.0)
    assert fit is not None and fit.adjusted
    centre = math.asin(math.sqrt(theta))
    spread = 1.959964 * math.sqrt(1 / (4 * n[0]) + tau2)
    assert limits[0.95][1][0] == pytest.approx(math.sin(centre + spread) ** 2, rel=1e-6)
    assert limits[0.95][0][0] == pytest.approx(math.sin(centre - spread) ** 2, rel=1e-6)


def test_overdispersion_needs_enough_units() -> None:
    """Below the minimum number of units the exact limits are kept, however dispersed."""
    count = MIN_UNITS_FOR_OVERDISPERSION - 1
    x = np.array([5.0, 50.0] * (count // 2) + [5.0] * (count % 2))
    n = np.full(count, 100.0)
    fit, _ = funnel_limits("binomial", x, n, 1.0)
    assert fit is not None and fit.phi > 1 and fit.tau2 == 0.0


def test_overdispersion_widens_the_limits() -> None:
    """Random-effects limits of an over-dispersed funnel are wider than the exact ones."""
    rng = np.random.default_rng(7)
    n = np.full(40, 500.0)
    x = rng.binomial(500, rng.uniform(0.05, 0.25, 40)).astype(float)
    fit, adjusted = funnel_limits("binomial", x, n, 1.0)
    exact_high = binomial_quantile(0.975, 500, x.sum() / n.sum()) / 500
    assert fit is not None and fit.adjusted
    assert adjusted[0.95][1][0] > exact_high


def test_grouped_limits_equal_one_funnel_at_a_time() -> None:
    """Computing many funnels at once gives each the limits it would get alone."""
    x = np.array([2.0, 5.0, 20.0, 30.0, 60.0, 9.0])
    n = np.array([20.0, 50.0, 200.0, 300.0, 500.0, 80.0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    fits, limits = grouped_funnel_limits("binomial", groups, x, n, 100.0)
    for group in (0, 1):
        members = groups == group
        fit, alone = funnel_limits("binomial", x[members], n[members], 100.0)
        assert fits[group] == fit
        np.testing.assert_allclose(limits[0.998][1][members], alone[0.998][1])
