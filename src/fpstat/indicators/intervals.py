"""Confidence intervals for the indicators (95 % unless told), vectorised over numpy arrays.

Every function takes counts (not rates) and returns ``(low, high)`` arrays on the scale of a
proportion or a count; :func:`interval_for` puts them on the indicator's own scale. Where an
interval is undefined (no trials, a zero denominator) the bounds are NaN.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2, norm
from statsmodels.stats.proportion import proportion_confint

from fpstat.indicators.registry import (
    ESTIMATOR,
    NO_INTERVAL,
    POISSON_DIFFERENCE,
    POISSON_EXACT,
    SRB_WILSON,
    WILSON,
    Indicator,
)

ArrayLike = np.ndarray | list[float] | float


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.atleast_1d(np.asarray(value, dtype="float64")) for value in values]


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion.

    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22:209-212; method 3 of Newcombe RG (1998), Two-sided confidence intervals for the
    single proportion: comparison of seven methods, Stat Med 17:857-872. With p = x/n and
    z the normal quantile: ``(2np + z^2 +- z sqrt(z^2 + 4np(1-p))) / (2(n + z^2))``.
    It stays within [0, 1] and never has zero width, unlike the Wald interval.
    Newcombe's examples: 81/263 -> 0.2553-0.3662, 0/20 -> 0-0.1611.
    """
    x, n = _arrays(successes, trials)
    low = np.full(x.shape, np.nan)
    high = np.full(x.shape, np.nan)
    valid = (n > 0) & np.isfinite(x) & np.isfinite(n)
    if valid.any():
        lo, hi = proportion_confint(x[valid], n[valid], alpha=1 - level, method="wilson")
        # The closed form is exact at the edges; float rounding is not (1e-17 for x = 0).
        low[valid] = np.where(x[valid] <= 0, 0.0, np.clip(lo, 0.0, 1.0))
        high[valid] = np.where(x[valid] >= n[valid], 1.0, np.clip(hi, 0.0, 1.0))
    return low, high


def poisson_exact_interval(count: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact interval for a Poisson count (Garwood 1936), via chi-square quantiles.

    Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437-442;
    in the chi-square form of Ulm K (1990), Am J Epidemiol 131:373-375:
    ``low = chi2(alpha/2; 2x) / 2`` (0 when x = 0), ``high = chi2(1 - alpha/2; 2x + 2) / 2``.
    Examples: x = 0 -> 0-3.689; x = 10 -> 4.795-18.39.
    """
    (x,) = _arrays(count)
    alpha = 1 - level
    low = np.where(x > 0, chi2.ppf(alpha / 2, np.maximum(2 * x, 1e-300)) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    missing = ~np.isfinite(x)
    return np.where(missing, np.nan, low), np.where(missing, np.nan, high)


def rate_interval(
    count: ArrayLike, exposure: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval of ``count / exposure`` (Garwood bounds over the exposure)."""
    x, n = _arrays(count, exposure)
    low, high = poisson_exact_interval(x, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, low / n, np.nan), np.where(n > 0, high / n, np.nan)


def sex_ratio_interval(
    male: ArrayLike, female: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Interval for the sex ratio M/F (boys per girl; times 100 for per 100 girls).

    The share of boys p = M/(M+F) is binomial; its Wilson interval (see
    :func:`wilson_interval`) is mapped through r = p/(1-p), which is increasing, so the
    bounds keep their coverage (an interval for a monotone transform of a parameter). An upper
    bound of p = 1 (no girls) maps to infinity.
    """
    m, f = _arrays(male, female)
    low_p, high_p = wilson_interval(m, m + f, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = low_p / (1.0 - low_p)
        high = np.where(high_p < 1.0, high_p / (1.0 - high_p), np.inf)
    return low, np.where(np.isnan(high_p), np.nan, high)


def completeness_interval(
    registered: ArrayLike, total_low: ArrayLike, total_high: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of register / estimated total from the estimator's interval of the total.

    Completeness ``c = n / N`` falls as N rises, so the estimator's interval (N_low, N_high)
    of the total births (reconcile: capture-recapture / multiple-system estimation) inverts to
    ``(n / N_high, n / N_low)``. Bounds are capped at 1: a register cannot be more than
    complete. The register count n is fixed, so this carries only the estimator's uncertainty.
    """
    n, lo, hi = _arrays(registered, total_low, total_high)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(hi > 0, n / hi, np.nan)
        high = np.where(lo > 0, n / lo, np.nan)
    return np.minimum(low, 1.0), np.minimum(high, 1.0)


def poisson_difference_interval(
    births: ArrayLike, deaths: ArrayLike, population: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Normal-approximation interval of ``(births - deaths) / population`` (natural growth).

    Births and deaths are taken as independent Poisson counts over the same population, so
    ``Var((B - D)/P) = (B + D) / P^2`` and the interval is ``(B - D)/P +- z sqrt(B + D)/P``:
    the Wald interval for a difference of two rates with a common denominator (Rothman KJ,
    Greenland S, Lash TL (2008), Modern Epidemiology, 3rd ed., ch. 14). The spec leaves
    natural growth without an interval; this one is given because it is well defined.
    """
    b, d, p = _arrays(births, deaths, population)
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.where(p > 0, (b - d) / p, np.nan)
        half = np.where(p > 0, z * np.sqrt(b + d) / p, np.nan)
    return centre - half, centre + half


def interval_for(
    indicator: Indicator,
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    total_low: np.ndarray | None = None,
    total_high: np.ndarray | None = None,
    births: np.ndarray | None = None,
    deaths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % interval of ``indicator`` on its own scale (``%``, ``‰``, per 100 girls ...)."""
    method = indicator.interval
    scale = indicator.scale
    size = np.atleast_1d(numerator).shape
    if method == WILSON:
        low, high = wilson_interval(numerator, denominator)
    elif method == POISSON_EXACT:
        low, high = rate_interval(numerator, denominator)
    elif method == SRB_WILSON:
        low, high = sex_ratio_interval(numerator, denominator)
    elif method == ESTIMATOR:
        if total_low is None or total_high is None:
            raise ValueError("the estimator's interval needs the total's bounds")
        low, high = completeness_interval(numerator, total_low, total_high)
        if indicator.complement:
            low, high = 1.0 - high, 1.0 - low
    elif method == POISSON_DIFFERENCE:
        if births is None or deaths is None:
            raise ValueError("a difference interval needs births and deaths")
        low, high = poisson_difference_interval(births, deaths, denominator)
    elif method == NO_INTERVAL:
        return np.full(size, np.nan), np.full(size, np.nan)
    else:
        raise ValueError(f"unknown interval method {method!r}")
    return low * scale, high * scale
