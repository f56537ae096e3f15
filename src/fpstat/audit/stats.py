"""The statistical tests behind the checks, each with its reference.

Thin, tested wrappers over scipy and statsmodels, so that every check states its test in one
line and the edge cases (empty cells, zero spread) are handled once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

#: 0.6745 = Phi^-1(0.75): makes MAD a consistent estimator of the normal SD (Iglewicz & Hoaglin 1993).
MAD_SCALE = 0.6745
#: 1.253314 = sqrt(pi / 2): the ratio of the SD to the mean absolute deviation of a normal
#: distribution, used when MAD is zero (IBM SPSS Modeler "modified z-score" algorithm note).
MEANAD_SCALE = 1.253314
#: Benford (1938) / Newcomb (1881): P(first digit = d) = log10(1 + 1/d).
BENFORD_FIRST = np.log10(1.0 + 1.0 / np.arange(1, 10))


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion; (nan, nan) when there are no trials."""
    if trials <= 0:
        return (math.nan, math.nan)
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def srb_intervals(
    male: np.ndarray, female: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sex ratios at birth (boys per 100 girls) with intervals, for arrays of counts.

    Wilson interval on p = M / (M + F), mapped by 100 p / (1 - p) (monotone, so the interval
    maps onto an interval; ``inf`` when the upper bound of p is 1). NaN where there are no
    births. Returns (srb, low, high).
    """
    male = np.asarray(male, dtype=float)
    female = np.asarray(female, dtype=float)
    total = male + female
    safe_total = np.where(total > 0, total, 1.0)
    low_p, high_p = proportion_confint(male, safe_total, alpha=1 - confidence, method="wilson")

    def to_ratio(p: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(p >= 1.0, np.inf, 100.0 * p / (1.0 - p))
        return np.where(total > 0, ratio, np.nan)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(female > 0, 100.0 * male / np.where(female > 0, female, 1.0), np.inf)
    return (
        np.where(total > 0, ratio, np.nan),
        to_ratio(np.asarray(low_p)),
        to_ratio(np.asarray(high_p)),
    )


def srb_interval(male: int, female: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """:func:`srb_intervals` for one area: (srb, low, high)."""
    ratio, low, high = srb_intervals(np.array([male]), np.array([female]), confidence)
    return float(ratio[0]), float(low[0]), float(high[0])


def binomial_greater(successes: int, trials: int, probability: float) -> float:
    """One-sided exact binomial test p-value of H1: the success probability exceeds ``probability``."""
    if trials <= 0:
        return 1.0
    return float(
        stats.binomtest(int(successes), int(trials), probability, alternative="greater").pvalue
    )


def fisher_greater(events: int, trials: int, other_events: int, other_trials: int) -> float:
    """One-sided Fisher exact test p-value of H1: the rate events/trials exceeds the other rate.

    Fisher (1935): conditions on both margins, so it accounts for the uncertainty of a background
    rate estimated from the other group; it tends to the exact binomial test against that rate as
    the other group grows.
    """
    if trials <= 0 or other_trials <= 0:
        return 1.0
    table = [[events, trials - events], [other_events, other_trials - other_events]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


@dataclass(frozen=True)
class Homogeneity:
    """Pearson chi-square test of homogeneity of a 2 x k table."""

    chi2: float
    df: int
    p_value: float
    min_expected: float
    share_expected_below_5: float

    @property
    def cochran_ok(self) -> bool:
        """Cochran (1954): no expected count below 1 and at most 20 % of them below 5."""
        return self.min_expected >= 1.0 and self.share_expected_below_5 <= 0.2


def homogeneity_test(first: Sequence[int], second: Sequence[int]) -> Homogeneity | None:
    """Chi-square test that the share first/(first+second) is the same in every column.

    Columns with no counts carry no information and are dropped; ``None`` when fewer than two
    columns remain or a row is all zero (nothing can vary). No continuity correction (Pearson 1900;
    Yates' correction only applies to 2 x 2 tables and makes them conservative). The statistic
    is the one of ``scipy.stats.chi2_contingency(correction=False)`` (the tests compare them),
    computed directly because scipy's per-call overhead (~5 ms) dominates when every area of a
    province is tested.
    """
    table = np.array([np.asarray(first), np.asarray(second)], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    df = table.shape[1] - 1
    return Homogeneity(
        chi2=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)),
        min_expected=float(expected.min()),
        share_expected_below_5=float((expected < 5).mean()),
    )


def modified_z_scores(values: Sequence[float]) -> np.ndarray:
    """Modified z-scores M_i = 0.6745 (x_i - median) / MAD (Iglewicz & Hoaglin 1993, p. 11).

    When MAD is 0 (more than half the values equal), the mean absolute deviation from the median
    is used instead: M_i = (x_i - median) / (1.253314 MeanAD) (IBM SPSS Modeler algorithm; DHIS2's
    fallback wrongly recomputes the MAD there, which is 0 again). When MeanAD is 0 too, every
    value equals the median and all scores are 0.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return data
    median = float(np.median(data))
    deviations = np.abs(data - median)
    mad = float(np.median(deviations))
    if mad > 0:
        return MAD_SCALE * (data - median) / mad
    mean_ad = float(np.mean(deviations))
    if mean_ad > 0:
        return (data - median) / (MEANAD_SCALE * mean_ad)
    return np.zeros_like(data)


@dataclass(frozen=True)
class DigitTest:
    """A chi-square goodness-of-fit test of digit frequencies."""

    digits: tuple[int, ...]
    observed: tuple[int, ...]
    expected_share: tuple[float, ...]
    chi2: float
    df: int
    p_value: float
    mad: float  # mean absolute deviation of observed from expected shares (Nigrini 2012)

    @property
    def n(self) -> int:
        return int(sum(self.observed))


def _digit_test(digits: np.ndarray, labels: np.ndarray, expected_share: np.ndarray) -> DigitTest:
    observed = np.array([(digits == label).sum() for label in labels], dtype=float)
    total = observed.sum()
    result = stats.chisquare(observed, expected_share * total)
    mad = float(np.mean(np.abs(observed / total - expected_share))) if total else math.nan
    return DigitTest(
        digits=tuple(int(label) for label in labels),
        observed=tuple(int(count) for count in observed),
        expected_share=tuple(float(share) for share in expected_share),
        chi2=float(result.statistic),
        df=len(labels) - 1,
        p_value=float(result.pvalue),
        mad=mad,
    )


def terminal_digit_test(counts: Sequence[int]) -> DigitTest:
    """Last digits of counts vs the uniform distribution (chi-square, 9 df).

    Digit preference (heaping on 0 and 5) is the classic sign of figures written rather than
    counted (Preston, Heuveline & Guillot 2001, ch. 2; Beber & Scacco 2012 on reported counts).
    Only meaningful for counts of at least 10, whose last digit is noise.
    """
    data = np.asarray(counts, dtype=np.int64)
    return _digit_test(data % 10, np.arange(10), np.full(10, 0.1))


def first_digit_test(counts: Sequence[int]) -> DigitTest:
    """First digits vs Benford's law (chi-square, 8 df; Benford 1938, Nigrini 2012 ch. 4)."""
    data = np.asarray(counts, dtype=np.int64)
    data = data[data > 0]
    first = (data // 10 ** np.floor(np.log10(data)).astype(np.int64)).astype(np.int64)
    return _digit_test(first, np.arange(1, 10), BENFORD_FIRST)


def adjust_p_values(p_values: Sequence[float], method: str) -> np.ndarray:
    """Multiple-testing adjusted p-values: ``bh`` (Benjamini & Hochberg 1995), ``bonferroni`` or ``none``."""
    data = np.asarray(p_values, dtype=float)
    if data.size == 0 or method == "none":
        return data
    statsmodels_method = {"bh": "fdr_bh", "bonferroni": "bonferroni"}[method]
    return np.asarray(multipletests(data, method=statsmodels_method)[1])
