"""The caliper test for heaping just above an evaluation threshold, made robust for real data.

The caliper test (Gerber & Malhotra 2008) compares how many values fall just above a threshold
t with how many fall just below it: without manipulation a value that close to the line is as
likely on either side. Three facts of evaluation data break the textbook version, and each is
handled here (each measured in ``tests/test_audit_false_alarms.py``):

* the threshold sits on a slope of the distribution (most townships are well above a 92 %
  bound), which alone makes "just above" more frequent. The null share above is taken from the
  slope of the distribution of all units' values in the next two bands on either side, fitted
  log-linear (Kleven 2016's bunching estimators fit the counterfactual density outside the
  manipulation window in the same way);
* the annual values of one unit are not independent (a township whose true rate is 92.5 %
  sits just above the line every year), so units are clusters: a cluster-robust (sandwich)
  variance with a t reference on G - 1 degrees of freedom (Cameron & Miller 2015);
* rates are ratios of small integers, a lattice on which the threshold itself is often hit
  exactly: the bands are symmetric about t, (t, t + w] above and [t - w, t) below, and a value
  exactly at t counts half to each side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


def side_weights(
    values: np.ndarray, threshold: float, window: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per value, its weight just above (t, t + w] and just below [t - w, t); half each at t."""
    tie = 0.5 * (values == threshold)
    above = ((values > threshold) & (values <= threshold + window)) + tie
    below = ((values >= threshold - window) & (values < threshold)) + tie
    return above.astype(float), below.astype(float)


@dataclass(frozen=True)
class Slope:
    """The share of near-threshold values expected above the line from the local slope."""

    further_below: int
    further_above: int
    expected_share_above: float
    variance: float


def slope_share(values: np.ndarray, threshold: float, window: float) -> Slope:
    """Null share above from the counts in [t - 3w, t - w) and (t + w, t + 3w].

    With a log-linear density over [t - 3w, t + 3w] (exact for a locally log-quadratic, e.g.
    normal, density on this symmetric window), the two outer bands, centred 4w apart, give the
    slope c = ln((n_up + 1/2) / (n_down + 1/2)) / 4 per band width (1/2: Haldane's correction
    for an empty band), and the share of the inner bands above t is 1 / (1 + e^-c), with delta-
    method variance (p (1 - p))^2 (1/n_up + 1/n_down) / 16. A falling density is not credited:
    the share is never taken below 1/2 (its variance is kept, which only makes the test stricter).
    """
    further_below = int(((values >= threshold - 3 * window) & (values < threshold - window)).sum())
    further_above = int(((values > threshold + window) & (values <= threshold + 3 * window)).sum())
    slope = math.log((further_above + 0.5) / (further_below + 0.5)) / 4.0
    share = 1.0 / (1.0 + math.exp(-slope))
    variance = (
        (share * (1 - share)) ** 2 * (1 / (further_below + 0.5) + 1 / (further_above + 0.5)) / 16
    )
    # A falling density is not credited; the slope's uncertainty is kept either way.
    share = max(share, 0.5)
    return Slope(further_below, further_above, share, variance)


@dataclass(frozen=True)
class Caliper:
    """A clustered caliper test: weights above and below, units, expected share, t and p."""

    above: float
    below: float
    units: int
    expected_share_above: float
    statistic: float
    p_value: float


def clustered_caliper_test(above: np.ndarray, below: np.ndarray, slope: Slope) -> Caliper | None:
    """One-sided test that units' values are over-represented just above the line.

    ``above``/``below`` hold each unit's weights summed over its values. With r_i = a_i -
    p0 (a_i + b_i), T = sum r_i is tested against V = max(G/(G-1) sum r_i^2, N p0 (1 - p0))
    + N^2 Var(p0): the cluster-robust variance, never below the binomial one, plus the
    uncertainty of the slope-implied share; p from Student's t on G - 1 df. ``None`` when
    fewer than two units have values near the line.
    """
    near = (above + below) > 0
    above, below = above[near], below[near]
    units = int(near.sum())
    if units < 2:
        return None
    share = slope.expected_share_above
    total = float((above + below).sum())
    residuals = above - share * (above + below)
    variance = max(units / (units - 1) * float((residuals**2).sum()), total * share * (1 - share))
    variance += total**2 * slope.variance
    statistic = float(residuals.sum()) / math.sqrt(variance)
    return Caliper(
        above=float(above.sum()),
        below=float(below.sum()),
        units=units,
        expected_share_above=share,
        statistic=statistic,
        p_value=float(stats.t.sf(statistic, units - 1)),
    )
