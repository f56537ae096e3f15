"""The tests behind the audit checks, against published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fpstat.audit.stats import (
    adjust_p_values,
    binomial_greater,
    first_digit_test,
    fisher_greater,
    homogeneity_test,
    modified_z_scores,
    srb_interval,
    terminal_digit_test,
    wilson_interval,
)


def test_wilson_interval_matches_newcombe_1998():
    """81/263: Wilson score interval 0.2553-0.3662 (Newcombe 1998, Stat Med 17:857, Table I)."""
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


def test_srb_interval_maps_the_wilson_interval():
    """SRB 106 with 1,060 boys and 1,000 girls; its interval is the Wilson interval mapped by 100p/(1-p)."""
    ratio, low, high = srb_interval(1060, 1000)
    p_low, p_high = wilson_interval(1060, 2060)
    assert ratio == pytest.approx(106.0)
    assert low == pytest.approx(100 * p_low / (1 - p_low))
    assert high == pytest.approx(100 * p_high / (1 - p_high))
    assert low < 106 < high
    assert math.isinf(srb_interval(5, 0)[0]) and math.isnan(srb_interval(0, 0)[0])


def test_exact_binomial_and_fisher_examples():
    """7 of 7 at p = 0.5 gives 1/128; Fisher's tea-tasting table [[3,1],[1,3]] gives 17/70 (Fisher 1935)."""
    assert binomial_greater(7, 7, 0.5) == pytest.approx(1 / 128)
    assert fisher_greater(3, 4, 1, 4) == pytest.approx(17 / 70)
    assert binomial_greater(0, 0, 0.5) == 1.0


def test_homogeneity_chi_square_by_hand():
    """2 x 2 table [[10, 20], [30, 40]]: expected 12/18/28/42, chi-square 0.7937 on 1 df, no continuity correction."""
    result = homogeneity_test([10, 20], [30, 40])
    assert result is not None
    assert result.chi2 == pytest.approx(4 / 12 + 4 / 18 + 4 / 28 + 4 / 42)
    assert result.df == 1
    assert result.p_value == pytest.approx(0.3730, abs=1e-4)
    assert result.cochran_ok


def test_homogeneity_matches_scipy_on_random_tables():
    """The 2 x k statistic and p-value equal scipy's chi2_contingency without correction."""
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(0)
    for _ in range(20):
        boys, girls = rng.integers(1, 200, 12), rng.integers(1, 200, 12)
        ours = homogeneity_test(boys, girls)
        theirs = chi2_contingency(np.array([boys, girls]), correction=False)
        assert ours is not None
        assert ours.chi2 == pytest.approx(theirs.statistic) and ours.p_value == pytest.approx(
            theirs.pvalue
        )
        assert ours.df == theirs.dof


def test_homogeneity_drops_empty_months_and_flags_small_tables():
    """Months without births are dropped; a table of tiny counts fails Cochran's rule."""
    with_empty = homogeneity_test([10, 0, 20], [30, 0, 40])
    assert with_empty is not None and with_empty.df == 1
    assert homogeneity_test([3], [4]) is None
    small = homogeneity_test([1, 2, 1], [2, 1, 2])
    assert small is not None and not small.cochran_ok


def test_modified_z_score_by_hand():
    """Median 2.25, MAD 0.1: the 9.0 scores 0.6745 x 6.75 / 0.1 = 45.53 (Iglewicz & Hoaglin 1993)."""
    scores = modified_z_scores([2.1, 2.3, 2.2, 2.4, 2.2, 9.0])
    assert scores[-1] == pytest.approx(0.6745 * 6.75 / 0.1)
    assert scores[0] == pytest.approx(0.6745 * -0.15 / 0.1)


def test_modified_z_score_meanad_fallback_is_not_dhis2s_bug():
    """MAD 0: M = (x - median)/(1.253314 MeanAD) = 3 / (1.253314 x 3/7) = 5.585, finite (DHIS2 divides by MAD again)."""
    scores = modified_z_scores([5, 5, 5, 5, 5, 5, 8])
    assert scores[-1] == pytest.approx(7 / 1.253314)
    assert np.all(np.isfinite(scores))
    assert np.all(modified_z_scores([4, 4, 4, 4]) == 0)


def test_terminal_digits_uniform_and_heaped():
    """Counts 10..1009 have uniform last digits (chi-square 0); counts rounded to 0 or 5 are rejected."""
    uniform = terminal_digit_test(np.arange(10, 1010))
    assert uniform.chi2 == pytest.approx(0.0) and uniform.p_value == pytest.approx(1.0)
    heaped = terminal_digit_test(np.arange(10, 1010, 5))
    assert heaped.p_value < 1e-10
    assert heaped.observed[0] == 100 and heaped.observed[5] == 100


def test_benford_powers_of_two_conform_and_uniform_does_not():
    """Leading digits of 2^1..2^1000 follow Benford (Diaconis 1977); uniform 100-999 does not."""
    powers = np.array([int(str(2**k)[:6]) for k in range(1, 1001)])
    benford = first_digit_test(powers)
    assert benford.p_value > 0.5 and benford.mad < 0.006  # Nigrini's "close conformity"
    assert benford.expected_share[0] == pytest.approx(math.log10(2))
    uniform = first_digit_test(np.arange(100, 1000))
    assert uniform.p_value < 1e-10 and uniform.mad > 0.015


def test_benjamini_hochberg_published_example():
    """Benjamini & Hochberg (1995), section 4: of 15 p-values, BH at q = 0.05 rejects the four smallest."""
    p_values = [
        0.0001,
        0.0004,
        0.0019,
        0.0095,
        0.0201,
        0.0278,
        0.0298,
        0.0344,
        0.0459,
        0.3240,
        0.4262,
        0.5719,
        0.6528,
        0.7590,
        1.000,
    ]
    adjusted = adjust_p_values(p_values, "bh")
    assert list(np.flatnonzero(adjusted < 0.05)) == [0, 1, 2, 3]
    assert list(np.flatnonzero(adjust_p_values(p_values, "bonferroni") < 0.05)) == [0, 1, 2]
    assert list(adjust_p_values(p_values, "none")) == p_values
