"""Choose log-linear models for many areas at once, one model for all strata of an area.

Stratified multiple-system estimation fits the same model in every stratum. Which model? The
one whose *stratified* version fits best: a model with main effects and interactions that all
differ by stratum has as log-likelihood the sum of the strata's, and ``G`` times the
parameters of one stratum, so its AIC is the sum of the strata's AICs (Akaike 1974), and its
BIC the sum of ``-2 log L_g + p log n_g`` when each stratum's BIC is taken on its own births,
as Rcapture computes it per table. An unstratified search is the same with one stratum.

Every area and period is one *problem* (a matrix of strata x capture-history counts). All
problems with the same number of lists are searched together: each candidate model is fitted
to every stratum of every problem in one batched IRLS
(:func:`fpstat.reconcile.poisson_glm.fit_poisson`), so a search over 64 or 176 models costs 64
or 176 batched fits for the whole drop, not per area.

A model is estimable in a stratum when the lists it links overlap there, the IRLS converges,
and no fitted cell is on the boundary; where a fitted cell comes out small, whether the
maximum-likelihood estimate exists at all is settled exactly by
:func:`fpstat.reconcile.poisson_glm.mle_exists` (a linear programme, solved once per model and
pattern of zero cells). A candidate must be estimable in every stratum of its problem. Ties go
to the model listed first, the simpler one.

The strata searched are those the estimate will use: a stratum with fewer than
``min_recaptures`` births on two lists or more, or where even independence cannot be
estimated (one list saw every birth the others saw), is pooled with the other such strata,
and the pool is merged with the smallest usable stratum until usable
(as :func:`fpstat.reconcile.strata.estimate_stratified` collapses).

Reference: Akaike, H. (1974) A new look at the statistical model identification. IEEE Trans.
Automatic Control 19, 716-723.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from fpstat.reconcile.capture_histories import history_bits
from fpstat.reconcile.loglinear import BOUNDARY_FITTED, LogLinearModel, all_two_way_models
from fpstat.reconcile.multiple_systems import Criterion, candidate_models
from fpstat.reconcile.poisson_glm import fit_poisson, mle_exists

#: Beyond the lists where every model is fitted, models with at most this many interactions.
MAX_INTERACTIONS = 3
#: A fitted cell below this sends the stratum to the exact existence check.
SUSPICIOUS_FITTED = 1e-6


@lru_cache(maxsize=16)
def _bits(n_lists: int) -> np.ndarray:
    return history_bits(n_lists).astype(bool)


@lru_cache(maxsize=16384)
def _mle_exists(model: LogLinearModel, positive: tuple[bool, ...]) -> bool:
    """:func:`mle_exists` depends only on the model and the zero pattern: solve each once."""
    return mle_exists(model.design(), np.array(positive, dtype=bool))


def recaptured(counts: np.ndarray) -> np.ndarray:
    """Births on two lists or more, per row of ``counts``."""
    counts = np.atleast_2d(counts)
    n_lists = int(round(np.log2(counts.shape[1] + 1)))
    return counts[:, _bits(n_lists).sum(axis=1) >= 2].sum(axis=1)


def fit_rows(model: LogLinearModel, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(estimable, log_likelihood)`` of ``model`` in each row of ``counts``."""
    counts = np.atleast_2d(counts)
    bits = _bits(model.n_lists)
    estimable = np.ones(len(counts), dtype=bool)
    for first, second in model.interactions:
        estimable &= counts[:, bits[:, first] & bits[:, second]].sum(axis=1) > 0
    log_likelihood = np.full(len(counts), np.nan)
    rows = np.flatnonzero(estimable)
    if rows.size == 0:
        return estimable, log_likelihood
    fit = fit_poisson(model.design(), counts[rows])
    ok = fit.converged.copy()
    for position in np.flatnonzero(ok & (fit.smallest_fitted < SUSPICIOUS_FITTED)):
        pattern = tuple(bool(cell) for cell in counts[rows[position]] > 0)
        ok[position] = _mle_exists(model, pattern) and fit.smallest_fitted[position] >= BOUNDARY_FITTED
    estimable[rows] = ok
    log_likelihood[rows] = fit.log_likelihood
    return estimable, log_likelihood


def _usable(counts: np.ndarray, min_recaptures: float) -> bool:
    """Enough births on two lists, and the independence model has an estimate."""
    n_lists = int(round(np.log2(len(counts) + 1)))
    if recaptured(counts)[0] < min_recaptures:
        return False
    return bool(fit_rows(LogLinearModel(n_lists), counts)[0][0])


def searched_strata(strata: Sequence[np.ndarray], min_recaptures: float) -> np.ndarray:
    """The count vectors the search fits (unusable strata pooled, see the module doc)."""
    usable, rest = [], []
    for counts in strata:
        (usable if _usable(counts, min_recaptures) else rest).append(counts)
    usable.sort(key=lambda counts: float(counts.sum()))
    if not rest:
        return np.vstack(usable)
    pool = np.sum(rest, axis=0)
    while usable and not _usable(pool, min_recaptures):
        pool = pool + usable.pop(0)
    return np.vstack([*usable, pool])


def candidates(n_lists: int) -> list[LogLinearModel]:
    """The models searched for ``n_lists`` lists, simplest first."""
    return candidate_models(n_lists) or all_two_way_models(n_lists, MAX_INTERACTIONS)


def choose_models(
    problems: Sequence[np.ndarray], criterion: Criterion
) -> list[tuple[LogLinearModel | None, float]]:
    """For each problem (strata x cells, all with the same lists count), the model with the
    smallest total criterion and that criterion; ``(None, nan)`` when none is estimable."""
    if not problems:
        return []
    n_lists = int(round(np.log2(problems[0].shape[1] + 1)))
    stacked = np.vstack(problems)
    owner = np.repeat(np.arange(len(problems)), [len(problem) for problem in problems])
    births = stacked.sum(axis=1)
    best: list[tuple[LogLinearModel | None, float]] = [(None, np.nan)] * len(problems)
    for model in candidates(n_lists):
        estimable, log_likelihood = fit_rows(model, stacked)
        parameters = model.n_parameters
        value = -2.0 * log_likelihood + 2.0 * parameters
        if criterion == "bic":
            value = value + (np.log(np.maximum(births, 1.0)) - 2.0) * parameters
        totals = np.bincount(owner, weights=np.where(estimable, value, 0.0), minlength=len(problems))
        complete = np.bincount(owner, weights=estimable, minlength=len(problems)) == np.bincount(owner)
        for index in np.flatnonzero(complete):
            if best[index][0] is None or totals[index] < best[index][1]:
                best[index] = (model, float(totals[index]))
    return best
