"""Estimates for counties and above: lists, strata, the model search, the stratified total.

One *problem* per area and period (:func:`prepare_area`); :func:`estimate_areas` searches the
models of all problems at once (:mod:`fpstat.reconcile.model_search`) and then estimates each
(:func:`finish_area`): Chapman (1951) or the chosen log-linear model per stratum, summed with
:func:`fpstat.reconcile.strata.estimate_stratified`, and the unstratified estimate beside it.
The method and its reasons are described in :mod:`fpstat.reconcile.completeness`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpstat.engine.sql_reconcile import COVARIATES
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import chapman
from fpstat.reconcile.loglinear import LogLinearModel, fit_model
from fpstat.reconcile.model_search import choose_models, searched_strata
from fpstat.reconcile.multiple_systems import MIN_RECAPTURES, Criterion
from fpstat.reconcile.strata import estimate_stratified
from fpstat.reconcile.unrecorded import (
    Region,
    UnrecordedCells,
    identification_region,
    unrecorded_cells,
)

ROLE_LETTERS = {"planning": "P", "police": "G", "census": "C", "hospital": "H", "education": "E"}
COVARIATE_LABELS = {"sex": "sex", "birth_order": "order", "within_policy": "policy", "migrant": "migrant"}
UNKNOWN = "unknown"


@dataclass(frozen=True)
class CompletenessSettings:
    """Knobs of the completeness estimates (defaults as documented in :mod:`.completeness`)."""

    criterion: Criterion = "aic"
    stratify: bool = True
    level: float = 0.95
    min_recaptures: float = MIN_RECAPTURES
    min_list_share: float = 0.01
    min_covariate_share: float = 0.9


@dataclass
class AreaEstimate:
    """The estimate of one county-or-above area and period, and what sub-areas reuse of it."""

    lists: tuple[str, ...]
    covariates: tuple[str, ...]
    n_hat: float = np.nan
    se: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    reference: tuple[float, float, float, float] = (np.nan,) * 4  # n_hat, se, low, high
    reference_rate: tuple[float, float, float] | None = None  # n_observed, n_hat, se
    method: str = "none"
    warnings: list[str] = field(default_factory=list)
    group_of: dict[str, str] = field(default_factory=dict)
    groups: pd.DataFrame | None = None  # group, n_observed, n_hat, se
    stratified: bool = False
    #: The model every group was fitted with (None: Chapman), for refits with changed counts.
    model: LogLinearModel | None = None
    #: Two lists, one of which records covariates the other does not: the identification
    #: region of the total (:mod:`fpstat.reconcile.unrecorded`).
    region: Region | None = None


def stratum_keys(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.Series:
    """``sex=F|order=2`` style names of each row's stratum (``all`` when unstratified)."""
    if not covariates:
        return pd.Series("all", index=frame.index, dtype=object)
    parts = [COVARIATE_LABELS[c] + "=" + frame[c].astype(str) for c in covariates]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key.astype(object)


def reduce_histories(history: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """Re-number capture-history bits to the lists at ``positions`` (of the full role list)."""
    reduced = np.zeros(len(history), dtype=np.int64)
    for new, old in enumerate(positions):
        reduced |= ((history >> old) & 1) << new
    return reduced


def _histories(masks: np.ndarray, births: np.ndarray, keys: pd.Series, lists: tuple[str, ...]) -> dict[str, CaptureHistories]:
    cells = 2 ** len(lists)
    result = {}
    for key, rows in pd.Series(np.arange(len(keys))).groupby(keys.to_numpy(), sort=True):
        index = rows.to_numpy()
        counts = np.bincount(masks[index], weights=births[index], minlength=cells)[1:]
        result[str(key)] = CaptureHistories(lists, counts.astype(float))
    return result


def model_label(model_name: str | None, lists: Sequence[str]) -> str:
    """``[12,3]`` over (planning, police, census) -> ``loglinear[PG,C]``; None -> ``chapman``."""
    if model_name is None:
        return "chapman"
    letters = [ROLE_LETTERS.get(name, name[:1].upper()) for name in lists]
    inner = model_name.strip("[]")
    terms = ["".join(letters[int(digit) - 1] for digit in term) for term in inner.split(",") if term]
    return "loglinear[" + ",".join(terms) + "]"


def data_warnings(pooled: CaptureHistories, min_recaptures: float) -> list[str]:
    """Too few births on two lists; pairs of lists with no birth in common."""
    codes = ["few-recaptures"] if pooled.recaptured < min_recaptures else []
    codes += [f"lists-disjoint:{pooled.lists[a]}x{pooled.lists[b]}" for a, b in pooled.pairs_without_overlap()]
    return codes


@dataclass
class AreaProblem:
    """One county-or-above area and period, ready for the model search."""

    lists: tuple[str, ...]
    covariates: tuple[str, ...]
    warnings: list[str]
    pooled: CaptureHistories | None = None
    parts: dict[str, CaptureHistories] | None = None
    searched: np.ndarray | None = None
    unrecorded: UnrecordedCells | None = None


def prepare_area(
    cells: pd.DataFrame, roles: tuple[str, ...], coverage: Mapping[str, Mapping[str, float]],
    settings: CompletenessSettings,
) -> AreaProblem:
    """Lists, covariates, strata and pooled histories of one area and period."""
    history = cells["history"].to_numpy(dtype=np.int64)
    births = cells["births"].to_numpy(dtype=float)
    n_observed = births.sum()
    warnings: list[str] = []
    positions = []
    for position, role in enumerate(roles):
        seen = births[(history >> position) & 1 == 1].sum()
        if seen >= max(settings.min_recaptures, settings.min_list_share * n_observed):
            positions.append(position)
        elif seen > 0:
            warnings.append(f"source-excluded:{role}")
    lists = tuple(roles[p] for p in positions)
    if len(lists) < 2:
        return AreaProblem(lists, (), warnings + ["too-few-sources"])
    # A covariate splits births only if every list records it and it varies here.
    varying = [c for c in COVARIATES if cells.loc[cells[c] != UNKNOWN, c].nunique() > 1]
    recorded = [c for c in varying
                if all(coverage.get(role, {}).get(c, 0.0) >= settings.min_covariate_share for role in lists)]
    covariates = tuple(recorded) if settings.stratify else ()
    # Heterogeneity a list cannot show is left in the strata: the estimate may be low.
    unrecorded = [c for c in varying if c not in recorded] if settings.stratify else []
    warnings += [f"covariate-not-recorded:{COVARIATE_LABELS[c]}" for c in unrecorded]
    masks = reduce_histories(history, positions)
    seen_rows = masks > 0
    frame = cells.loc[seen_rows]
    masks, births = masks[seen_rows], births[seen_rows]
    pooled = _histories(masks, births, pd.Series("all", index=frame.index), lists)["all"]
    problem = AreaProblem(lists, covariates, warnings + data_warnings(pooled, settings.min_recaptures), pooled)
    if covariates:
        problem.parts = _histories(masks, births, stratum_keys(frame, covariates), lists)
        if len(lists) >= 3:
            problem.searched = searched_strata([part.counts for part in problem.parts.values()],
                                               settings.min_recaptures)
    if len(lists) == 2 and unrecorded:
        problem.unrecorded = unrecorded_cells(lists, unrecorded, coverage, settings.min_covariate_share,
                                              frame, masks, births, stratum_keys(frame, covariates),
                                              stratum_keys)
    return problem


def _reference(problem: AreaProblem, model: LogLinearModel | None, settings: CompletenessSettings) -> tuple[tuple[float, ...], list[str]]:
    """The unstratified estimate: Chapman, or ``model`` fitted to the pooled histories."""
    pooled = problem.pooled
    assert pooled is not None
    if pooled.n_lists == 2:
        sizes = pooled.list_sizes
        result = chapman(float(sizes[0]), float(sizes[1]), pooled.overlap(0, 1), level=settings.level)
        values = (result.n_hat, result.se, result.ci_low, result.ci_high)
        codes = [w.code for w in result.warnings if w.code != "few-recaptures"]
    elif model is None:
        return (np.nan,) * 4, ["no-estimable-model"]
    else:
        fit = fit_model(pooled, model, ci="lognormal", level=settings.level)
        values = (fit.n_hat, fit.se, fit.ci_low, fit.ci_high)
        codes = [w.code for w in fit.warnings]
    return tuple(np.nan if v is None else float(v) for v in values), codes


def finish_area(
    problem: AreaProblem, stratified_model: LogLinearModel | None,
    pooled_model: LogLinearModel | None, settings: CompletenessSettings,
) -> AreaEstimate:
    """Estimate one area and period once its models are chosen (see the module doc), with
    the identification region where one of two lists records covariates the other does not."""
    estimate = _estimate_area(problem, stratified_model, pooled_model, settings)
    if problem.unrecorded is not None and np.isfinite(estimate.n_hat):
        group_of = estimate.group_of if estimate.stratified else {
            key: "all" for key in set(problem.unrecorded.stratum)}
        estimate.region = identification_region(problem.unrecorded, group_of, settings.min_recaptures)
    return estimate


def _estimate_area(
    problem: AreaProblem, stratified_model: LogLinearModel | None,
    pooled_model: LogLinearModel | None, settings: CompletenessSettings,
) -> AreaEstimate:
    estimate = AreaEstimate(problem.lists, problem.covariates, warnings=list(problem.warnings))
    if problem.pooled is None:
        return estimate
    reference, codes = _reference(problem, pooled_model, settings)
    estimate.reference = reference
    estimate.warnings += codes
    if np.isfinite(reference[0]):
        estimate.reference_rate = (problem.pooled.n_observed, reference[0], reference[1])
    k = len(problem.lists)
    if problem.parts is not None and (k == 2 or stratified_model is not None):
        result = estimate_stratified(
            problem.parts, model=stratified_model, criterion=settings.criterion,
            min_recaptures=settings.min_recaptures, level=settings.level,
        )
        estimate.warnings += [w.code for w in result.warnings]
        if result.estimable:
            estimate.stratified = True
            estimate.model = stratified_model
            estimate.n_hat, estimate.se = float(result.n_hat), float(result.se)
            estimate.ci_low, estimate.ci_high = float(result.ci_low), float(result.ci_high)
            estimator = model_label(None if stratified_model is None else stratified_model.name, problem.lists)
            labels = "*".join(COVARIATE_LABELS[c] for c in problem.covariates)
            estimate.method = f"{estimator} stratified {labels} ({len(result.collapsed)} collapsed)"
            estimate.group_of = {member: group.stratum for group in result.strata for member in group.members}
            estimate.groups = pd.DataFrame([
                {"group": g.stratum, "n_observed": g.n_observed, "n_hat": g.n_hat, "se": g.se}
                for g in result.strata
            ])
            estimate.warnings = sorted(set(estimate.warnings))
            return estimate
    if problem.parts is not None:
        estimate.warnings.append("stratified-not-estimable")
    estimate.n_hat, estimate.se, estimate.ci_low, estimate.ci_high = reference
    estimate.model = pooled_model
    if np.isfinite(reference[0]):
        estimate.method = model_label(None if pooled_model is None else pooled_model.name, problem.lists)
        estimate.group_of = {"all": "all"}
        estimate.groups = pd.DataFrame([{"group": "all", "n_observed": problem.pooled.n_observed,
                                         "n_hat": reference[0], "se": reference[1]}])
    estimate.covariates = ()
    estimate.warnings = sorted(set(estimate.warnings))
    return estimate


def estimate_areas(
    problems: Sequence[AreaProblem], settings: CompletenessSettings
) -> list[AreaEstimate]:
    """Search the models of all problems at once (by number of lists), then estimate each."""
    stratified: dict[int, LogLinearModel | None] = {}
    pooled: dict[int, LogLinearModel | None] = {}
    by_lists: dict[int, list[int]] = {}
    for index, problem in enumerate(problems):
        if problem.pooled is not None and len(problem.lists) >= 3:
            by_lists.setdefault(len(problem.lists), []).append(index)
    for indices in by_lists.values():
        tables = [problems[i].pooled.counts[None, :] for i in indices]  # type: ignore[union-attr]
        owners = [("pooled", i) for i in indices]
        for i in indices:
            if problems[i].searched is not None:
                tables.append(problems[i].searched)
                owners.append(("stratified", i))
        for (kind, i), (model, _) in zip(owners, choose_models(tables, settings.criterion), strict=True):
            (pooled if kind == "pooled" else stratified)[i] = model
    estimates = []
    for index, problem in enumerate(problems):
        model = stratified.get(index)
        if problem.searched is not None and model is None:
            problem.warnings.append("no-common-model")
            model = LogLinearModel(len(problem.lists))
        estimates.append(finish_area(problem, model, pooled.get(index), settings))
    return estimates
