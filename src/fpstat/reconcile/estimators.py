"""Two-list (dual-system) estimators of a closed population and the Chao (1987) interval.

Two registers of the same births, linked record by record, give ``n1`` births in the first,
``n2`` in the second and ``m`` in both. Assuming the two registers miss births independently
(and every birth has the same chance of being in each), the number of births in neither is
estimated from the overlap:

* Lincoln-Petersen: ``N = n1 n2 / m``; variance ``n1 n2 (n1 - m)(n2 - m) / m^3``
  (Seber 1982, p. 60, eq. 3.5; identical to the Poisson log-linear variance
  ``n0 + n0^2 Var(b0)`` of the independence model ``[1,2]``). The maximum-likelihood
  estimator, biased upwards for small ``m``.
* Chapman (1951): ``N = (n1 + 1)(n2 + 1) / (m + 1) - 1``, nearly unbiased when
  ``n1 + n2 >= N``; variance (Seber 1970; Seber 1982, p. 60, eq. 3.7)
  ``(n1 + 1)(n2 + 1)(n1 - m)(n2 - m) / ((m + 1)^2 (m + 2))``. The recommended two-list estimate.

Intervals (level 95 % unless asked otherwise):

* ``lognormal`` (default), Chao (1987, Biometrics 43, 783-791, eq. 13): the number never
  seen ``f0 = N - n`` (``n = n1 + n2 - m`` births seen at least once) is taken as log-normal,
  ``C = exp(z sqrt(log(1 + var / f0^2)))`` and the interval is ``[n + f0 / C, n + f0 C]``.
  Its lower end is never below the births actually seen, unlike the normal interval. This is
  what Chao's CARE program (R package CARE1, ``estN.pair``) and Rcapture (for normal
  mixture models) print.
* ``normal``: ``N +- z se``, for reference; it can fall below the births seen.

With no overlap (``m = 0``) neither estimator says anything (Chapman's formula returns
``(n1 + 1)(n2 + 1) - 1``, a number without meaning): the result is marked
``estimable=False`` with a reason, never a division by zero. The functions also take numpy
arrays (one element per area) for vectorised use.

References: Chapman, D. G. (1951) Some properties of the hypergeometric distribution with
applications to zoological sample censuses. Univ. Calif. Publ. Stat. 1, 131-160.
Seber, G. A. F. (1970) The effects of trap response on tag recapture estimates. Biometrics 26,
13-22. Seber, G. A. F. (1982) The Estimation of Animal Abundance, 2nd ed., Griffin, London.
Chao, A. (1987) Estimating the population size for capture-recapture data with unequal
catchability. Biometrics 43, 783-791.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import ndtri

from fpstat.errors import UsageError

TwoListInterval = Literal["lognormal", "normal"]


@dataclass(frozen=True)
class EstimationWarning:
    """Something the user should know about an estimate: a stable code and bilingual text."""

    code: str
    message_en: str
    message_zh: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_en": self.message_en, "message_zh": self.message_zh}


NO_OVERLAP = EstimationWarning(
    "no-overlap",
    "the two lists have no record in common: the number missed by both cannot be estimated",
    "两个名单没有共同记录：无法估计两者都遗漏的人数",
)
FEW_RECAPTURES = EstimationWarning(
    "few-recaptures",
    "fewer than 10 records are on both lists: the estimate is unstable",
    "同时出现在两个名单中的记录少于 10 条：估计值不稳定",
)


@dataclass(frozen=True)
class TwoListEstimate:
    """A dual-system estimate: the counts it rests on, N, its SE and a confidence interval.

    ``n_hat``, ``se``, ``ci_low`` and ``ci_high`` are ``None`` when ``estimable`` is false.
    """

    method: str
    n1: float
    n2: float
    m: float
    n_observed: float
    n_hat: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str
    level: float
    estimable: bool
    warnings: tuple[EstimationWarning, ...] = field(default_factory=tuple)


def z_value(level: float) -> float:
    """The two-sided standard-normal quantile for a confidence ``level`` such as 0.95."""
    if not 0.0 < level < 1.0:
        raise UsageError(
            f"confidence level must be between 0 and 1, not {level}",
            f"置信水平须在 0 与 1 之间，而不是 {level}",
        )
    return float(ndtri(0.5 + level / 2.0))


def lognormal_ci(
    n_observed: np.ndarray | float,
    n_hat: np.ndarray | float,
    se: np.ndarray | float,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Chao's (1987, eq. 13) interval for N, log-normal on the number never seen.

    ``f0 = n_hat - n_observed``; ``C = exp(z sqrt(log(1 + se^2 / f0^2)))``;
    interval ``[n_observed + f0 / C, n_observed + f0 C]``. Where ``f0 <= 0`` (everyone seen)
    the interval collapses to ``[n_hat, n_hat]``. Works elementwise on arrays.
    """
    z = z_value(level)
    observed = np.asarray(n_observed, dtype=float)
    estimate = np.asarray(n_hat, dtype=float)
    std_error = np.asarray(se, dtype=float)
    unseen = estimate - observed
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.exp(z * np.sqrt(np.log1p(std_error**2 / unseen**2)))
        low = np.where(unseen > 0, observed + unseen / factor, estimate)
        high = np.where(unseen > 0, observed + unseen * factor, estimate)
    return low, high


def normal_ci(
    n_hat: np.ndarray | float, se: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric Wald interval ``N +- z se`` (for reference; may undercut the births seen)."""
    z = z_value(level)
    estimate = np.asarray(n_hat, dtype=float)
    half_width = z * np.asarray(se, dtype=float)
    return estimate - half_width, estimate + half_width


def _check_counts(n1: np.ndarray, n2: np.ndarray, m: np.ndarray) -> None:
    counts = np.stack(np.broadcast_arrays(n1, n2, m))
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise UsageError(
            "list sizes and overlap must be non-negative numbers",
            "名单人数与重叠人数须为非负数",
        )
    if np.any(m > np.minimum(n1, n2)):
        raise UsageError(
            "the overlap m cannot exceed either list size",
            "重叠人数 m 不能超过任一名单的人数",
        )


def lincoln_petersen_arrays(
    n1: np.ndarray, n2: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised Lincoln-Petersen: ``(n_hat, se, estimable)``; NaN where ``m = 0``."""
    n1, n2, m = (np.asarray(value, dtype=float) for value in (n1, n2, m))
    _check_counts(n1, n2, m)
    estimable = m > 0
    safe_m = np.where(estimable, m, 1.0)
    n_hat = np.where(estimable, n1 * n2 / safe_m, np.nan)
    variance = np.where(estimable, n1 * n2 * (n1 - m) * (n2 - m) / safe_m**3, np.nan)
    return n_hat, np.sqrt(variance), estimable


def chapman_arrays(
    n1: np.ndarray, n2: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised Chapman with Seber's variance: ``(n_hat, se, estimable)``; NaN where ``m = 0``."""
    n1, n2, m = (np.asarray(value, dtype=float) for value in (n1, n2, m))
    _check_counts(n1, n2, m)
    estimable = m > 0
    n_hat = np.where(estimable, (n1 + 1) * (n2 + 1) / (m + 1) - 1, np.nan)
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    return n_hat, np.sqrt(np.where(estimable, variance, np.nan)), estimable


def _two_list_result(
    method: str,
    n1: float,
    n2: float,
    m: float,
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
    ci: TwoListInterval,
    level: float,
) -> TwoListEstimate:
    n_hat, se, estimable = (value.item() for value in arrays)
    n_observed = n1 + n2 - m
    if ci not in ("lognormal", "normal"):
        raise UsageError(
            f"unknown interval {ci!r}: use lognormal or normal",
            f"未知的区间方法 {ci!r}：请用 lognormal 或 normal",
        )
    if not estimable:
        return TwoListEstimate(
            method, n1, n2, m, n_observed, None, None, None, None, ci, level, False, (NO_OVERLAP,)
        )
    if ci == "lognormal":
        low, high = lognormal_ci(n_observed, n_hat, se, level)
    else:
        low, high = normal_ci(n_hat, se, level)
    warnings = (FEW_RECAPTURES,) if m < 10 else ()
    return TwoListEstimate(
        method,
        n1,
        n2,
        m,
        n_observed,
        float(n_hat),
        float(se),
        float(low),
        float(high),
        ci,
        level,
        True,
        warnings,
    )


def lincoln_petersen(
    n1: float, n2: float, m: float, *, ci: TwoListInterval = "lognormal", level: float = 0.95
) -> TwoListEstimate:
    """Lincoln-Petersen ``n1 n2 / m`` with Seber's (1982, eq. 3.5) variance (for reference)."""
    return _two_list_result(
        "Lincoln-Petersen", n1, n2, m, lincoln_petersen_arrays(n1, n2, m), ci, level
    )


def chapman(
    n1: float, n2: float, m: float, *, ci: TwoListInterval = "lognormal", level: float = 0.95
) -> TwoListEstimate:
    """Chapman (1951) ``(n1+1)(n2+1)/(m+1) - 1`` with Seber's variance and Chao's interval.

    >>> estimate = chapman(135, 122, 49)    # HAV lists P and Q (Chao et al. 2001)
    >>> round(estimate.n_hat, 2), round(estimate.se, 2)
    (333.56, 28.7)
    """
    return _two_list_result("Chapman", n1, n2, m, chapman_arrays(n1, n2, m), ci, level)
