"""Completeness from capture histories: fit the candidate models, choose one, report them all.

:func:`estimate_completeness` is the entry point for a capture-history table (one 0/1 column per
list, named by role, and ``count``):

* two lists: the Chapman estimate (chosen: nearly unbiased, Chapman 1951) and the
  Lincoln-Petersen estimate, which is the Poisson independence model ``[1,2]`` (so its fit
  statistics and profile interval are those of that model; Chapman's interval is Chao's
  log-normal one, as Chapman is no likelihood estimate);
* three lists or more: the hierarchical log-linear models with main effects and two-way
  interactions (:mod:`fpstat.reconcile.loglinear`), chosen by AIC (default) or BIC among the
  estimable ones; ties go to the model listed first (the simpler one).

Which models are fitted (the number of sets of two-way interactions grows as ``2^(k(k-1)/2)``):

* ``k = 3`` or ``4``: all of them (8 or 64 models, Rcapture's ``getAllModels(k, maxorder=2)``);
* ``k = 5``: those with at most three interactions (176 of the 1024);
* ``k >= 6``: forward stepwise selection: start from independence, add the interaction that
  lowers the criterion most, stop when none does; every model fitted on the way is reported.

Models are listed in a stable order (fewer interactions first, then by the interactions), so
the same counts always give the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Literal

import pandas as pd

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import FEW_RECAPTURES, EstimationWarning, chapman
from fpstat.reconcile.loglinear import (
    IntervalMethod,
    LogLinearModel,
    ModelFit,
    all_two_way_models,
    fit_model,
)

Criterion = Literal["aic", "bic"]

#: Up to this many lists, every set of two-way interactions is fitted.
ALL_MODELS_UP_TO = 4
#: With five lists, models with at most this many interactions are fitted.
FIVE_LIST_MAX_INTERACTIONS = 3
#: Fewer births than this on two lists or more make any estimate fragile.
MIN_RECAPTURES = 10


@dataclass(frozen=True)
class MSEResult:
    """Every fitted model, the chosen one and the warnings about the data as a whole."""

    lists: tuple[str, ...]
    n_observed: float
    models: tuple[ModelFit, ...]
    chosen: str | None
    criterion: str
    ci_method: str
    warnings: tuple[EstimationWarning, ...] = field(default_factory=tuple)

    @property
    def chosen_fit(self) -> ModelFit | None:
        return next((fit for fit in self.models if fit.model == self.chosen), None)

    def to_dict(self) -> dict[str, object]:
        """``{"models": [...], "chosen": name}``, the JSON of ``fpstat estimate --json``."""
        return {"models": [fit.to_dict() for fit in self.models], "chosen": self.chosen}


def _criterion_value(fit: ModelFit, criterion: Criterion) -> float:
    value = fit.aic if criterion == "aic" else fit.bic
    return float("inf") if value is None else value


def choose(fits: Sequence[ModelFit], criterion: Criterion) -> str | None:
    """The estimable model with the smallest criterion; the first listed wins a tie."""
    candidates = [fit for fit in fits if fit.estimable]
    if not candidates:
        return None
    return min(candidates, key=lambda fit: _criterion_value(fit, criterion)).model


def _stepwise(
    histories: CaptureHistories, criterion: Criterion, ci: IntervalMethod, level: float
) -> list[ModelFit]:
    fitted: dict[LogLinearModel, ModelFit] = {}

    def fit(model: LogLinearModel) -> ModelFit:
        if model not in fitted:
            fitted[model] = fit_model(histories, model, ci=ci, level=level)
        return fitted[model]

    current = LogLinearModel(histories.n_lists)
    pairs = list(combinations(range(histories.n_lists), 2))
    while True:
        best = fit(current)
        extensions = [
            LogLinearModel(histories.n_lists, current.interactions + (pair,))
            for pair in pairs
            if pair not in current.interactions
        ]
        scored = [
            (_criterion_value(fit(model), criterion), model.sort_key(), model)
            for model in extensions
            if fit(model).estimable
        ]
        if not scored:
            break
        value, _, model = min(scored)
        if value >= _criterion_value(best, criterion):
            break
        current = model
    return [fitted[model] for model in sorted(fitted, key=LogLinearModel.sort_key)]


def candidate_models(n_lists: int) -> list[LogLinearModel] | None:
    """The models fitted for ``n_lists`` lists, or ``None`` when stepwise search is used."""
    if n_lists <= ALL_MODELS_UP_TO:
        return all_two_way_models(n_lists)
    if n_lists == 5:
        return all_two_way_models(n_lists, FIVE_LIST_MAX_INTERACTIONS)
    return None


def _data_warnings(histories: CaptureHistories) -> list[EstimationWarning]:
    warnings = []
    if histories.recaptured < MIN_RECAPTURES:
        warnings.append(FEW_RECAPTURES)
    for first, second in histories.pairs_without_overlap():
        names = f"{histories.lists[first]} x {histories.lists[second]}"
        warnings.append(
            EstimationWarning(
                "lists-disjoint",
                f"lists {names} have no birth in common: models linking them cannot be fitted",
                f"名单 {names} 没有共同记录：含二者交互项的模型无法拟合",
            )
        )
    return warnings


def estimate_mse(
    histories: CaptureHistories,
    *,
    criterion: Criterion = "aic",
    ci: IntervalMethod = "profile",
    level: float = 0.95,
    models: Sequence[LogLinearModel | str] | None = None,
) -> MSEResult:
    """Fit the candidate log-linear models (or ``models``) and choose one by ``criterion``."""
    _check_criterion(criterion)
    if histories.n_lists < 3 and models is None:
        return _two_lists(histories, ci=ci, level=level)
    if models is not None:
        parsed = [
            LogLinearModel.parse(model, histories.n_lists) if isinstance(model, str) else model
            for model in models
        ]
        ordered = sorted(set(parsed), key=LogLinearModel.sort_key)
        fits = [fit_model(histories, model, ci=ci, level=level) for model in ordered]
    elif (candidates := candidate_models(histories.n_lists)) is not None:
        fits = [fit_model(histories, model, ci=ci, level=level) for model in candidates]
    else:
        fits = _stepwise(histories, criterion, ci, level)
    warnings = _data_warnings(histories)
    chosen = choose(fits, criterion)
    if chosen is None:
        warnings.append(
            EstimationWarning(
                "no-estimable-model",
                "no model could be estimated from these counts",
                "这些计数无法估计任何模型",
            )
        )
    return MSEResult(
        histories.lists,
        histories.n_observed,
        tuple(fits),
        chosen,
        criterion,
        ci,
        tuple(warnings),
    )


def _two_lists(histories: CaptureHistories, *, ci: IntervalMethod, level: float) -> MSEResult:
    n1, n2 = (float(size) for size in histories.list_sizes)
    both = histories.overlap(0, 1)
    chapman_estimate = chapman(n1, n2, both, ci="lognormal", level=level)
    chapman_fit = ModelFit(
        "Chapman",
        histories.n_observed,
        chapman_estimate.n_hat,
        chapman_estimate.se,
        chapman_estimate.ci_low,
        chapman_estimate.ci_high,
        "lognormal",
        None,
        None,
        None,
        None,
        None,
        chapman_estimate.estimable,
        chapman_estimate.warnings,
    )
    independence = fit_model(histories, LogLinearModel(2), ci=ci, level=level)
    petersen = replace(independence, model="Lincoln-Petersen")
    chosen = "Chapman" if chapman_fit.estimable else None
    return MSEResult(
        histories.lists,
        histories.n_observed,
        (chapman_fit, petersen),
        chosen,
        "chapman",
        ci,
        tuple(_data_warnings(histories)),
    )


def _check_criterion(criterion: str) -> None:
    if criterion not in ("aic", "bic"):
        raise UsageError(
            f"unknown criterion {criterion!r}: use aic or bic",
            f"未知的准则 {criterion!r}：请用 aic 或 bic",
        )


def estimate_completeness(
    histories: pd.DataFrame | CaptureHistories,
    *,
    lists: Sequence[str] | None = None,
    criterion: Criterion = "aic",
    ci: IntervalMethod = "profile",
    level: float = 0.95,
) -> MSEResult:
    """Estimate the births missed by every list from a capture-history table.

    ``histories`` has one 0/1 column per list (named by role) and ``count``; ``lists`` picks
    and orders the list columns (default: every column but ``count``, in table order; model
    names number the lists in this order).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"planning": [1, 1, 0], "police": [1, 0, 1], "count": [167, 781, 254]})
    >>> result = estimate_completeness(table)
    >>> result.chosen, round(result.chosen_fit.n_hat, 1)
    ('Chapman', 2382.8)
    """
    if isinstance(histories, pd.DataFrame):
        histories = CaptureHistories.from_frame(histories, lists=lists)
    elif lists is not None:
        histories = histories.reordered(lists)
    return estimate_mse(histories, criterion=criterion, ci=ci, level=level)
