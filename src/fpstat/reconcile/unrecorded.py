"""Bounds for heterogeneity that one of two lists does not record.

Two lists are independent only within strata of births that every list can place: a covariate
that one list does not record (the police export has no birth order, policy status or migrant
status) cannot stratify (:func:`fpstat.reconcile.area_estimates.prepare_area`), and the
heterogeneity it carries stays inside the strata. Chapman is then biased, usually low: the
kinds of births the register misses most (out-of-policy, later, migrants' births) are also the
kinds the police register latest, and a pooled estimate assumes they are as well covered as
the rest (Sekar & Deming 1949).

The register's records do say which kind each birth is, and that identifies part of the
answer. Write ``A`` for the list that records the covariates (its cells ``x``: every
combination of the covariates it records and the other does not), ``B`` for the other, and
assume, as the stratified estimate does, that the lists are independent *within each cell*
(and stratum). Then the share of ``A``'s births in cell ``x`` that ``B`` also saw estimates
``B``'s coverage there, ``p_x = m_x / a_x``, and each birth only ``B`` saw stands for
``1 / p_x`` births ``A`` missed. Only the cells of those ``n_B-only`` births are unknown:
``N = n_A + sum_x n_x / p_x`` for some split ``n_x >= 0`` of ``n_B-only``. The data therefore
pin ``N`` to the interval between the splits that put every ``B``-only birth in the cell ``B``
covers best and in the one it covers worst (the *identification region*, Manski 2003); the
proportional split ``n_x ~ m_x`` gives back Chapman, which always lies inside.

Each end is computed with Chapman's (1951) estimator on its cell (so that it is the estimate
the pooled data would give were that split the truth), per stratum group of the area's
estimate, and summed over groups; its sampling error is Seber's variance of that cell's
estimate. Cells with fewer than ``min_recaptures`` births on both lists are pooled and merged
by the rule of :func:`fpstat.reconcile.strata.estimate_stratified`. The confidence interval
for the total is Imbens & Manski's (2004): each end's log-normal limit (Chao 1987) at a
critical value between the one- and two-sided normal quantiles (:meth:`Region.interval`).
Areas above the county add up their counties' regions (:func:`combined`): the area of a birth
only one list saw is known, so its births cannot all fall in the province's worst cell.

With three lists or more the log-linear models' interactions absorb much of this
heterogeneity, and no such region is computed.

References: Sekar, C. C. & Deming, W. E. (1949) JASA 44, 101-115. Chapman, D. G. (1951)
Univ. Calif. Publ. Stat. 1, 131-160. Chao, A. (1987) Biometrics 43, 783-791. Manski, C. F.
(2003) Partial identification of probability distributions. Springer. Imbens, G. W. &
Manski, C. F. (2004) Confidence intervals for partially identified parameters. Econometrica
72, 1845-1857.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import norm

from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.estimators import chapman, lognormal_ci
from fpstat.reconcile.strata import estimate_stratified


@dataclass(frozen=True)
class UnrecordedCells:
    """What the region of one area needs: per row, its stratum, its cell of the recording
    list's covariates, its two-list capture history and its births."""

    recording: str                # the list that records ``covariates``
    covariates: tuple[str, ...]   # recorded by ``recording`` only
    stratum: np.ndarray           # stratum key per row (as in the area's strata)
    cell: np.ndarray              # cell key per row
    in_recording: np.ndarray      # bool per row
    in_other: np.ndarray          # bool per row
    births: np.ndarray            # float per row


@dataclass(frozen=True)
class Region:
    """The identification region of an area's total, with the sampling variance of each end."""

    recording: str
    covariates: tuple[str, ...]
    low: float
    high: float
    var_low: float
    var_high: float
    observed: float  # births seen by either list (where the log-normal intervals start)

    def interval(self, level: float) -> tuple[float, float]:
        """Imbens & Manski's (2004) interval for the total: each end's log-normal limit (Chao
        1987) at the critical value ``c`` that solves
        ``Phi(c + (high - low) / max(sd)) - Phi(-c) = level`` (between the one-sided and the
        two-sided normal quantile: a wide region needs only one end's error)."""
        spread = float(np.sqrt(max(self.var_low, self.var_high)))
        width = max(self.high - self.low, 0.0)
        if spread <= 0:
            return self.low, self.high
        ratio = width / spread
        critical = float(brentq(lambda c: norm.cdf(c + ratio) - norm.cdf(-c) - level, 0.0, 10.0))
        two_sided = float(2.0 * norm.cdf(critical) - 1.0)
        low = float(lognormal_ci(self.observed, self.low, np.sqrt(self.var_low), two_sided)[0])
        high = float(lognormal_ci(self.observed, self.high, np.sqrt(self.var_high), two_sided)[1])
        return low, high


def combined(regions: Sequence[Region]) -> Region:
    """The region of a sum of areas (counties of a prefecture): ends and variances add, since
    each birth only one list saw is known to be in one of them."""
    first = regions[0]
    return Region(first.recording, first.covariates,
                  *(float(sum(getattr(r, name) for r in regions))
                    for name in ("low", "high", "var_low", "var_high", "observed")))


def unrecorded_cells(
    lists: Sequence[str], unrecorded: Sequence[str], coverage: Mapping[str, Mapping[str, float]],
    min_share: float, frame: pd.DataFrame, masks: np.ndarray, births: np.ndarray,
    stratum: pd.Series, cell_keys: Callable[[pd.DataFrame, Sequence[str]], pd.Series],
) -> UnrecordedCells | None:
    """The cells of a two-list area whose covariates ``unrecorded`` only one list records.

    ``frame``: the area's rows (seen by a list), with ``masks`` their two-list histories
    (bit ``i`` = ``lists[i]``) and ``births``; ``stratum``: each row's stratum key;
    ``cell_keys(frame, covariates)``: the key function of the strata (so cells read alike).
    None when there are not two lists or neither records any of ``unrecorded``.
    """
    if len(lists) != 2 or not unrecorded:
        return None
    recorded_by = [tuple(c for c in unrecorded if coverage.get(name, {}).get(c, 0.0) >= min_share)
                   for name in lists]
    position = max(range(2), key=lambda i: (len(recorded_by[i]), -i))
    covariates = recorded_by[position]
    if not covariates:
        return None
    return UnrecordedCells(
        recording=lists[position], covariates=covariates,
        stratum=stratum.to_numpy(dtype=object),
        cell=np.asarray(cell_keys(frame, covariates), dtype=object),
        in_recording=(masks >> position) & 1 == 1, in_other=(masks >> (1 - position)) & 1 == 1,
        births=np.asarray(births, dtype=float),
    )


def _ends(cells: UnrecordedCells, rows: np.ndarray, min_recaptures: float) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(estimate, variance) at the lower and upper end of one stratum group's region."""
    births = cells.births[rows]
    in_a, in_b = cells.in_recording[rows], cells.in_other[rows]
    n_a = float(births[in_a].sum())
    b_only = float(births[in_b & ~in_a].sum())
    parts = {}
    for key, index in pd.Series(np.arange(len(rows))).groupby(cells.cell[rows], sort=True).indices.items():
        seen = in_a[index]
        a = float(births[index][seen].sum())
        if a == 0:
            continue
        m = float(births[index][seen & in_b[index]].sum())
        parts[str(key)] = CaptureHistories(("a", "b"), np.array([a - m, 0.0, m]))
    if not parts:
        return None
    grouped = estimate_stratified(parts, min_recaptures=min_recaptures)
    if not grouped.estimable:
        return None
    ends = []
    for group in grouped.strata:
        # no birth of a cell is on the other list alone: seen = the recording list's, recaptured = both
        a, m = group.n_observed, group.recaptured
        if m == 0:
            continue
        result = chapman(a, m + b_only, m)
        ends.append((n_a - a + float(result.n_hat or 0.0), float(result.se or 0.0) ** 2))
    if not ends:
        return None
    return min(ends), max(ends)


def identification_region(
    cells: UnrecordedCells, group_of: Mapping[str, str], min_recaptures: float,
) -> Region | None:
    """The region, summed over the stratum groups of the area's estimate
    (``group_of``: stratum key -> group); None where a group has no estimable cell."""
    groups = pd.Series(cells.stratum).map(group_of).fillna("(none)").to_numpy(dtype=object)
    low = high = var_low = var_high = 0.0
    for _, rows in pd.Series(np.arange(len(groups))).groupby(groups, sort=True).indices.items():
        ends = _ends(cells, rows, min_recaptures)
        if ends is None:
            return None
        (low_g, var_low_g), (high_g, var_high_g) = ends
        low, var_low, high, var_high = low + low_g, var_low + var_low_g, high + high_g, var_high + var_high_g
    observed = float(cells.births[cells.in_recording | cells.in_other].sum())
    return Region(cells.recording, cells.covariates, low, high, var_low, var_high, observed)
