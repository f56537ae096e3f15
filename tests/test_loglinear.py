"""Multiple-system estimation: log-linear models against Rcapture on published data sets.

The data sets are published (sources in the header line of each tests/data/histories file).
The reference digits are what Rcapture 1.4-4 (the reference implementation of these
estimators, Baillargeon & Rivest 2007) prints for the calls named in each test, run under
R 4.2.2; the papers' own tables were not available to transcribe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.loglinear import LogLinearModel, all_two_way_models, fit_model
from fpstat.reconcile.multiple_systems import (
    candidate_models,
    estimate_completeness,
    estimate_mse,
)
from fpstat.reconcile.poisson_glm import fit_poisson, mle_exists

DATA = Path(__file__).parent / "data" / "histories"


def load(name: str) -> CaptureHistories:
    frame = pd.read_csv(DATA / name, comment="#")
    return CaptureHistories.from_frame(frame)


# Rcapture 1.4-4 printed output (print.closedpMS and print.closedpCI, default rounding):
# model: (abundance, stderr, deviance, df, AIC, BIC, profile infCL, profile supCL).
HEPATITIS_RCAPTURE = {
    "[1,2,3]": (388.5, 21.6, 24.357, 3, 69.748, 84.156, 350.3, 435.4),
    "[12,3]": (416.0, 30.9, 21.144, 2, 68.535, 86.546, 363.2, 486.2),
    "[13,2]": (393.3, 26.8, 24.247, 2, 71.638, 89.649, 347.4, 453.7),
    "[23,1]": (413.2, 29.8, 21.331, 2, 68.722, 86.732, 362.1, 480.6),
    "[12,13]": (463.5, 59.3, 19.422, 1, 68.813, 90.426, 373.1, 618.4),
    "[12,23]": (526.7, 78.0, 13.203, 1, 62.594, 84.206, 408.9, 734.2),
    "[13,23]": (451.7, 52.9, 19.904, 1, 69.296, 90.908, 369.5, 586.7),
    "[12,13,23]": (1312.8, 518.0, 0.000, 0, 51.391, 76.606, 654.7, 3031.1),
}


@pytest.fixture(scope="module")
def hepatitis() -> CaptureHistories:
    return load("hepatitis_a_taiwan.csv")


@pytest.fixture(scope="module")
def hepatitis_result(hepatitis: CaptureHistories):
    return estimate_mse(hepatitis)


def test_hepatitis_all_models_match_rcapture(hepatitis_result) -> None:
    """Every model's N, SE, deviance, df, AIC, BIC and profile CI equal Rcapture's print.

    Data: Chao et al. (2001, Stat. Med. 20, 3123-3157), hepatitis A, 3 lists (P, Q, E).
    Reference: Rcapture 1.4-4 (Baillargeon & Rivest 2007, JSS 19(5)),
    ``closedpMS.t(hav, dfreq=TRUE, maxorder=2)`` and ``closedpCI.t(..., mX=<model>)``.
    """
    fits = {fit.model: fit for fit in hepatitis_result.models}
    assert sorted(fits) == sorted(HEPATITIS_RCAPTURE)
    for model, expected in HEPATITIS_RCAPTURE.items():
        fit = fits[model]
        printed = (
            round(fit.n_hat, 1),
            round(fit.se, 1),
            round(fit.deviance, 3) + 0.0,
            fit.df,
            round(fit.aic, 3),
            round(fit.bic, 3),
            round(fit.ci_low, 1),
            round(fit.ci_high, 1),
        )
        assert printed == expected, model


def test_hepatitis_choice_and_bias_warning(hepatitis_result) -> None:
    """AIC picks [12,13,23] (N 1312.8) and, as in Rcapture (warning #1), flags its large bias."""
    assert hepatitis_result.chosen == "[12,13,23]"
    chosen = hepatitis_result.chosen_fit
    assert [warning.code for warning in chosen.warnings] == ["large-bias"]
    assert chosen.interactions == (("P", "Q"), ("P", "E"), ("Q", "E"))
    assert hepatitis_result.criterion == "aic" and hepatitis_result.ci_method == "profile"


def test_hiv_rome_matches_rcapture() -> None:
    """HIV, Rome: AIC picks [12,3,4] = 12318.5 (SE 1188.7), profile CI 10266.0-14992.3.

    Data: Abeni et al. (1994), 4 lists, Rcapture's ``HIV``. Reference: Rcapture 1.4-4, example
    of man/closedpCI.Rd ``closedpCI.t(HIV, dfreq=TRUE, mX=~.+c1:c2)``: 12318.5 1188.7 7.614 9
    86.65 119.935, multinomial CI 10266 14992.3; ``closedpMS.t(HIV, dfreq=TRUE, maxorder=2)``:
    [1,2,3,4] 11124.6 904.8 13.026 10 90.062 117.800 (smallest BIC).
    """
    result = estimate_mse(load("hiv_rome.csv"))
    assert len(result.models) == 64
    fits = {fit.model: fit for fit in result.models}
    chosen = fits["[12,3,4]"]
    assert result.chosen == "[12,3,4]"
    assert (round(chosen.n_hat, 1), round(chosen.se, 1), round(chosen.deviance, 3)) == (
        12318.5,
        1188.7,
        7.614,
    )
    assert (chosen.df, round(chosen.aic, 3), round(chosen.bic, 3)) == (9, 86.650, 119.935)
    assert (round(chosen.ci_low, 1), round(chosen.ci_high, 1)) == (10266.0, 14992.3)
    independence = fits["[1,2,3,4]"]
    assert (round(independence.n_hat, 1), round(independence.se, 1)) == (11124.6, 904.8)
    assert (round(independence.aic, 3), round(independence.bic, 3)) == (90.062, 117.800)
    assert estimate_mse(load("hiv_rome.csv"), criterion="bic", ci="lognormal").chosen == (
        "[1,2,3,4]"
    )


def test_diabetes_bic_choice_matches_rcapture() -> None:
    """Diabetes, Casale Monferrato: BIC picks [13,24,34] (Rivest 2011's interaction set I).

    Reference: Rcapture 1.4-4 ``closedpMS.t(diabetes, dfreq=TRUE, maxorder=2)`` prints
    [13,24,34] 2472.2 53.5 21.972 7 123.135 168.213 first; ``closedpCI.t`` gives the
    multinomial profile CI 2374.5-2584.4 (ours differs by at most 0.1 in the last printed
    digit: the multinomial constant is computed exactly, where Rcapture uses Stirling's
    formula above N = 100).
    """
    result = estimate_mse(load("diabetes_casale.csv"), criterion="bic")
    chosen = result.chosen_fit
    assert result.chosen == "[13,24,34]"
    assert (round(chosen.n_hat, 1), round(chosen.se, 1), round(chosen.deviance, 3)) == (
        2472.2,
        53.5,
        21.972,
    )
    assert (chosen.df, round(chosen.aic, 3), round(chosen.bic, 3)) == (7, 123.135, 168.213)
    assert chosen.ci_low == pytest.approx(2374.5, abs=0.1)
    assert chosen.ci_high == pytest.approx(2584.4, abs=0.1)


def test_two_lists_give_chapman_and_lincoln_petersen() -> None:
    """Seber (1982, p. 107): Chapman chosen; LP row = Rcapture's Mt (2389.9, 130.4, CI 2156-2670.3).

    Reference: Rcapture 1.4-4 ``closedpCI.t(X, dfreq=TRUE, m="Mt")`` on man/closedp.Rd's Seber
    example: 2389.9 130.4 0 0 28.831 44.107, multinomial CI 2156 2670.3.
    """
    result = estimate_completeness(pd.read_csv(DATA / "seber_two_samples.csv", comment="#"))
    assert [fit.model for fit in result.models] == ["Chapman", "Lincoln-Petersen"]
    assert result.chosen == "Chapman"
    chapman_fit, petersen = result.models
    assert round(chapman_fit.n_hat, 1) == 2382.8 and chapman_fit.ci_method == "lognormal"
    assert chapman_fit.deviance is None and chapman_fit.aic is None
    assert (round(petersen.n_hat, 1), round(petersen.se, 1)) == (2389.9, 130.4)
    assert (petersen.df, round(petersen.aic, 3), round(petersen.bic, 3)) == (0, 28.831, 44.107)
    assert (round(petersen.ci_low, 1), round(petersen.ci_high, 1)) == (2156.0, 2670.3)


def test_model_names_follow_rcapture() -> None:
    """Names are Rcapture's: interactions first, then uncovered lists; parse round-trips."""
    assert [model.name for model in all_two_way_models(3)] == [
        "[1,2,3]",
        "[12,3]",
        "[13,2]",
        "[23,1]",
        "[12,13]",
        "[12,23]",
        "[13,23]",
        "[12,13,23]",
    ]
    assert LogLinearModel.parse("[34,12]", 4).name == "[12,34]"
    assert LogLinearModel.parse(" [12] ", 3).name == "[12,3]"
    for model in all_two_way_models(4):
        assert LogLinearModel.parse(model.name, 4) == model


@pytest.mark.parametrize("name", ["12,3", "[123]", "[15,2]", "[1a]"])
def test_bad_model_names_are_usage_errors(name: str) -> None:
    """Malformed names, three-way terms and lists beyond k are refused."""
    with pytest.raises(UsageError):
        LogLinearModel.parse(name, 3)


def test_number_of_candidate_models() -> None:
    """8 models for 3 lists, 64 for 4, 176 (at most 3 interactions) for 5, stepwise beyond."""
    assert [len(candidate_models(k)) for k in (3, 4, 5)] == [8, 64, 176]
    assert candidate_models(6) is None


def test_irls_matches_statsmodels(hepatitis: CaptureHistories) -> None:
    """The batched IRLS gives statsmodels' Poisson GLM coefficients, covariance, deviance."""
    design = LogLinearModel.parse("[12,23]", 3).design()
    ours = fit_poisson(design, hepatitis.counts)
    reference = sm.GLM(hepatitis.counts, design, family=sm.families.Poisson()).fit(tol=1e-12)
    assert ours.coefficients[0] == pytest.approx(reference.params, rel=1e-9)
    assert ours.covariance[0] == pytest.approx(reference.cov_params(), rel=1e-7)
    assert ours.deviance[0] == pytest.approx(reference.deviance, rel=1e-9)
    assert ours.log_likelihood[0] == pytest.approx(reference.llf, rel=1e-9)


def test_mle_existence_by_zero_pattern() -> None:
    """The LP test: a zero 'list 3 only' cell under [12,3], a zero cell of a saturated model."""
    design = LogLinearModel.parse("[12,3]", 3).design()
    assert mle_exists(design, np.array([12, 3, 17, 0, 12, 4, 12]) > 0) is False
    assert mle_exists(design, np.ones(7, dtype=bool)) is True
    saturated = LogLinearModel.parse("[12,13,23]", 3).design()
    assert mle_exists(saturated, np.array([1, 1, 1, 1, 1, 1, 0]) > 0) is False


def test_disjoint_lists_make_interaction_models_not_estimable() -> None:
    """Lists 1 and 2 with no birth in common: [12,...] models not estimable, warned, no crash."""
    counts = np.array([40, 30, 0, 25, 10, 12, 0], dtype=float)  # cells 110 and 111 empty
    result = estimate_mse(CaptureHistories(("planning", "police", "hospital"), counts))
    fits = {fit.model: fit for fit in result.models}
    assert not fits["[12,3]"].estimable and fits["[12,3]"].n_hat is None
    assert fits["[12,3]"].warnings[0].code == "no-overlap"
    assert "planning x police" in fits["[12,3]"].warnings[0].message_en
    assert fits["[1,2,3]"].estimable
    assert "lists-disjoint" in [warning.code for warning in result.warnings]
    assert result.chosen in {fit.model for fit in result.models if fit.estimable}


def test_no_records_and_no_overlap_at_all() -> None:
    """All-zero counts, or lists that never overlap: no model, chosen is None, warnings say why."""
    empty = estimate_mse(CaptureHistories(("a", "b", "c"), np.zeros(7)))
    assert empty.chosen is None and all(not fit.estimable for fit in empty.models)
    assert empty.models[0].warnings[0].code == "no-records"
    assert "no-estimable-model" in [warning.code for warning in empty.warnings]
    apart = estimate_mse(CaptureHistories(("a", "b", "c"), np.array([5, 7, 0, 9, 0, 0, 0.0])))
    assert apart.chosen is None
    assert {warning.code for fit in apart.models for warning in fit.warnings} <= {
        "no-overlap",
        "boundary",
    }


def test_json_shape(hepatitis_result) -> None:
    """to_dict has exactly models and chosen; each model has the documented keys."""
    document = hepatitis_result.to_dict()
    assert list(document) == ["models", "chosen"]
    required = {"model", "n_hat", "se", "ci_low", "ci_high", "deviance", "df", "aic", "bic"}
    assert all(required <= set(model) for model in document["models"])
    assert document["models"][-1]["deviance"] == 0.0


def test_fit_model_rejects_a_model_for_other_lists(hepatitis: CaptureHistories) -> None:
    """A four-list model on three lists, or an unknown criterion, is a UsageError."""
    with pytest.raises(UsageError):
        fit_model(hepatitis, LogLinearModel.parse("[12,34]", 4))
    with pytest.raises(UsageError):
        estimate_mse(hepatitis, criterion="dic")  # type: ignore[arg-type]


def test_stepwise_search_for_six_lists() -> None:
    """Six lists use forward stepwise search: independence and every one-interaction model."""
    rng = np.random.default_rng(7)
    counts = rng.poisson(30, size=63).astype(float)
    result = estimate_mse(CaptureHistories(tuple("abcdef"), counts), ci="lognormal")
    names = [fit.model for fit in result.models]
    assert names[0] == "[1,2,3,4,5,6]" and len(names) >= 16
    sizes = [len(fit.interactions) for fit in result.models]
    assert sizes == sorted(sizes) and sizes.count(1) == 15
    assert result.chosen in names


history_counts = st.lists(st.integers(min_value=0, max_value=60), min_size=7, max_size=7)


@settings(max_examples=20, deadline=None)
@given(history_counts)
def test_estimates_bounded_by_births_seen(counts: list[int]) -> None:
    """N >= births seen and the CI (profile and log-normal) contains N, for every estimable model."""
    histories = CaptureHistories(("a", "b", "c"), np.array(counts, dtype=float))
    for ci in ("profile", "lognormal"):
        for fit in estimate_mse(histories, ci=ci).models:
            if not fit.estimable:
                continue
            assert fit.n_hat >= fit.n_observed - 1e-6
            assert fit.ci_low >= fit.n_observed - 1e-6
            assert fit.ci_low <= fit.n_hat * (1 + 1e-9)
            assert fit.ci_high is None or fit.ci_high >= fit.n_hat * (1 - 1e-9)


@settings(max_examples=25, deadline=None)
@given(history_counts, st.permutations([0, 1, 2]), st.randoms(use_true_random=False))
def test_invariant_to_row_and_list_order(counts: list[int], order: list[int], rng) -> None:
    """Shuffling rows or list columns changes names only: the same N for the same model."""
    histories = CaptureHistories(("a", "b", "c"), np.array(counts, dtype=float))
    table = histories.to_frame()
    shuffled = table.sample(frac=1, random_state=rng.randint(0, 10_000))
    lists = [histories.lists[position] for position in order]
    reordered = estimate_completeness(shuffled[[*lists, "count"]], ci="lognormal")
    original = estimate_completeness(table, ci="lognormal")

    def by_interactions(result):
        return {
            frozenset(frozenset(pair) for pair in fit.interactions): fit for fit in result.models
        }

    left, right = by_interactions(original), by_interactions(reordered)
    assert left.keys() == right.keys()
    for key, fit in left.items():
        assert fit.estimable == right[key].estimable
        if fit.estimable:
            assert right[key].n_hat == pytest.approx(fit.n_hat, rel=1e-8)
            assert right[key].aic == pytest.approx(fit.aic, rel=1e-9, abs=1e-9)
    chosen = original.chosen_fit
    if chosen is not None:
        assert reordered.chosen_fit.n_hat == pytest.approx(chosen.n_hat, rel=1e-8)


def test_same_input_same_digits(hepatitis: CaptureHistories) -> None:
    """Two runs on the same counts give identical results, models in the same order."""
    assert estimate_mse(hepatitis).to_dict() == estimate_mse(hepatitis).to_dict()
