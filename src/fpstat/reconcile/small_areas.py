"""Completeness for many small areas at once: one model per area, or synthetic estimates.

Townships and villages are many (tens of thousands of area-periods) and small. Two ways to get
their numbers of births:

* :func:`estimate_areas` fits ONE log-linear model (chosen on a larger area, e.g. the county)
  to every area's capture histories at once: batched IRLS over areas sharing the design matrix
  (:mod:`fpstat.reconcile.poisson_glm`), so 50,000 areas take seconds. Per area it gives N, the
  Rcapture standard error ``sqrt(n0 + n0^2 Var(b0))`` and Chao's (1987) log-normal interval
  (a profile interval per area would cost dozens of refits each). Each area's numbers equal
  :func:`fpstat.reconcile.loglinear.fit_model` with ``ci="lognormal"`` on that area alone.
  With two lists, ``model="chapman"`` gives the Chapman estimate per area.
* :func:`synthetic_estimate` applies the parent stratum's capture probability
  ``p = n_parent / N_parent`` to a small area's births seen: ``N_small = n_small / p``
  (synthetic estimation: Gonzalez 1973; Purcell & Kish 1980), for areas too small to estimate
  on their own. Variance: ``(n_small / n_parent)^2 Var(N_parent) + N_small (1 - p) / p`` (the
  parent's uncertainty, plus the binomial chance of seeing ``n_small`` of ``N_small`` births
  when each is seen with probability ``p``); interval log-normal on ``N_small - n_small``
  (Chao 1987). It assumes the small area is seen as completely as its parent stratum: the
  variance does not cover the error of that assumption.

References: Gonzalez, M. E. (1973) Use and evaluation of synthetic estimates. Proc. Social
Statistics Section, ASA, 33-36. Purcell, N. J. & Kish, L. (1980) Postcensal estimates for local
areas (or domains). Int. Stat. Review 48, 3-18.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import history_bits, history_masks
from fpstat.reconcile.estimators import chapman_arrays, lognormal_ci, z_value
from fpstat.reconcile.loglinear import (
    BOUNDARY_FITTED,
    LARGE_BIAS_SHARE,
    LARGE_ESTIMATE_RATIO,
    LogLinearModel,
    asymptotic_bias,
)
from fpstat.reconcile.poisson_glm import fit_poisson, mle_exists

CHAPMAN = "chapman"
RESULT_COLUMNS = ["n_observed", "n_hat", "se", "ci_low", "ci_high", "estimable", "warnings"]


@dataclass(frozen=True)
class AreaEstimates:
    """Per-area arrays (first axis: area). ``warnings`` holds ``;``-joined warning codes."""

    n_observed: np.ndarray
    n_hat: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    estimable: np.ndarray
    warnings: np.ndarray


def _codes(flags: dict[str, np.ndarray], n_areas: int) -> np.ndarray:
    joined = np.full(n_areas, "", dtype=object)
    for code, flagged in flags.items():
        for index in np.flatnonzero(flagged):
            joined[index] = f"{joined[index]};{code}" if joined[index] else code
    return joined


def _mle_exists_by_pattern(design: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """:func:`mle_exists` per area, solved once per distinct pattern of zero cells."""
    patterns, inverse = np.unique(positive, axis=0, return_inverse=True)
    exists = np.array([mle_exists(design, pattern) for pattern in patterns], dtype=bool)
    return exists[inverse.ravel()]


def fit_areas(
    counts: np.ndarray, model: LogLinearModel | str, *, level: float = 0.95
) -> AreaEstimates:
    """Fit one model to each row of ``counts`` (areas x ``2^k - 1`` histories, bit-mask order).

    ``model`` is a :class:`LogLinearModel`, a name such as ``"[12,3]"``, or ``"chapman"``
    (two lists only).
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    n_lists = int(round(np.log2(counts.shape[1] + 1)))
    if 2**n_lists - 1 != counts.shape[1]:
        raise ValueError("counts need one column per observable history (2^k - 1)")
    z_value(level)
    n_observed = counts.sum(axis=1)
    if isinstance(model, str) and model.strip().lower() == CHAPMAN:
        return _chapman_areas(counts, n_observed, level)
    if isinstance(model, str):
        model = LogLinearModel.parse(model, n_lists)
    bits = history_bits(n_lists).astype(bool)
    no_overlap = np.zeros(len(counts), dtype=bool)
    for first, second in model.interactions:
        no_overlap |= counts[:, bits[:, first] & bits[:, second]].sum(axis=1) == 0
    design = model.design()
    no_records = n_observed <= 0
    boundary = ~_mle_exists_by_pattern(design, counts > 0) & ~no_records & ~no_overlap
    candidates = np.flatnonzero(~(no_records | no_overlap | boundary))
    # Only areas whose estimate exists are fitted: boundary fits crawl to zero for 30+ steps.
    fit = fit_poisson(design, counts[candidates])
    not_converged = np.zeros(len(counts), dtype=bool)
    not_converged[candidates] = ~fit.converged
    boundary[candidates] |= fit.converged & (fit.smallest_fitted < BOUNDARY_FITTED)
    estimable = ~(no_records | no_overlap | not_converged | boundary)
    unseen = np.full(len(counts), np.nan)
    intercept_variance = np.full(len(counts), np.nan)
    bias = np.full(len(counts), np.nan)
    unseen[candidates] = np.exp(fit.coefficients[:, 0])
    intercept_variance[candidates] = fit.covariance[:, 0, 0]
    bias[candidates] = asymptotic_bias(design, fit.fitted, fit.covariance, unseen[candidates])
    unseen[~estimable] = np.nan
    n_hat = n_observed + unseen
    se = np.sqrt(unseen + unseen**2 * intercept_variance)
    ci_low, ci_high = lognormal_ci(n_observed, n_hat, se, level)
    flags = {
        "no-records": no_records,
        "no-overlap": no_overlap & ~no_records,
        "not-converged": not_converged,
        "boundary": boundary,
        "large-bias": estimable & (np.abs(bias) > LARGE_BIAS_SHARE * n_hat),
        "large-estimate": estimable & (n_hat > LARGE_ESTIMATE_RATIO * n_observed),
    }
    return AreaEstimates(
        n_observed, n_hat, se, ci_low, ci_high, estimable, _codes(flags, len(counts))
    )


def _chapman_areas(counts: np.ndarray, n_observed: np.ndarray, level: float) -> AreaEstimates:
    if counts.shape[1] != 3:
        raise UsageError(
            "the Chapman estimate needs exactly two lists",
            "Chapman 估计量只适用于两个名单",
        )
    both = counts[:, 2]
    n_hat, se, estimable = chapman_arrays(counts[:, 0] + both, counts[:, 1] + both, both)
    ci_low, ci_high = lognormal_ci(n_observed, n_hat, se, level)
    flags = {"no-records": n_observed <= 0, "no-overlap": (both == 0) & (n_observed > 0)}
    return AreaEstimates(
        n_observed, n_hat, se, ci_low, ci_high, estimable, _codes(flags, len(counts))
    )


def estimate_areas(
    histories: pd.DataFrame,
    model: LogLinearModel | str,
    *,
    by: str | Sequence[str],
    lists: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per area (``by`` columns) with ``n_observed, n_hat, se, ci_low, ci_high,
    estimable, warnings``, sorted by area.

    ``histories`` is long: area columns, one 0/1 column per list, and ``count``. ``lists``
    defaults to every other column, in table order (the numbering of the model's lists).
    """
    keys = [by] if isinstance(by, str) else list(by)
    if lists is None:
        lists = [
            str(column)
            for column in histories.columns
            if column not in keys and str(column).strip().lower() != "count"
        ]
    lists, masks, counts = history_masks(histories, lists=lists)
    n_cells = 2 ** len(lists) - 1
    if histories.empty:
        return pd.DataFrame(columns=keys + RESULT_COLUMNS)
    grouping = histories.groupby(keys, sort=True, dropna=False)
    area_number = grouping.ngroup().to_numpy()
    areas = grouping.size().index.to_frame(index=False)
    seen = masks > 0
    flat_cell = area_number[seen] * n_cells + masks[seen] - 1
    cell_counts = np.bincount(
        flat_cell, weights=counts[seen], minlength=len(areas) * n_cells
    ).reshape(len(areas), n_cells)
    estimates = fit_areas(cell_counts, model, level=level)
    result = areas
    for column in RESULT_COLUMNS:
        result[column] = getattr(estimates, column)
    return result


def synthetic_estimate(
    counts: pd.DataFrame,
    capture_rates: pd.DataFrame,
    *,
    by: str | Sequence[str],
    level: float = 0.95,
) -> pd.DataFrame:
    """Synthetic estimates for small areas from their parent stratum's capture probability.

    ``counts``: one row per small area and stratum, with the stratum columns ``by`` and
    ``n_observed`` (births seen there by any list). ``capture_rates``: one row per parent
    stratum with ``by``, ``n_observed``, ``n_hat`` and ``se`` (the parent's estimate). Returns
    ``counts`` with ``p_capture``, ``n_hat``, ``se``, ``ci_low``, ``ci_high``, ``estimable``
    added (row order kept). Areas whose stratum has no usable estimate get NaN.
    """
    keys = [by] if isinstance(by, str) else list(by)
    parents = capture_rates[keys + ["n_observed", "n_hat", "se"]].rename(
        columns={"n_observed": "_parent_observed", "n_hat": "_parent_n_hat", "se": "_parent_se"}
    )
    if parents.duplicated(keys).any():
        raise UsageError(
            "capture_rates must have one row per stratum",
            "capture_rates 每个层只能有一行",
            field=", ".join(keys),
        )
    merged = counts.merge(parents, on=keys, how="left", validate="many_to_one")
    seen = merged["n_observed"].to_numpy(dtype=float)
    parent_seen = merged["_parent_observed"].to_numpy(dtype=float)
    parent_total = merged["_parent_n_hat"].to_numpy(dtype=float)
    parent_se = merged["_parent_se"].to_numpy(dtype=float)
    usable = (parent_seen > 0) & (parent_total >= parent_seen) & np.isfinite(parent_se)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_capture = np.where(usable, parent_seen / parent_total, np.nan)
        n_hat = seen / p_capture
        variance = (seen / parent_seen) ** 2 * parent_se**2 + n_hat * (1 - p_capture) / p_capture
    se = np.sqrt(variance)
    ci_low, ci_high = lognormal_ci(seen, n_hat, se, level)
    result = counts.copy()
    result["p_capture"] = p_capture
    result["n_hat"] = n_hat
    result["se"] = se
    result["ci_low"] = ci_low
    result["ci_high"] = ci_high
    result["estimable"] = usable
    return result
