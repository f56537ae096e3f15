"""The multinomial profile-likelihood interval for N (Cormack 1992), as Rcapture computes it.

Given a log-linear model fitted to the observed histories, each candidate total ``N`` is scored
by refitting the model with the unseen history's count fixed at ``n0 = N - n``; the
multinomial log-likelihood of the histories is then (Rcapture 1.4-4, ``closedpCI.t``)::

    l(N) = -deviance(N) / 2 + n0 log n0 - log n0! + log N! - N log N     (+ a constant)

The interval holds every ``N`` whose ``l(N)`` is within ``chi2_1(level) / 2`` of the maximum;
its lower end is never below ``n``, the births seen (where ``l(n)`` is still above the cut-off,
the lower end is ``n`` and a warning says so). The maximum is sought in ``(n, 1.5 N_poisson)``
and the ends by Brent's method, the upper end within 3, 10, 100 and 1000 times the Poisson
estimate in turn (Rcapture stops at 3 and reports ">3N").

One deliberate difference: Rcapture evaluates ``log N! - N log N`` and ``n0 log n0 - log n0!``
by Stirling's formula once ``N > 100`` (to keep ``factorial()`` from overflowing); here they are
exact (log-gamma). The two agree to about 1e-6 of N, i.e. to Rcapture's printed digits up to a
last-digit rounding; near ``n0 = 0``, where Stirling's formula diverges, the exact form is sound.

Reference: Cormack, R. M. (1992) Interval estimation for mark-recapture studies of closed
populations. Biometrics 48, 567-576.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln, xlogy

from fpstat.reconcile.estimators import EstimationWarning, z_value
from fpstat.reconcile.poisson_glm import minimum_deviance

LOWER_AT_OBSERVED = EstimationWarning(
    "ci-lower-at-observed",
    "the lower end of the interval is set to the births seen",
    "区间下限取为已观测出生数",
)
UPPER_UNBOUNDED = EstimationWarning(
    "ci-upper-unbounded",
    "the upper end of the interval is beyond 1000 times the estimate",
    "区间上限超过估计值的 1000 倍",
)
#: Upper ends are sought below these multiples of the Poisson estimate, in turn.
UPPER_SEARCH_FACTORS = (3.0, 10.0, 100.0, 1000.0)


def multinomial_constant(total: float, unseen: float) -> float:
    """``n0 log n0 - log n0! + log N! - N log N``: multinomial minus Poisson log-likelihood."""
    return float(
        xlogy(unseen, unseen) - gammaln(unseen + 1.0) + gammaln(total + 1.0) - xlogy(total, total)
    )


def profile_interval(
    design_with_unseen: np.ndarray,
    counts: np.ndarray,
    n_hat: float,
    start: np.ndarray,
    level: float = 0.95,
) -> tuple[float, float | None, list[EstimationWarning]]:
    """``(low, high, warnings)`` for N; ``high`` is ``None`` beyond 1000 times ``n_hat``.

    ``design_with_unseen`` is the model's design over the observed histories followed by the
    all-zero history as last row; ``counts`` the observed counts; ``start`` the coefficients
    of the Poisson fit (warm start for every refit).
    """
    # chi2_1(level) = z^2, so the cut-off is z^2 / 2 below the maximum.
    half_chi2 = z_value(level) ** 2 / 2.0
    observed = np.asarray(counts, dtype=float)
    n_observed = float(observed.sum())
    coefficients = np.asarray(start, dtype=float)

    def log_likelihood(total: float) -> float:
        unseen = max(total - n_observed, 0.0)
        deviance, _ = minimum_deviance(
            design_with_unseen, np.append(observed, unseen), coefficients
        )
        return -0.5 * deviance + multinomial_constant(total, unseen)

    peak = minimize_scalar(
        lambda total: -log_likelihood(total),
        bounds=(n_observed, max(1.5 * n_hat, n_observed + 1.0)),
        method="bounded",
        options={"xatol": 1e-6 * n_hat},
    )
    at_peak = float(peak.x)
    cutoff = -float(peak.fun) - half_chi2

    def above_cutoff(total: float) -> float:
        return log_likelihood(total) - cutoff

    warnings: list[EstimationWarning] = []
    if above_cutoff(n_observed) >= 0:
        low = n_observed
        warnings.append(LOWER_AT_OBSERVED)
    else:
        low = brentq(above_cutoff, n_observed, at_peak, xtol=1e-8 * n_hat)
    high: float | None = None
    bracket_low = at_peak
    for factor in UPPER_SEARCH_FACTORS:
        bracket_high = factor * n_hat
        if above_cutoff(bracket_high) < 0:
            high = brentq(above_cutoff, bracket_low, bracket_high, xtol=1e-8 * n_hat)
            break
        bracket_low = bracket_high
    if high is None:
        warnings.append(UPPER_UNBOUNDED)
    return float(low), None if high is None else float(high), warnings
