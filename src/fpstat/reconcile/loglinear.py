"""Multiple-system estimation: hierarchical log-linear models of capture histories.

With ``k >= 3`` lists, the ``2^k - 1`` observed history counts are fitted by a Poisson
log-linear model (Fienberg 1972; Cormack 1989; Baillargeon & Rivest 2007)::

    log E[n_h] = b0 + sum_j b_j h_j + sum_{(i,j) in model} l_ij h_i h_j

with main effects for every list and a chosen set of two-way interactions (a pair of lists
that tend to record the same births, or to miss them together). The history seen by no list is
not observed; the model extrapolates to it: its expected count is ``n0 = exp(b0)`` and
``N = n + n0``, with ``n`` the births seen at least once.

Model names follow Rcapture: the lists are numbered 1..k in table order, ``[1,2,3]`` is
independence, ``[12,3]`` adds the interaction of lists 1 and 2, ``[12,13,23]`` has every
two-way interaction (for ``k = 3`` it fits the seven cells exactly).

Per model (every formula as in Rcapture 1.4-4, ``closedp.fitone`` / ``getN`` / ``closedpCI.t``):

* ``se = sqrt(n0 + n0^2 Var(b0))``, ``Var(b0)`` from the inverse Fisher information.
* ``deviance`` of the Poisson fit, ``df`` = cells - parameters.
* ``AIC = -2 sum log dpois(n_h, mu_h) + 2 p`` (the full Poisson log-likelihood, R's
  ``glm()$aic``) and ``BIC = AIC + (log(n) - 2) p``, ``n`` the births seen, ``p`` the number of
  parameters including the intercept. These are Rcapture's printed AIC and BIC.
* Interval, default ``profile``: the multinomial profile-likelihood interval of Cormack (1992)
  as ``closedpCI.t`` computes it (:mod:`fpstat.reconcile.profile_likelihood`); its lower end is
  never below ``n``. Alternative ``lognormal``: Chao's (1987) interval on ``f0 = N - n``,
  ``[n + f0 / C, n + f0 C]``, ``C = exp(z sqrt(log(1 + se^2 / f0^2)))``.
* Warnings (structured, never printed here): an interaction between two lists with no birth
  in common, or any other pattern of zero cells for which the maximum-likelihood estimate does
  not exist (decided exactly by :func:`fpstat.reconcile.poisson_glm.mle_exists`; the model is
  then not estimable), non-convergence, an asymptotic bias above 10 % of N (Rcapture's check), an
  estimate more than ten times the births seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np

from fpstat.errors import UsageError
from fpstat.reconcile.capture_histories import CaptureHistories, history_bits
from fpstat.reconcile.estimators import EstimationWarning, lognormal_ci, z_value
from fpstat.reconcile.poisson_glm import fit_poisson, mle_exists
from fpstat.reconcile.profile_likelihood import profile_interval

IntervalMethod = Literal["profile", "lognormal"]

#: A fitted cell count below this means the fit ran to the boundary of the parameter space.
BOUNDARY_FITTED = 1e-7
#: Rcapture warns when the asymptotic bias exceeds this share of the estimate.
LARGE_BIAS_SHARE = 0.1
#: Estimates this many times the births seen are flagged as implausibly large.
LARGE_ESTIMATE_RATIO = 10.0


def _warning(code: str, en: str, zh: str) -> EstimationWarning:
    return EstimationWarning(code, en, zh)


BOUNDARY_WARNING = _warning(
    "boundary",
    "zero cells leave this model without a finite maximum-likelihood estimate",
    "零频数单元格使该模型没有有限的极大似然估计",
)
NO_RECORDS_WARNING = _warning("no-records", "no birth was seen by any list", "任何名单都没有记录")
NOT_CONVERGED_WARNING = _warning(
    "not-converged", "the model fit did not converge", "模型拟合未收敛"
)
LARGE_BIAS_WARNING = _warning(
    "large-bias",
    "the asymptotic bias of the estimate is large (over 10 % of N)",
    "估计值的渐近偏差较大（超过 N 的 10%）",
)
LARGE_ESTIMATE_WARNING = _warning(
    "large-estimate",
    "the estimate is over ten times the births seen: the lists overlap too little",
    "估计值超过已观测出生数的十倍：名单之间重叠太少",
)


@dataclass(frozen=True, order=True)
class LogLinearModel:
    """A hierarchical log-linear model: every main effect plus some two-way interactions.

    ``interactions`` are 0-based list positions, each pair ``(i, j)`` with ``i < j``, sorted.
    """

    n_lists: int
    interactions: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        pairs = tuple(sorted({tuple(sorted(pair)) for pair in self.interactions}))
        for first, second in pairs:
            if first == second or not (0 <= first < self.n_lists and 0 <= second < self.n_lists):
                raise UsageError(
                    f"interaction {first + 1}{second + 1} does not name two of the "
                    f"{self.n_lists} lists",
                    f"交互项 {first + 1}{second + 1} 不是 {self.n_lists} 个名单中的两个",
                )
        object.__setattr__(self, "interactions", pairs)

    @classmethod
    def parse(cls, name: str, n_lists: int) -> LogLinearModel:
        """Read Rcapture notation such as ``[12,13,4]``; main effects are always included."""
        text = name.strip().replace(" ", "")
        if not re.fullmatch(r"\[(\d+(,\d+)*)?\]", text):
            raise UsageError(
                f"model {name!r} is not in the form [12,13,3]",
                f"模型 {name!r} 的写法应如 [12,13,3]",
            )
        pairs = []
        for term in filter(None, text[1:-1].split(",")):
            positions = [int(digit) - 1 for digit in term]
            if any(not 0 <= position < n_lists for position in positions):
                raise UsageError(
                    f"model {name!r} names a list beyond the {n_lists} given",
                    f"模型 {name!r} 引用了超出 {n_lists} 个名单的名单",
                )
            if len(positions) > 2:
                raise UsageError(
                    f"model {name!r}: only two-way interactions are supported",
                    f"模型 {name!r}：仅支持两两交互项",
                )
            if len(positions) == 2:
                pairs.append((positions[0], positions[1]))
        return cls(n_lists, tuple(pairs))

    @property
    def name(self) -> str:
        """Rcapture's name: the interactions, then the lists in none of them."""
        covered = {position for pair in self.interactions for position in pair}
        terms = [f"{i + 1}{j + 1}" for i, j in self.interactions]
        terms += [str(position + 1) for position in range(self.n_lists) if position not in covered]
        return "[" + ",".join(terms) + "]"

    @property
    def n_parameters(self) -> int:
        return 1 + self.n_lists + len(self.interactions)

    def design(self, *, with_unseen: bool = False) -> np.ndarray:
        """Design matrix over the observable histories (bit-mask order), intercept first.

        ``with_unseen`` appends the all-zero history as a last row (for the profile likelihood).
        """
        bits = history_bits(self.n_lists).astype(float)
        if with_unseen:
            bits = np.vstack([bits, np.zeros((1, self.n_lists))])
        columns = [np.ones(len(bits)), *bits.T]
        columns += [bits[:, i] * bits[:, j] for i, j in self.interactions]
        return np.column_stack(columns)

    def sort_key(self) -> tuple[int, tuple[tuple[int, int], ...]]:
        return (len(self.interactions), self.interactions)


def all_two_way_models(n_lists: int, max_interactions: int | None = None) -> list[LogLinearModel]:
    """Every model with main effects and any set of two-way interactions (up to a number).

    For ``k`` lists there are ``2^(k(k-1)/2)`` of them (8 for three lists, 64 for four:
    Rcapture's ``getAllModels(k, maxorder = 2)``), in a stable order: fewer interactions first.
    """
    pairs = list(combinations(range(n_lists), 2))
    limit = len(pairs) if max_interactions is None else min(max_interactions, len(pairs))
    return [
        LogLinearModel(n_lists, chosen)
        for size in range(limit + 1)
        for chosen in combinations(pairs, size)
    ]


@dataclass(frozen=True)
class ModelFit:
    """One fitted model: N, its SE and interval, the fit statistics, and what to watch."""

    model: str
    n_observed: float
    n_hat: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str
    deviance: float | None
    df: int | None
    aic: float | None
    bic: float | None
    n_parameters: int | None
    estimable: bool
    warnings: tuple[EstimationWarning, ...] = field(default_factory=tuple)
    interactions: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``fpstat estimate --json`` (values rounded to 3 decimals)."""
        return {
            "model": self.model,
            "n_hat": _rounded(self.n_hat),
            "se": _rounded(self.se),
            "ci_low": _rounded(self.ci_low),
            "ci_high": _rounded(self.ci_high),
            "deviance": _rounded(self.deviance),
            "df": self.df,
            "aic": _rounded(self.aic),
            "bic": _rounded(self.bic),
            "estimable": self.estimable,
            "interactions": [list(pair) for pair in self.interactions],
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


def _rounded(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    rounded = round(float(value), 3)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the output


def _not_estimable(
    model: LogLinearModel,
    histories: CaptureHistories,
    ci_method: str,
    warnings: list[EstimationWarning],
    statistics: tuple[float | None, int | None, float | None, float | None] = (None,) * 4,
) -> ModelFit:
    deviance, df, aic, bic = statistics
    return ModelFit(
        model.name,
        histories.n_observed,
        None,
        None,
        None,
        None,
        ci_method,
        deviance,
        df,
        aic,
        bic,
        model.n_parameters,
        False,
        tuple(warnings),
        _named_interactions(model, histories),
    )


def _named_interactions(
    model: LogLinearModel, histories: CaptureHistories
) -> tuple[tuple[str, str], ...]:
    return tuple((histories.lists[i], histories.lists[j]) for i, j in model.interactions)


def fit_model(
    histories: CaptureHistories,
    model: LogLinearModel | str,
    *,
    ci: IntervalMethod = "profile",
    level: float = 0.95,
) -> ModelFit:
    """Fit one log-linear model; never raises on degenerate counts (marks it not estimable)."""
    if isinstance(model, str):
        model = LogLinearModel.parse(model, histories.n_lists)
    if model.n_lists != histories.n_lists:
        raise UsageError(
            f"model {model.name} is for {model.n_lists} lists, the histories have "
            f"{histories.n_lists}",
            f"模型 {model.name} 对应 {model.n_lists} 个名单，而捕获历史有 {histories.n_lists} 个",
        )
    if ci not in ("profile", "lognormal"):
        raise UsageError(
            f"unknown interval {ci!r}: use profile or lognormal",
            f"未知的区间方法 {ci!r}：请用 profile 或 lognormal",
        )
    z_value(level)  # a bad level is refused whatever the data
    n_observed = histories.n_observed
    if n_observed <= 0:
        return _not_estimable(model, histories, ci, [NO_RECORDS_WARNING])
    disjoint = [
        (histories.lists[i], histories.lists[j])
        for i, j in model.interactions
        if histories.overlap(i, j) == 0
    ]
    if disjoint:
        names = ", ".join(f"{first} x {second}" for first, second in disjoint)
        return _not_estimable(
            model,
            histories,
            ci,
            [
                _warning(
                    "no-overlap",
                    f"interaction between lists with no birth in common ({names}): not estimable",
                    f"没有共同记录的名单之间的交互项（{names}）无法估计",
                )
            ],
        )
    design = model.design()
    if not mle_exists(design, histories.counts > 0):
        return _not_estimable(model, histories, ci, [BOUNDARY_WARNING])
    fit = fit_poisson(design, histories.counts)
    deviance = max(float(fit.deviance[0]), 0.0)  # a saturated fit leaves -1e-15 noise
    df = len(histories.counts) - model.n_parameters
    aic = float(-2.0 * fit.log_likelihood[0] + 2.0 * model.n_parameters)
    bic = aic + (np.log(n_observed) - 2.0) * model.n_parameters
    statistics = (deviance, df, aic, float(bic))
    if not fit.converged[0]:
        return _not_estimable(model, histories, ci, [NOT_CONVERGED_WARNING], statistics)
    if fit.smallest_fitted[0] < BOUNDARY_FITTED:
        return _not_estimable(model, histories, ci, [BOUNDARY_WARNING], statistics)
    coefficients, covariance = fit.coefficients[0], fit.covariance[0]
    unseen = float(np.exp(coefficients[0]))
    n_hat = n_observed + unseen
    se = float(np.sqrt(unseen + unseen**2 * covariance[0, 0]))
    warnings: list[EstimationWarning] = []
    bias = float(asymptotic_bias(design, fit.fitted, fit.covariance, np.array([unseen]))[0])
    if abs(bias) > LARGE_BIAS_SHARE * n_hat:
        warnings.append(LARGE_BIAS_WARNING)
    if n_hat > LARGE_ESTIMATE_RATIO * n_observed:
        warnings.append(LARGE_ESTIMATE_WARNING)
    if ci == "profile":
        ci_low, ci_high, ci_warnings = profile_interval(
            model.design(with_unseen=True), histories.counts, n_hat, coefficients, level
        )
        warnings.extend(ci_warnings)
    else:
        low, high = lognormal_ci(n_observed, n_hat, se, level)
        ci_low, ci_high = float(low), float(high)
    return ModelFit(
        model.name,
        n_observed,
        n_hat,
        se,
        ci_low,
        ci_high,
        ci,
        deviance,
        df,
        aic,
        float(bic),
        model.n_parameters,
        True,
        tuple(warnings),
        _named_interactions(model, histories),
    )


def asymptotic_bias(
    design: np.ndarray, fitted: np.ndarray, covariance: np.ndarray, unseen: np.ndarray
) -> np.ndarray:
    """Rcapture's first-order bias of ``N`` (``closedp.fitone``), one per fit (first axis).

    With ``V`` the inverse information and ``x_c`` the design rows: ``xi_c = -x_c' V x_c / 2``,
    ``psi = -2 X' diag(mu) xi - e_1``, bias ``= n0 (-V psi)_1 / 2`` with ``n0 = exp(b0)`` the
    fitted unseen count; Rcapture warns when it exceeds 10 % of N. ``fitted`` is ``(A, c)``,
    ``covariance`` ``(A, p, p)``, ``unseen`` ``(A,)``.
    """
    leverage_half = -0.5 * np.einsum("cp,apq,cq->ac", design, covariance, design)
    psi = -2.0 * (fitted * leverage_half) @ design
    psi[:, 0] -= 1.0
    return 0.5 * unseen * -np.einsum("ap,ap->a", covariance[:, 0, :], psi)
