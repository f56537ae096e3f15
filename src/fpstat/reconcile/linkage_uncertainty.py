"""Linkage errors in the intervals of the completeness estimates.

The estimates count births by their capture histories, and the histories come from the record
linkage. A link wrongly refused splits one birth into two (both seen by fewer sources, so the
model also thinks more births went unseen); a link wrongly made merges two births into one.
A sampling interval alone ignores both, and with four sources, where the sampling error of a
county's total is a few births, a handful of linkage errors is enough to put the truth outside
it. The linkage knows which of its decisions were doubtful, with a posterior probability each
(Fellegi & Sunter 1969):

* **refused pairs** (:func:`fpstat.reconcile.merging.near_misses`): a cluster the register lacks
  and its best other cluster, with posterior ``q`` that they are one birth;
* **accepted probabilistic links** with posterior ``p`` below ``1 - floor``: with probability
  ``q = 1 - p`` the record's birth is another one;
* **moves** (:meth:`fpstat.reconcile.clustering.Clustering.doubtful_moves`): a record an exact
  pass gave to one of two matching clusters (twins whose records lack names and IDs), which
  with probability ``q`` belongs to the other; and a within-source duplicate that with
  probability ``q`` is a twin no other source saw (:func:`fpstat.reconcile.merging.
  resolve_deferred`), one birth more.

Each doubtful decision ``i`` is a Bernoulli choice between what the linkage did and its
alternative, which would move a few births between capture-history cells. Its effect on an
area's estimate, ``delta_i``, is linearised (Taylor; the decisions are few and each moves one
or two births): ``delta_i = sum_c change_ic * dN/dn_c``, with ``dN/dn_c`` the change of the
area's estimate when one birth is added to cell ``c`` of its stratum group, refitting the
group's model (Chapman, or the chosen log-linear model) with that birth. Over the decisions,
as independent Bernoulli draws (the approach of Lahiri & Larsen 2005 and of multiple-imputation
linkage, Goldstein, Harron & Wade 2012, in its first-order form):

* expected shift of the estimate ``b = sum_i q_i delta_i`` (``linkage_shift``),
* linkage variance ``V = sum_i q_i (1 - q_i) delta_i^2`` (``linkage_sd = sqrt(V)``).

The reported estimate stays the linkage's own; the interval is widened to hold both it and the
shifted one: ``low = N + min(b, 0) - sqrt((N - L)^2 + z^2 V)`` and
``high = N + max(b, 0) + sqrt((U - N)^2 + z^2 V)``, where ``(L, U)`` is the sampling interval.
The shift is not applied to the estimate because posteriors are calibrated only as well as the
linkage model fits; the interval says honestly how far the linkage could move it.

References: Fellegi, I. P. & Sunter, A. B. (1969) A theory for record linkage. JASA 64,
1183-1210. Lahiri, P. & Larsen, M. D. (2005) Regression analysis with linked data. JASA 100,
222-230. Goldstein, H., Harron, K. & Wade, A. (2012) The analysis of record-linked data using
multiple imputation with data value priors. Statistics in Medicine 31, 3481-3493. Di Consiglio,
L. & Tuoto, T. (2015) Coverage evaluation on probabilistic data linkage: extending the dual
system estimator. Journal of Official Statistics 31, 415-429.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from fpstat.engine.sql_reconcile import COVARIATES

#: One row per cell change of a decision's alternative.
CHANGE_COLUMNS = ("decision", "q", "area_code", "period", *COVARIATES, "history", "change")


def doubtful_decisions(
    births: pd.DataFrame,
    roles: Sequence[str],
    links: pd.DataFrame,
    near_misses: pd.DataFrame,
    floor: float,
    moves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The alternatives of the doubtful decisions, as cell changes (:data:`CHANGE_COLUMNS`).

    ``births``: one row per cluster (``cluster_id``, ``area_code``, ``period``, covariates,
    ``in_<role>``); ``links``: the linkage's links (``rule``, ``match_probability``,
    ``is_duplicate``); ``near_misses``: ``cluster_id``, ``other_cluster_id``, ``probability``;
    ``moves``: the same plus the ``role`` of the record that may move.
    """
    if births.empty:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))
    bits = np.zeros(len(births), dtype=np.int64)
    for position, role in enumerate(roles):
        bits |= births[f"in_{role}"].fillna(False).to_numpy(dtype=bool).astype(np.int64) << position
    cell = births[["cluster_id", "area_code", "period", *COVARIATES]].assign(history=bits)
    cell = cell.astype({"cluster_id": str}).set_index("cluster_id")
    clusters = frozenset(cell.index)
    pieces: list[pd.DataFrame] = []

    def changes(decision: np.ndarray, q: np.ndarray, source: pd.DataFrame, history: np.ndarray,
                sign: int) -> None:
        pieces.append(source.reset_index(drop=True).assign(
            decision=decision, q=q, history=history, change=sign))

    misses = near_misses.astype({"cluster_id": str, "other_cluster_id": str})
    misses = misses[_among(misses["cluster_id"], clusters) & _among(misses["other_cluster_id"], clusters)]
    if len(misses):
        number = np.arange(len(misses))
        q = misses["probability"].to_numpy(dtype=float)
        orphan, other = cell.loc[misses["cluster_id"]], cell.loc[misses["other_cluster_id"]]
        merged = orphan["history"].to_numpy() | other["history"].to_numpy()
        changes(number, q, orphan, orphan["history"].to_numpy(), -1)
        changes(number, q, other, other["history"].to_numpy(), -1)
        changes(number, q, other, merged, +1)  # the older cluster's place, date and covariates
    probabilistic = links[(links["rule"].astype(str) == "probabilistic")
                          & ~links["is_duplicate"].fillna(False).astype(bool)]
    p = pd.to_numeric(probabilistic["match_probability"], errors="coerce").to_numpy(dtype=float)
    doubtful = np.isfinite(p) & (1.0 - p >= floor)
    if doubtful.any():
        chosen = probabilistic[doubtful]
        role_bit = np.array([1 << list(roles).index(str(role)) if str(role) in roles else 0
                             for role in chosen["role"]], dtype=np.int64)
        keep = _among(chosen["cluster_id"], clusters) & (role_bit > 0)
        chosen, role_bit, q = chosen[keep], role_bit[keep], 1.0 - p[doubtful][keep]
        number = np.arange(len(chosen)) + len(misses)
        cluster = cell.loc[chosen["cluster_id"].astype(str)]
        history = cluster["history"].to_numpy()
        left = history & ~role_bit
        usable = left > 0  # the record's source must not be the cluster's only one
        number, q, cluster = number[usable], q[usable], cluster[usable]
        history, left, role_bit = history[usable], left[usable], role_bit[usable]
        changes(number, q, cluster, history, -1)
        changes(number, q, cluster, left, +1)
        changes(number, q, cluster, role_bit, +1)
    first = len(misses) + (int(doubtful.sum()) if doubtful.any() else 0)
    if moves is not None and len(moves):
        alone = moves[moves["other_cluster_id"].isna()].astype({"cluster_id": str, "role": str})
        alone = alone[_among(alone["cluster_id"], clusters) & alone["role"].isin(list(roles))]
        if len(alone):  # a duplicate that may be a birth of its own: one more birth, that source's
            number = np.arange(len(alone)) + first
            bit = np.array([1 << list(roles).index(role) for role in alone["role"]], dtype=np.int64)
            changes(number, alone["probability"].to_numpy(dtype=float), cell.loc[alone["cluster_id"]], bit, +1)
            first += len(alone)
        moving = moves[moves["other_cluster_id"].notna()].astype(
            {"cluster_id": str, "other_cluster_id": str, "role": str})
        moving = moving[_among(moving["cluster_id"], clusters) & _among(moving["other_cluster_id"], clusters)
                        & moving["role"].isin(list(roles))]
        number = np.arange(len(moving)) + first
        q = moving["probability"].to_numpy(dtype=float)
        bit = np.array([1 << list(roles).index(role) for role in moving["role"]], dtype=np.int64)
        source, target = cell.loc[moving["cluster_id"]], cell.loc[moving["other_cluster_id"]]
        left = source["history"].to_numpy() & ~bit
        changes(number, q, source, source["history"].to_numpy(), -1)
        stays = left > 0  # a cluster left with no record is no birth
        changes(number[stays], q[stays], source[stays], left[stays], +1)
        changes(number, q, target, target["history"].to_numpy(), -1)
        changes(number, q, target, target["history"].to_numpy() | bit, +1)
    if not pieces:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))
    return pd.concat(pieces, ignore_index=True)[list(CHANGE_COLUMNS)].sort_values(
        ["decision", "change", "history"], kind="stable", ignore_index=True)


def _among(values: pd.Series, known: frozenset[str]) -> np.ndarray:
    """``values.isin(known)`` by hashing (pandas' isin over millions of strings is slow)."""
    return np.fromiter((value in known for value in values.astype(str)), dtype=bool, count=len(values))


@dataclass(frozen=True)
class LinkageEffect:
    """What the doubtful decisions could do to one area's estimate."""

    shift: float       # b: expected change of the estimate
    variance: float    # V
    decisions: int


def linkage_effect(changes: pd.DataFrame, slopes: np.ndarray) -> LinkageEffect:
    """``b`` and ``V`` from one area's cell changes and each change's ``dN/dn`` (``slopes``)."""
    if changes.empty:
        return LinkageEffect(0.0, 0.0, 0)
    decision = changes["decision"].to_numpy()
    delta = pd.Series(changes["change"].to_numpy(dtype=float) * np.asarray(slopes, dtype=float)).groupby(
        decision).sum()
    q = changes.groupby("decision")["q"].first().reindex(delta.index).to_numpy(dtype=float)
    d = delta.to_numpy()
    return LinkageEffect(float(np.sum(q * d)), float(np.sum(q * (1.0 - q) * d * d)), len(d))


def widened_interval(n_hat: float, low: float, high: float, effect: LinkageEffect,
                     level: float) -> tuple[float, float]:
    """The sampling interval widened by the linkage's shift and variance (module doc)."""
    if not (np.isfinite(n_hat) and np.isfinite(low) and np.isfinite(high)) or effect.decisions == 0:
        return low, high
    z = float(norm.ppf(0.5 + level / 2.0))
    spread = z * z * effect.variance
    return (n_hat + min(effect.shift, 0.0) - float(np.sqrt((n_hat - low) ** 2 + spread)),
            n_hat + max(effect.shift, 0.0) + float(np.sqrt((high - n_hat) ** 2 + spread)))
