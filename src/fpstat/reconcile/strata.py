"""Stratified estimation of completeness, merging strata too small to estimate.

Capture probabilities differ between kinds of births (a migrant mother's second child is missed
more often than a local first child), and an estimate that pools them is biased downwards
(heterogeneity; Sekar & Deming 1949). The reconcile step therefore estimates each stratum
(county x period, split by sex, birth order, policy status, migrant status) on its own and adds
them up:

* per stratum: two lists -> Chapman with Seber's variance; three or more -> the log-linear
  model chosen by AIC (or BIC), or a given model, with Rcapture's standard error;
* total ``N = sum N_s``; strata are independent, so ``Var(N) = sum Var(N_s)``; the interval is
  Chao's (1987) log-normal one on the total never seen, ``f0 = N - n``.

A stratum is too small when fewer than ``min_recaptures`` of its births (default 10) are on two
lists or more, or when no estimate exists for it. The rule for those, applied until every
estimated group is large enough:

1. all too-small strata are pooled into one group, ``"(rest)"``, and estimated together;
2. if that group is still too small, it is merged with the smallest adequate stratum (fewest
   births seen; ties by name) and re-estimated, and so on with the next smallest;
3. if even everything pooled cannot be estimated, the result is not estimable.

Every stratum not estimated on its own is reported with the group it went into.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import EstimationWarning, chapman, lognormal_ci
from fpstat.reconcile.loglinear import LogLinearModel, fit_model
from fpstat.reconcile.multiple_systems import MIN_RECAPTURES, Criterion, estimate_mse

REST = "(rest)"


@dataclass(frozen=True)
class StratumEstimate:
    """The estimate of one group of strata (usually a single stratum)."""

    stratum: str
    members: tuple[str, ...]
    n_observed: float
    recaptured: float
    n_hat: float | None
    se: float | None
    method: str | None
    estimable: bool
    warnings: tuple[EstimationWarning, ...] = ()


@dataclass(frozen=True)
class StratifiedEstimate:
    """The sum over strata, its interval, and how strata were merged."""

    strata: tuple[StratumEstimate, ...]
    collapsed: tuple[tuple[str, str], ...]  # (stratum, group it was estimated in)
    n_observed: float
    n_hat: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    estimable: bool
    warnings: tuple[EstimationWarning, ...] = field(default_factory=tuple)


def _estimate_group(
    name: str,
    members: tuple[str, ...],
    histories: CaptureHistories,
    criterion: Criterion,
    model: LogLinearModel | str | None,
) -> StratumEstimate:
    if histories.n_lists == 2 and model is None:
        sizes = histories.list_sizes
        estimate = chapman(float(sizes[0]), float(sizes[1]), histories.overlap(0, 1))
        n_hat, se, method = estimate.n_hat, estimate.se, "Chapman"
        estimable, warnings = estimate.estimable, estimate.warnings
    else:
        fit = (
            estimate_mse(histories, criterion=criterion, ci="lognormal").chosen_fit
            if model is None
            else fit_model(histories, model, ci="lognormal")
        )
        if fit is None:
            n_hat = se = method = None
            estimable, warnings = False, ()
        else:
            n_hat, se, method = fit.n_hat, fit.se, fit.model
            estimable, warnings = fit.estimable, fit.warnings
    return StratumEstimate(
        name,
        members,
        histories.n_observed,
        histories.recaptured,
        n_hat,
        se,
        method,
        estimable,
        tuple(warnings),
    )


def _adequate(estimate: StratumEstimate, min_recaptures: float) -> bool:
    return estimate.estimable and estimate.recaptured >= min_recaptures


def _pooled(parts: Sequence[CaptureHistories]) -> CaptureHistories:
    return CaptureHistories(parts[0].lists, np.sum([part.counts for part in parts], axis=0))


def estimate_stratified(
    histories_by_stratum: Mapping[Hashable, pd.DataFrame | CaptureHistories],
    *,
    lists: Sequence[str] | None = None,
    criterion: Criterion = "aic",
    model: LogLinearModel | str | None = None,
    min_recaptures: float = MIN_RECAPTURES,
    level: float = 0.95,
) -> StratifiedEstimate:
    """Estimate each stratum, merge the small ones (see module doc), add up.

    ``histories_by_stratum`` maps a stratum name to its capture histories (a table with one
    0/1 column per list and ``count``, or :class:`CaptureHistories`); every stratum must have
    the same lists. Strata are reported sorted by name.
    """
    if not histories_by_stratum:
        raise UsageError("no strata to estimate", "没有可估计的层")
    names = sorted(histories_by_stratum, key=str)
    parts: dict[str, CaptureHistories] = {}
    for name in names:
        value = histories_by_stratum[name]
        parts[str(name)] = (
            CaptureHistories.from_frame(value, lists=lists)
            if isinstance(value, pd.DataFrame)
            else value
        )
    reference = parts[str(names[0])].lists if lists is None else tuple(lists)
    for name, part in parts.items():
        if set(part.lists) != set(reference):
            raise UsageError(
                f"stratum {name!r} has lists {', '.join(part.lists)}, expected "
                f"{', '.join(reference)}",
                f"层 {name!r} 的名单为 {', '.join(part.lists)}，应为 {', '.join(reference)}",
            )
        parts[name] = part.reordered(reference)

    def estimate(label: str, members: tuple[str, ...]) -> StratumEstimate:
        pooled = _pooled([parts[member] for member in members])
        return _estimate_group(label, members, pooled, criterion, model)

    position = {name: index for index, name in enumerate(parts)}

    def order(name: str) -> int:
        return position[name]

    alone = {name: estimate(name, (name,)) for name in parts}
    kept = {name: result for name, result in alone.items() if _adequate(result, min_recaptures)}
    small = tuple(name for name in parts if name not in kept)
    groups = dict(kept)
    if small:
        members = small
        label = REST
        merged = estimate(label, members)
        while not _adequate(merged, min_recaptures) and groups:
            host = min(groups, key=lambda name: (groups[name].n_observed, name))
            members = tuple(sorted((*members, *groups.pop(host).members), key=order))
            label = f"{host} + {REST}"
            merged = estimate(label, members)
        groups[label] = merged
    collapsed = tuple(
        (member, group.stratum)
        for group in groups.values()
        if len(group.members) > 1 or group.stratum != group.members[0]
        for member in group.members
    )
    ordered = tuple(sorted(groups.values(), key=lambda group: order(group.members[0])))
    return _total(ordered, tuple(sorted(collapsed)), level, min_recaptures)


def _total(
    groups: tuple[StratumEstimate, ...],
    collapsed: tuple[tuple[str, str], ...],
    level: float,
    min_recaptures: float,
) -> StratifiedEstimate:
    n_observed = float(sum(group.n_observed for group in groups))
    if not all(group.estimable for group in groups):
        warning = EstimationWarning(
            "not-estimable",
            "even with every stratum pooled no estimate exists",
            "即使合并所有层也无法估计",
        )
        return StratifiedEstimate(
            groups, collapsed, n_observed, None, None, None, None, level, False, (warning,)
        )
    n_hat = float(sum(group.n_hat or 0.0 for group in groups))
    se = float(np.sqrt(sum((group.se or 0.0) ** 2 for group in groups)))
    low, high = lognormal_ci(n_observed, n_hat, se, level)
    warnings = ()
    if any(group.recaptured < min_recaptures for group in groups):
        warnings = (
            EstimationWarning(
                "few-recaptures",
                f"even with every stratum pooled, fewer than {min_recaptures:g} births are on "
                "two lists or more: the estimate is unstable",
                f"即使合并所有层，出现在两个及以上名单中的出生仍少于 {min_recaptures:g} 例："
                "估计值不稳定",
            ),
        )
    return StratifiedEstimate(
        groups, collapsed, n_observed, n_hat, se, float(low), float(high), level, True, warnings
    )
