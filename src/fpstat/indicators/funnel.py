"""Funnel-plot control limits for comparing areas (Spiegelhalter 2005), with over-dispersion.

For one indicator, level and period, each area is a unit with a count ``x`` out of a
denominator ``n``. The target is the pooled value ``sum(x) / sum(n)`` of the units, and each
unit gets control limits at 95 % and 99.8 % for its own ``n``:

* **Exact limits** (Spiegelhalter DJ (2005), Funnel plots for comparing institutional
  performance, Stat Med 24:1185-1202, appendix A.1): for a binomial (proportions) or Poisson
  (rates: ``x ~ Poisson(theta * n)``) count, ``r_p`` is the p-quantile of the count and the
  limit is ``r_p / n``. The paper interpolates between the discrete steps,
  ``(r_p - alpha) / n`` with ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``, to draw smooth
  funnels (``interpolate=True``); but an area's count sits on a step, and against interpolated
  limits the first step outside is flagged although it happens more often than the nominal
  rate (1 duplicate among 3 entries against a 1 % target: P = 3 %, flagged at 99.8 %). The
  limits written per area are therefore the uninterpolated quantiles, with "outside" meaning
  strictly beyond them, so that an in-control area falls outside with probability at most
  2.5 % (0.1 %) on each side (Manktelow BN, Seaton SE (2012), Specifying the probability
  characteristics of funnel plot control limits, PLoS One 7:e45723, discuss the choices).
* **Over-dispersion**: when areas differ more than chance allows (unmeasured differences
  between areas, which is the rule with population data), exact limits flag most areas. We use
  the additive random-effects approach that Spiegelhalter recommends (Spiegelhalter DJ (2005),
  Handling over-dispersion of performance indicators, Qual Saf Health Care 14:347-351;
  Spiegelhalter DJ, Sherlaw-Johnson C, Bardsley M et al. (2012), Statistical methods for
  healthcare regulation: rating, screening and surveillance, JRSS A 175:1-47), rather than
  the multiplicative ``phi`` inflation, which over-penalises large areas. On a
  variance-stabilising scale (``asin(sqrt(p))`` for proportions, ``sqrt(rate)`` for rates;
  within-unit ``s_i = 1 / (2 sqrt(n_i))``) the z-scores ``(y_i - y_0) / s_i`` are Winsorised at
  10 % in each tail, ``phi`` is the mean of their squares, and when ``phi > 1`` (with at least
  :data:`MIN_UNITS_FOR_OVERDISPERSION` units) the between-area variance is the DerSimonian-Laird
  estimate ``tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w)``, ``w_i = 1 / s_i^2``;
  limits are then ``y_0 +- z sqrt(s_i^2 + tau^2)``, transformed back.

The sex ratio is a binomial share of boys ``p = M / (M + F)`` with ``n = M + F``, its limits
mapped by ``p / (1 - p)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom, norm, poisson

from fpstat.indicators.registry import BINOMIAL, POISSON, REGISTRY, SEX_RATIO
from fpstat.indicators.result import round_significant
from fpstat.indicators.rollup import ALL_LEVEL

#: Two-sided limits drawn on a funnel plot: 95 % (about 2 SD) and 99.8 % (about 3 SD).
LEVELS: tuple[float, ...] = (0.95, 0.998)
#: Fewer units give no funnel (a funnel of one or two areas says nothing).
MIN_UNITS = 3
#: Over-dispersion is estimated from at least this many units (10 % Winsorisation needs them).
MIN_UNITS_FOR_OVERDISPERSION = 10
WINSOR_FRACTION = 0.10
_FUNNEL_GROUP = ["indicator", "source", "denominator_source", "level", "period"]
_LIMIT_COLUMNS = ("funnel_low_95", "funnel_high_95", "funnel_low_998", "funnel_high_998")
_LIMIT_PARTS = ((0.95, 0), (0.95, 1), (0.998, 0), (0.998, 1))


@dataclass(frozen=True)
class FunnelFit:
    """The funnel of one group of units: its target and over-dispersion."""

    model: str
    target: float
    units: int
    phi: float
    tau2: float

    @property
    def adjusted(self) -> bool:
        return self.tau2 > 0


def _exact_limit(
    model: str, probability: float, n: np.ndarray, theta: np.ndarray, *, interpolate: bool = False
) -> np.ndarray:
    """The p-quantile ``r_p`` of the count over n; with ``interpolate``, Spiegelhalter's
    ``(r_p - alpha) / n`` with ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))`` (appendix A.1)."""
    if model == POISSON:
        mean = theta * n
        r_p = poisson.ppf(probability, mean)
        if not interpolate:
            return r_p / n
        upper_cdf, lower_cdf = poisson.cdf(r_p, mean), poisson.cdf(r_p - 1, mean)
    else:
        trials = np.round(n)
        r_p = binom.ppf(probability, trials, theta)
        if not interpolate:
            return r_p / n
        upper_cdf, lower_cdf = binom.cdf(r_p, trials, theta), binom.cdf(r_p - 1, trials, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(
            upper_cdf > lower_cdf, (upper_cdf - probability) / (upper_cdf - lower_cdf), 0.0
        )
        return np.clip((r_p - alpha) / n, 0.0, None)


def _transform(model: str, values: np.ndarray) -> np.ndarray:
    return np.arcsin(np.sqrt(np.clip(values, 0.0, 1.0))) if model != POISSON else np.sqrt(values)


def _back(model: str, values: np.ndarray) -> np.ndarray:
    if model == POISSON:
        return np.where(values > 0, values, 0.0) ** 2
    return np.sin(np.clip(values, 0.0, np.pi / 2)) ** 2


def overdispersion(model: str, x: np.ndarray, n: np.ndarray, theta: float) -> tuple[float, float]:
    """``(phi, tau2)`` from 10 %-Winsorised z-scores on the variance-stabilising scale."""
    units = len(n)
    s = 1.0 / (2.0 * np.sqrt(n))
    z = (_transform(model, x / n) - _transform(model, np.array([theta]))[0]) / s
    low, high = np.quantile(z, [WINSOR_FRACTION, 1.0 - WINSOR_FRACTION])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    if units < MIN_UNITS_FOR_OVERDISPERSION or phi <= 1.0:
        return phi, 0.0
    weights = 1.0 / s**2
    tau2 = (units * phi - (units - 1)) / (weights.sum() - (weights**2).sum() / weights.sum())
    return phi, float(max(tau2, 0.0))


def grouped_funnel_limits(
    model: str,
    groups: np.ndarray,
    numerators: np.ndarray,
    denominators: np.ndarray,
    scale: float,
    *,
    interpolate: bool = False,
) -> tuple[dict[int, FunnelFit], dict[float, tuple[np.ndarray, np.ndarray]]]:
    """Control limits for many funnels at once: ``groups`` (integer ids 0..G-1) says which
    funnel each unit belongs to. Units of a group without a funnel (see :func:`funnel_limits`)
    get NaN limits. Exact limits are computed in one vectorised call for all groups."""
    groups = np.asarray(groups, dtype="int64")
    x = np.asarray(numerators, dtype="float64")
    n = np.asarray(denominators, dtype="float64")
    if model == SEX_RATIO:
        n = x + n
    counting = POISSON if model == POISSON else BINOMIAL
    count = int(groups.max()) + 1 if len(groups) else 0
    bad = ~(np.isfinite(x) & np.isfinite(n) & (n > 0))
    units = np.bincount(groups, minlength=count)
    bad_units = np.bincount(groups, weights=bad.astype(float), minlength=count)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.bincount(groups, weights=np.where(bad, 0.0, x), minlength=count) / np.bincount(
            groups, weights=np.where(bad, 0.0, n), minlength=count
        )
    usable = (units >= MIN_UNITS) & (bad_units == 0) & (theta > 0)
    if counting == BINOMIAL:
        usable &= theta < 1.0
    fits: dict[int, FunnelFit] = {}
    tau2 = np.zeros(count)
    members = np.argsort(groups, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(units)])
    for group in np.flatnonzero(usable):
        index = members[bounds[group] : bounds[group + 1]]
        phi, tau2[group] = overdispersion(counting, x[index], n[index], float(theta[group]))
        target = theta[group] / (1.0 - theta[group]) if model == SEX_RATIO else theta[group]
        fits[int(group)] = FunnelFit(
            model, float(target * scale), int(units[group]), phi, float(tau2[group])
        )
    unit_theta = theta[groups]
    unit_tau2 = tau2[groups]
    in_funnel = usable[groups]
    exact = in_funnel & (unit_tau2 == 0)
    adjusted = in_funnel & (unit_tau2 > 0)
    limits: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for level in LEVELS:
        tail = (1.0 - level) / 2.0
        low = np.full(len(x), np.nan)
        high = np.full(len(x), np.nan)
        if exact.any():
            low[exact] = _exact_limit(
                counting, tail, n[exact], unit_theta[exact], interpolate=interpolate
            )
            high[exact] = _exact_limit(
                counting, 1.0 - tail, n[exact], unit_theta[exact], interpolate=interpolate
            )
        if adjusted.any():
            centre = _transform(counting, unit_theta[adjusted])
            spread = norm.ppf(1.0 - tail) * np.sqrt(1.0 / (4.0 * n[adjusted]) + unit_tau2[adjusted])
            low[adjusted] = _back(counting, centre - spread)
            high[adjusted] = _back(counting, centre + spread)
        if model == SEX_RATIO:
            with np.errstate(divide="ignore", invalid="ignore"):
                low, high = (
                    low / (1.0 - low),
                    np.where(
                        high < 1.0, high / (1.0 - high), np.where(np.isnan(high), np.nan, np.inf)
                    ),
                )
        limits[level] = (low * scale, high * scale)
    return fits, limits


def funnel_limits(
    model: str,
    numerators: np.ndarray,
    denominators: np.ndarray,
    scale: float,
    *,
    interpolate: bool = False,
) -> tuple[FunnelFit | None, dict[float, tuple[np.ndarray, np.ndarray]]]:
    """Control limits per unit of one funnel at :data:`LEVELS`, on the indicator's scale.

    ``numerators`` / ``denominators`` are the indicator's own (for the sex ratio: male and
    female births). Returns ``(None, {})`` when there are fewer than :data:`MIN_UNITS` units,
    a unit without a positive denominator, or a degenerate target (0 or 1 for a proportion,
    0 for a rate), where a funnel means nothing.
    """
    x = np.asarray(numerators, dtype="float64")
    fits, limits = grouped_funnel_limits(
        model, np.zeros(len(x), dtype="int64"), x, denominators, scale, interpolate=interpolate
    )
    if 0 not in fits:
        return None, {}
    return fits[0], limits


def funnel_position(
    values: np.ndarray, limits: dict[float, tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """``within``, ``above_95``/``below_95`` or ``above_998``/``below_998`` per unit.

    Outside means strictly beyond a limit; a value on a limit (to a relative 1e-9, so that
    1/3 computed two ways is one number) is within.
    """
    values = np.asarray(values, dtype="float64")

    def above(limit: np.ndarray) -> np.ndarray:
        return values > limit + 1e-9 * np.maximum(1.0, np.abs(limit))

    def below(limit: np.ndarray) -> np.ndarray:
        return values < limit - 1e-9 * np.maximum(1.0, np.abs(limit))

    low95, high95 = limits[0.95]
    low998, high998 = limits[0.998]
    with np.errstate(invalid="ignore"):
        return np.select(
            [above(high998), below(low998), above(high95), below(low95)],
            ["above_998", "below_998", "above_95", "below_95"],
            default="within",
        )


def funnel_columns(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """indicators.csv's funnel columns: limits and position of each area among the areas of
    its level (per indicator, source, denominator source and period); the whole drop has no
    peers and gets none. Also returns each funnel's target, phi and tau2."""
    rows = rows.reset_index(drop=True)  # positions below index the limit arrays
    size = len(rows)
    columns = {name: np.full(size, np.nan) for name in _LIMIT_COLUMNS}
    position = np.full(size, "", dtype=object)
    models = rows["indicator"].map({i: d.funnel for i, d in REGISTRY.items()})
    eligible = rows.loc[(rows["level"] != ALL_LEVEL) & models.notna()]
    fits = []
    for indicator_id, part in eligible.groupby("indicator", sort=True):
        indicator = REGISTRY[indicator_id]
        assert indicator.funnel is not None
        group_ids = part.groupby(_FUNNEL_GROUP[1:], sort=True).ngroup().to_numpy()
        keys = part.groupby(_FUNNEL_GROUP[1:], sort=True).size().index
        group_fits, limits = grouped_funnel_limits(
            indicator.funnel,
            group_ids,
            part["numerator"].to_numpy("float64"),
            part["denominator"].to_numpy("float64"),
            indicator.scale,
        )
        positions = part.index.to_numpy()
        for name, (level, side) in zip(_LIMIT_COLUMNS, _LIMIT_PARTS, strict=True):
            columns[name][positions] = limits[level][side]
        found = ~np.isnan(limits[0.95][0])
        # Judged on the unrounded value: 2/12 rounded up to 16.6667 must not exceed a limit of 2/12.
        with np.errstate(divide="ignore", invalid="ignore"):
            exact_value = (
                indicator.scale
                * part["numerator"].to_numpy("float64")
                / part["denominator"].to_numpy("float64")
            )
        position[positions[found]] = funnel_position(
            exact_value[found], {k: (lo[found], hi[found]) for k, (lo, hi) in limits.items()}
        )
        for group, fit in sorted(group_fits.items()):
            fits.append(
                {
                    "indicator": indicator_id,
                    **dict(zip(_FUNNEL_GROUP[1:], keys[group], strict=True)),
                    "model": fit.model,
                    "target": fit.target,
                    "units": fit.units,
                    "phi": fit.phi,
                    "tau2": fit.tau2,
                    "overdispersion": "additive random effects" if fit.adjusted else "none",
                }
            )
    rows = rows.assign(**columns, funnel_position=position)
    fit_frame = pd.DataFrame(
        fits, columns=[*_FUNNEL_GROUP, "model", "target", "units", "phi", "tau2", "overdispersion"]
    )
    for column in ("target", "phi", "tau2"):
        fit_frame[column] = round_significant(fit_frame[column].astype("float64"))
    return rows, fit_frame
