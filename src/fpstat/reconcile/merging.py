"""After all sources are linked: settle deferred duplicates, and take a second look.

Both steps merge whole clusters (:class:`fpstat.reconcile.clustering.Clustering`), never split
one. A cluster that merges into another disappears; its records move, its founding record gets
the rule of the merge, and the other cluster's profile takes the fields it lacked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpstat.reconcile import candidates as cand
from fpstat.reconcile.clustering import RULE_PROBABILISTIC, Clustering
from fpstat.reconcile.comparisons import COLUMN, FIELD_NAMES
from fpstat.reconcile.duplicates import CLEARLY_DIFFERENT_NAME_LEVEL
from fpstat.reconcile.duplicates import RULE_MOTHER_DATE_SEX as RULE_DUPLICATE_MOTHER_DATE_SEX
from fpstat.reconcile.fellegi_sunter import MISSING

RULE_DUPLICATE_PROBABILISTIC = "duplicate:probabilistic"  # found by the second look
#: Rounds of the second look (a cluster merged in one round may complete another's match).
SECOND_LOOK_ROUNDS = 3


def resolve_deferred(clustering: Clustering, deferred: list[tuple[int, int]]) -> dict[str, object]:
    """Settle the within-source pairs only other sources can tell apart (see duplicates).

    When one of the two records found no record of another source, it is the same birth
    entered twice: its cluster joins the other's and it becomes a duplicate of the record
    there (which stays primary, as the one the other sources linked to). When both found
    records elsewhere, they are twins and stay apart.
    """
    outcome: dict[str, object] = {"role": "deferred duplicates", "deferred_pairs": len(deferred),
                                  "merged": 0, "kept_apart": 0}
    if not deferred:
        return outcome
    sources = clustering.sources_per_cluster()
    ranks = clustering.records.role_rank
    involved = np.unique(clustering.cluster_of[np.array(deferred, dtype=np.int64).ravel()])
    members: dict[int, list[int]] = {}
    for record in np.flatnonzero(np.isin(clustering.cluster_of, involved)).tolist():
        members.setdefault(int(clustering.cluster_of[record]), []).append(record)
    merged = kept_apart = 0
    for first, second in deferred:
        cluster_first = int(clustering.cluster_of[first])
        cluster_second = int(clustering.cluster_of[second])
        if cluster_first == cluster_second:
            continue
        alone = np.int64(1) << np.int64(ranks[first])
        if sources[cluster_second] == alone:
            keep, gone, primary, secondary = cluster_first, cluster_second, first, second
        elif sources[cluster_first] == alone:
            keep, gone, primary, secondary = cluster_second, cluster_first, second, first
        else:
            kept_apart += 1
            continue
        moving = np.array(members.pop(gone), dtype=np.int64)
        members[keep].extend(moving.tolist())
        clustering.cluster_of[moving] = keep
        sources[keep] |= sources[gone]
        group = moving[clustering.entity[moving] == secondary]
        clustering.entity[group] = primary
        clustering.rule[secondary] = RULE_DUPLICATE_MOTHER_DATE_SEX
        clustering.probability[secondary] = 1.0
        clustering.profiles.merge(np.array([gone]), np.array([keep]))
        clustering.founder_of[gone] = -1
        merged += 1
    outcome.update(merged=merged, kept_apart=kept_apart)
    return outcome


def second_look(clustering: Clustering, register_rank: int, step: int) -> dict[str, object]:
    """Merge clusters the register lacks into older clusters they match as a whole.

    By the end every cluster holds the fields of all its sources, so a birth that no single
    record could link (a hospital row with the mother's name only, against a police row with
    the child's name only) may match as a whole. A cluster without a register record may merge
    into an older cluster: a register one (the birth is not missing after all) or another one
    without (the same missing birth, found twice). Clusters are compared through their
    profiles.

    A cluster can gain a second record of a source only as a flagged duplicate: where both
    clusters hold a record of the same source, those records must look like one birth entered
    twice (no conflicting child IDs or names, same sex, dates within tolerance or swapped), and
    the newcomer becomes a ``duplicate:probabilistic`` of the record there. The merged
    cluster's founding record otherwise gets ``probabilistic`` and the posterior of the
    cluster-to-cluster match; its other records keep their rules.
    """
    report: dict[str, object] = {"role": "second look", "rounds": []}
    rounds: list[dict[str, object]] = []
    report["rounds"] = rounds
    known = np.concatenate(clustering.known_pool) if clustering.known_pool else np.zeros(
        (0, len(FIELD_NAMES)), dtype=np.int8)
    known = known[(known != MISSING).any(axis=1)]
    for round_number in range(SECOND_LOOK_ROUNDS):
        sources = clustering.sources_per_cluster()
        alive = np.flatnonzero(clustering.founder_of >= 0)
        orphans = alive[(sources[alive] >> register_rank) & 1 == 0]
        round_report: dict[str, object] = {"clusters_without_register": len(orphans)}
        rounds.append(round_report)
        if len(orphans) == 0:
            break
        profiles = clustering.profiles.view()
        cand.register_sides(clustering.engine, profiles.table, orphans, profiles.table, alive)
        entity, cluster, weight, posterior = clustering.score(
            clustering.comparer(profiles, profiles), profiles, orphans, profiles, alive, known,
            step * 100 + round_number, round_report, older_only=True,
            rules=clustering.settings.second_look_blocking_rules)
        above = (posterior >= clustering.settings.match_threshold) & (cluster < entity)
        entity, cluster, weight, posterior = entity[above], cluster[above], weight[above], posterior[above]
        allowed = ~_duplicate_conflicts(clustering, entity, cluster)
        chosen = cand.assign_one_to_one(entity[allowed], cluster[allowed], weight[allowed])
        merged, into = entity[allowed][chosen], cluster[allowed][chosen]
        settled = ~np.isin(into, merged)  # a cluster merging away takes none in this round
        round_report["merged"] = _merge(clustering, merged[settled], into[settled],
                                        posterior[allowed][chosen][settled])
        if round_report["merged"] == 0:
            break
    return report


def near_misses(clustering: Clustering, register_rank: int, step: int,
                floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linkage's doubtful "no" answers, for the uncertainty of the estimates.

    For every cluster the register lacks, its best match among the other clusters that the
    threshold refused: posterior at least ``floor`` and below ``match_threshold``, with no
    records that would conflict as duplicates (two births, e.g. twins). Scored like the second
    look, but with every blocking rule, the place-and-date ones included: a birth the register
    lacks that one source saw with the mother's name and another with the child's has only its
    place, date and sex in common. Returns (orphan cluster, other cluster, posterior), sorted.
    """
    sources = clustering.sources_per_cluster()
    alive = np.flatnonzero(clustering.founder_of >= 0)
    orphans = alive[(sources[alive] >> register_rank) & 1 == 0]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(orphans) == 0 or len(alive) < 2:
        return empty
    known = np.concatenate(clustering.known_pool) if clustering.known_pool else np.zeros(
        (0, len(FIELD_NAMES)), dtype=np.int8)
    known = known[(known != MISSING).any(axis=1)]
    profiles = clustering.profiles.view()
    cand.register_sides(clustering.engine, profiles.table, orphans, profiles.table, alive)
    entity, cluster, _, posterior = clustering.score(
        clustering.comparer(profiles, profiles), profiles, orphans, profiles, alive, known,
        step * 100 + 99, {}, rules=clustering.settings.blocking_rules)
    doubtful = ((entity != cluster) & (posterior >= floor)
                & (posterior < clustering.settings.match_threshold))
    entity, cluster, posterior = entity[doubtful], cluster[doubtful], posterior[doubtful]
    allowed = ~_duplicate_conflicts(clustering, entity, cluster)
    entity, cluster, posterior = entity[allowed], cluster[allowed], posterior[allowed]
    # One pair per couple of clusters (both may be orphans), then the best per orphan.
    low, high = np.minimum(entity, cluster), np.maximum(entity, cluster)
    order = np.lexsort((high, low, -posterior))
    _, first = np.unique(low[order] * (clustering.cluster_count + 1) + high[order], return_index=True)
    keep = order[np.sort(first)]
    entity, cluster, posterior = entity[keep], cluster[keep], posterior[keep]
    order = np.lexsort((cluster, entity, -posterior))
    _, best = np.unique(entity[order], return_index=True)
    pick = order[best]
    return entity[pick], cluster[pick], posterior[pick]


def _duplicate_conflicts(clustering: Clustering, entity: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Per cluster pair: do records of a source both clusters hold look like two births?"""
    if len(entity) == 0:
        return np.zeros(0, dtype=bool)
    members = np.flatnonzero(np.isin(clustering.cluster_of, np.concatenate([entity, cluster])))
    by_cluster = pd.DataFrame({"cluster": clustering.cluster_of[members], "rec": members,
                               "rank": clustering.records.role_rank[members]})
    pairs = pd.DataFrame({"entity": entity, "cluster": cluster, "pair": np.arange(len(entity))})
    left = pairs.merge(by_cluster.rename(columns={"cluster": "entity"}), on="entity")
    both = left.merge(by_cluster, on=["cluster", "rank"], suffixes=("_left", "_right"))
    result = np.zeros(len(entity), dtype=bool)
    if both.empty:
        return result
    records = clustering.records
    levels = clustering.comparer(records, records)(both["rec_left"].to_numpy(), both["rec_right"].to_numpy())
    name = levels[:, COLUMN["child_name"]]
    conflict = (
        (levels[:, COLUMN["child_id"]] == 0)
        | ((name >= 0) & (name <= CLEARLY_DIFFERENT_NAME_LEVEL))
        | (levels[:, COLUMN["sex"]] == 0)
        | (levels[:, COLUMN["birth_date"]] <= 1)
    )
    result[both["pair"].to_numpy()[conflict]] = True
    return result


def _merge(clustering: Clustering, merged: np.ndarray, into: np.ndarray, posterior: np.ndarray) -> int:
    """Move the records of clusters ``merged`` into ``into``; overlaps become duplicates."""
    if len(merged) == 0:
        return 0
    cluster_of, entity = clustering.cluster_of, clustering.entity
    target = np.arange(clustering.cluster_count)
    target[merged] = into
    moving = np.flatnonzero(np.isin(cluster_of, merged))
    probability_of = np.zeros(clustering.cluster_count)
    probability_of[merged] = posterior
    founders = clustering.founder_of[merged]
    clustering.rule[founders] = RULE_PROBABILISTIC
    clustering.probability[founders] = posterior
    # The primary record of each (cluster, source) that the merged clusters land in.
    ranks = clustering.records.role_rank.astype(np.int64)
    span = int(ranks.max(initial=0)) + 1
    staying = np.flatnonzero(np.isin(cluster_of, into) & (entity == np.arange(len(entity))))
    staying_keys = cluster_of[staying] * span + ranks[staying]
    order = np.argsort(staying_keys)
    staying_keys, staying = staying_keys[order], staying[order]
    arriving = moving[entity[moving] == moving]
    keys = target[cluster_of[arriving]] * span + ranks[arriving]
    position = np.searchsorted(staying_keys, keys)
    found = position < len(staying_keys)
    found[found] = staying_keys[position[found]] == keys[found]
    # Such a primary, with its own duplicates, becomes a duplicate of the record there.
    overlapping, primary_there = arriving[found], staying[position[found]]
    remap = np.arange(len(entity))
    remap[overlapping] = primary_there
    entity[moving] = remap[entity[moving]]
    clustering.rule[overlapping] = RULE_DUPLICATE_PROBABILISTIC
    clustering.probability[overlapping] = probability_of[cluster_of[overlapping]]
    cluster_of[moving] = target[cluster_of[moving]]
    clustering.profiles.merge(merged, into)
    clustering.profiles.vote(cluster_of, np.unique(into))
    clustering.founder_of[merged] = -1
    return int(len(merged))
