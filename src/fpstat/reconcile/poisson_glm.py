"""Poisson log-linear regression by iteratively reweighted least squares, batched over areas.

The estimators of completeness fit one small design (``2^k - 1`` capture-history cells, at most
a few dozen parameters) many times: every candidate model, dozens of refits per model for the
profile-likelihood interval, and one fit per township or village (tens of thousands) for the
small-area estimates. ``statsmodels.GLM`` gives the same numbers (the tests check it) but costs
a millisecond or more of set-up per fit and fits one data set at a time; this module runs the
textbook IRLS of a Poisson GLM with log link (McCullagh & Nelder 1989, sec. 2.5) for a whole
stack of count vectors sharing one design matrix at once, with numpy's batched ``matmul`` and
``solve``. Each area keeps its own iteration count, so a batched fit gives the same result as
fitting the areas one at a time.

Numerical care, as R's ``glm.fit`` does it: start from ``mu = y + 0.1``; stop when the relative
change of the deviance is below ``tol``; halve the step when the deviance is not finite; cap
the linear predictor so ``exp`` cannot overflow. Where the maximum-likelihood estimate does not
exist (a zero margin, a zero cell of a saturated model), the fitted values of some cells run
towards zero while the deviance converges. :func:`mle_exists` decides this exactly beforehand,
from which cells are zero (Haberman 1974, Theorem 2.3; Fienberg & Rinaldo 2012): the estimate
fails to exist when some direction of the parameters lowers the fit of zero cells while keeping
every positive cell fixed; one small linear programme finds such a direction.

References: Haberman, S. J. (1974) The Analysis of Frequency Data, Univ. of Chicago Press.
Fienberg, S. E. & Rinaldo, A. (2012) Maximum likelihood estimation in log-linear models.
Annals of Statistics 40, 996-1023. McCullagh, P. & Nelder, J. A. (1989) Generalized Linear
Models, 2nd ed., Chapman & Hall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.special import gammaln, xlogy

#: ``exp`` of anything above this overflows float64; no count in a register is near it.
_MAX_LINEAR_PREDICTOR = 700.0


@dataclass(frozen=True)
class PoissonFit:
    """The fits of one design to ``A`` count vectors (first axis: area)."""

    coefficients: np.ndarray  # (A, p)
    covariance: np.ndarray  # (A, p, p): inverse Fisher information at the estimate
    fitted: np.ndarray  # (A, c)
    deviance: np.ndarray  # (A,)
    log_likelihood: np.ndarray  # (A,): full Poisson log-likelihood, sum log dpois(y, mu)
    converged: np.ndarray  # (A,) bool
    iterations: np.ndarray  # (A,) int

    @property
    def smallest_fitted(self) -> np.ndarray:
        """The smallest fitted cell count of each area (near zero: a boundary fit)."""
        return self.fitted.min(axis=1)


def mle_exists(design: np.ndarray, positive: np.ndarray) -> bool:
    """Whether the Poisson MLE exists for counts whose positive cells are ``positive``.

    It does not when a direction ``d`` has ``design[positive] @ d = 0`` and
    ``design[~positive] @ d >= 0`` with some strict inequality: moving the coefficients along
    ``-d`` then raises the likelihood for ever. The linear programme maximises
    ``sum(design[~positive] @ d)`` with each term in ``[0, 1]``; a positive optimum is such a
    direction. Depends only on the zero pattern, so callers can cache it.
    """
    design = np.asarray(design, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    zero_rows = design[~positive]
    if zero_rows.shape[0] == 0:
        return True
    n_parameters = design.shape[1]
    outcome = linprog(
        c=-zero_rows.sum(axis=0),
        A_ub=np.vstack([-zero_rows, zero_rows]),
        b_ub=np.concatenate([np.zeros(len(zero_rows)), np.ones(len(zero_rows))]),
        A_eq=design[positive] if positive.any() else None,
        b_eq=np.zeros(int(positive.sum())) if positive.any() else None,
        bounds=[(None, None)] * n_parameters,
        method="highs",
    )
    return bool(outcome.status == 0 and -outcome.fun <= 1e-9)


def poisson_deviance(counts: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """``2 sum(y log(y / mu) - (y - mu))`` over the last axis, ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_term = np.where(counts > 0, counts * np.log(counts / fitted), 0.0)
    return 2.0 * np.sum(ratio_term - (counts - fitted), axis=-1)


def poisson_log_likelihood(counts: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """``sum(y log mu - mu - log y!)`` over the last axis (R's ``dpois(log = TRUE)``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(counts > 0, counts * np.log(fitted), 0.0)
    return np.sum(log_term - fitted - gammaln(counts + 1.0), axis=-1)


def _solve_batch(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Solve ``A x = b`` for a stack; singular systems fall back to least squares one by one."""
    try:
        return np.linalg.solve(matrices, vectors[..., None])[..., 0]
    except np.linalg.LinAlgError:
        solutions = np.empty_like(vectors)
        for index in range(matrices.shape[0]):
            solutions[index] = np.linalg.lstsq(matrices[index], vectors[index], rcond=None)[0]
        return solutions


def _invert_batch(matrices: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(matrices)


def fit_poisson(
    design: np.ndarray,
    counts: np.ndarray,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> PoissonFit:
    """Fit ``log E[y] = design @ beta`` to each row of ``counts`` by IRLS.

    ``design`` is ``(c, p)`` and shared; ``counts`` is ``(A, c)`` (or ``(c,)`` for one fit,
    returned with ``A = 1``). ``start`` optionally gives starting coefficients ``(A, p)``
    (warm starts for the profile likelihood).
    """
    design = np.asarray(design, dtype=float)
    observed = np.atleast_2d(np.asarray(counts, dtype=float))
    n_areas, n_cells = observed.shape
    if design.shape[0] != n_cells:
        raise ValueError(f"design has {design.shape[0]} rows for {n_cells} cells")
    # Deviance cell by cell as 2 (y log y - y eta - y + mu): no logarithm per step, and each
    # term is small near the optimum, so summing them loses no precision.
    cell_constant = xlogy(observed, observed) - observed

    def deviance_of(rows: np.ndarray, linear: np.ndarray, fitted: np.ndarray) -> np.ndarray:
        return 2.0 * np.sum(cell_constant[rows] - observed[rows] * linear + fitted, axis=1)

    if start is None:
        linear = np.log(observed + 0.1)
    else:
        linear = np.minimum(np.atleast_2d(start) @ design.T, _MAX_LINEAR_PREDICTOR)
        linear = np.broadcast_to(linear, observed.shape).copy()
    fitted = np.exp(linear)
    every_area = np.arange(n_areas)
    deviance = deviance_of(every_area, linear, fitted)
    coefficients = np.zeros((n_areas, design.shape[1]))
    converged = np.zeros(n_areas, dtype=bool)
    iterations = np.zeros(n_areas, dtype=int)
    active = every_area
    for iteration in range(1, max_iter + 1):
        y, mu, eta = observed[active], fitted[active], linear[active]
        information = np.matmul(design.T, mu[:, :, None] * design)
        score = (mu * eta + y - mu) @ design  # X'W z with z = eta + (y - mu) / mu
        new_coefficients = _solve_batch(information, score)
        new_linear = np.minimum(new_coefficients @ design.T, _MAX_LINEAR_PREDICTOR)
        new_fitted = np.exp(new_linear)
        new_deviance = deviance_of(active, new_linear, new_fitted)
        # Step halving where the step overshot into a non-finite deviance (as glm.fit does).
        for _ in range(30):
            bad = ~np.isfinite(new_deviance)
            if not bad.any():
                break
            new_coefficients[bad] = (new_coefficients[bad] + coefficients[active][bad]) / 2.0
            new_linear[bad] = np.minimum(new_coefficients[bad] @ design.T, _MAX_LINEAR_PREDICTOR)
            new_fitted[bad] = np.exp(new_linear[bad])
            new_deviance[bad] = deviance_of(active[bad], new_linear[bad], new_fitted[bad])
        done = np.abs(new_deviance - deviance[active]) / (np.abs(new_deviance) + 0.1) < tol
        coefficients[active] = new_coefficients
        linear[active] = new_linear
        fitted[active] = new_fitted
        deviance[active] = new_deviance
        iterations[active] = iteration
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    information = np.matmul(design.T, fitted[:, :, None] * design)
    return PoissonFit(
        coefficients=coefficients,
        covariance=_invert_batch(information),
        fitted=fitted,
        deviance=poisson_deviance(observed, fitted),
        log_likelihood=poisson_log_likelihood(observed, fitted),
        converged=converged,
        iterations=iterations,
    )


def minimum_deviance(
    design: np.ndarray,
    counts: np.ndarray,
    start: np.ndarray,
    *,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> tuple[float, np.ndarray]:
    """The deviance of one Poisson fit and its coefficients, from a warm start.

    The same IRLS as :func:`fit_poisson` for a single count vector, without the covariance and
    log-likelihood: the profile likelihood refits the model dozens of times and needs only this.
    """
    observed = np.asarray(counts, dtype=float)
    cell_constant = xlogy(observed, observed) - observed
    transposed = design.T
    coefficients = np.asarray(start, dtype=float)
    linear = np.minimum(design @ coefficients, _MAX_LINEAR_PREDICTOR)
    fitted = np.exp(linear)
    deviance = 2.0 * float(np.sum(cell_constant - observed * linear + fitted))
    for _ in range(max_iter):
        information = (transposed * fitted) @ design
        try:
            step = np.linalg.solve(information, transposed @ (fitted * linear + observed - fitted))
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(information, transposed @ (fitted * linear + observed - fitted))[
                0
            ]
        for _ in range(30):  # step halving into a finite deviance, as glm.fit does
            linear = np.minimum(design @ step, _MAX_LINEAR_PREDICTOR)
            fitted = np.exp(linear)
            new_deviance = 2.0 * float(np.sum(cell_constant - observed * linear + fitted))
            if np.isfinite(new_deviance):
                break
            step = (step + coefficients) / 2.0
        coefficients = step
        if abs(new_deviance - deviance) / (abs(new_deviance) + 0.1) < tol:
            return new_deviance, coefficients
        deviance = new_deviance
    return deviance, coefficients
