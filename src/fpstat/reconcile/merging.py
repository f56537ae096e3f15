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
from fpstat.reconcile.prepared import NO_DAY, PreparedRecords

RULE_DUPLICATE_PROBABILISTIC = "duplicate:probabilistic"  # found by the second look
#: Rounds of the second look (a cluster merged in one round may complete another's match).
SECOND_LOOK_ROUNDS = 3


def resolve_deferred(clustering: Clustering, deferred: list[tuple[int, int]]) -> dict[str, object]:
    """Settle the within-source pairs only other sources can tell apart (see duplicates).

    When one of the two records found no record of another source, it is the same birth
    entered twice: its cluster joins the other's and it becomes a duplicate of the record
    there (which stays primary, as the one the other sources linked to). When both found
    records elsewhere, they are twins and stay apart.

    A merged pair may still be twins of whom one no other source saw. How likely that is
    follows from the pairs kept apart (twins, ``K``) and the share ``r`` of the source's
    births no other source saw: twin pairs number about ``K / (1 - r2)`` with
    ``r2 = 1 - (1 - r)^2`` the chance that one twin was seen nowhere else, so of the ``M``
    merged pairs about ``K r2 / (1 - r2)`` are twins, and each merge is doubtful with that
    share (at most one half). These go to ``clustering.doubtful_merges`` (secondary record,
    probability) for the intervals of the estimates.
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
    merged_records: list[int] = []
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
        merged_records.append(secondary)
    outcome.update(merged=merged, kept_apart=kept_apart)
    if merged_records:
        merged_records_array = np.array(merged_records, dtype=np.int64)
        record_ranks = ranks[merged_records_array].astype(np.int64)
        share_of = {int(rank): _twin_share(sources, int(rank), kept_apart, merged)
                    for rank in np.unique(record_ranks)}  # once per source, not per record
        clustering.doubtful_merges = (merged_records_array,
                                      np.array([share_of[int(rank)] for rank in record_ranks]))
    return outcome


def _twin_share(sources: np.ndarray, rank: int, kept_apart: int, merged: int) -> float:
    """The chance that a merged deferred pair of the source ranked ``rank`` is twins."""
    bit = np.int64(1) << np.int64(rank)
    holding = (sources & bit) != 0
    alone = float(np.mean(sources[holding] == bit)) if holding.any() else 0.0
    one_unseen = 1.0 - (1.0 - alone) ** 2
    twins_merged = kept_apart * one_unseen / max(1.0 - one_unseen, 1e-9)
    return float(min(0.5, twins_merged / merged)) if merged else 0.0


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
    known = _known(clustering)
    for round_number in range(SECOND_LOOK_ROUNDS):
        round_report: dict[str, object] = {}
        rounds.append(round_report)
        scored = _score_round(clustering, register_rank, step * 100 + round_number, round_report, known)
        if scored is None:
            break
        sources, entity, cluster, weight, posterior = scored
        above = (posterior >= _thresholds(clustering, sources, cluster, register_rank)) & (cluster < entity)
        entity, cluster, weight, posterior = entity[above], cluster[above], weight[above], posterior[above]
        allowed = ~_duplicate_conflicts(clustering, entity, cluster)
        chosen = cand.assign_one_to_one(entity[allowed], cluster[allowed], weight[allowed])
        merged, into = entity[allowed][chosen], cluster[allowed][chosen]
        settled = ~np.isin(into, merged)  # a cluster merging away takes none in this round
        round_report["merged"] = _merge(clustering, merged[settled], into[settled],
                                        posterior[allowed][chosen][settled])
        if round_report["merged"] == 0:
            clustering.last_look = scored  # still what the clusters are: near_misses reuses it
            break
    return report


def _known(clustering: Clustering) -> np.ndarray:
    known = np.concatenate(clustering.known_pool) if clustering.known_pool else np.zeros(
        (0, len(FIELD_NAMES)), dtype=np.int8)
    return known[(known != MISSING).any(axis=1)]


def _score_round(clustering: Clustering, register_rank: int, step: int, report: dict[str, object],
                 known: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Every cluster the register lacks scored against the older clusters (the register's are
    all older: it is linked first). None when there is no such cluster."""
    clustering.last_look = None
    sources = clustering.sources_per_cluster()
    alive = np.flatnonzero(clustering.founder_of >= 0)
    orphans = alive[(sources[alive] >> register_rank) & 1 == 0]
    report["clusters_without_register"] = len(orphans)
    if len(orphans) == 0:
        return None
    profiles = clustering.profiles.view()
    cand.register_sides(clustering.engine, profiles.table, orphans, profiles.table, alive)
    entity, cluster, weight, posterior = clustering.score(
        clustering.comparer(profiles, profiles), profiles, orphans, profiles, alive, known,
        step, report, older_only=True, rules=clustering.settings.second_look_blocking_rules)
    registered = ((sources[cluster] >> register_rank) & 1).astype(np.int64)
    comparable = (clustering.last_levels != MISSING).astype(np.int64) @ (1 << np.arange(len(FIELD_NAMES)))
    classes = registered * _CLASSES + comparable
    known_rows = alive[(sources[alive] >> register_rank) & 1 == 1]
    possible = _possible_pairs(profiles, orphans, known_rows)
    weight, priors = class_priors(weight, clustering.last_prior, classes, possible)
    report["priors"] = {"without_register": _summed(priors, possible, 0),
                        "with_register": _summed(priors, possible, 1)}
    return sources, entity, cluster, weight, 1.0 / (1.0 + np.exp2(-weight))


_CLASSES = 1 << len(FIELD_NAMES)  # sets of comparable fields


def _field_bits(profiles: PreparedRecords, rows: np.ndarray) -> np.ndarray:
    """Per profile: bit j set when field j (mother: 1 ID, 2 name; then the rest) is known."""
    known = [
        profiles.child_id[rows] >= 0, profiles.mother_id[rows] >= 0,
        profiles.mother_name.simplified[rows] >= 0, profiles.father_id[rows] >= 0,
        profiles.child_name.simplified[rows] >= 0, profiles.birth_day[rows] != NO_DAY,
        profiles.sex[rows] > 0, profiles.area[rows] > 0, profiles.birth_order[rows] >= 0,
    ]
    return np.sum([flag.astype(np.int64) << bit for bit, flag in enumerate(known)], axis=0)


def _comparable_sets(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The set of fields two profiles can be compared on (as comparisons.compare_pairs does:
    the mother by ID where both have one, else by name), as a bit set over FIELD_NAMES."""
    both = left & right
    mother = ((both >> 1) & 1) | ((both >> 2) & 1)
    rest = both >> 3  # father_id, child_name, date, sex, area, order -> fields 2..7
    return (both & 1) | (mother << 1) | (rest << 2)


def _possible_pairs(profiles: PreparedRecords, orphans: np.ndarray, registered: np.ndarray) -> np.ndarray:
    """Pairs the second look could form, per class (register flag x comparable fields):
    orphans with each other (unordered) and with the register's clusters."""
    possible = np.zeros(2 * _CLASSES)
    orphan_bits, orphan_counts = np.unique(_field_bits(profiles, orphans), return_counts=True)
    known_bits, known_counts = np.unique(_field_bits(profiles, registered), return_counts=True)
    for bits, counts, offset in ((orphan_bits, orphan_counts, 0), (known_bits, known_counts, _CLASSES)):
        sets = _comparable_sets(orphan_bits[:, None], bits[None, :])
        pairs = orphan_counts[:, None].astype(float) * counts[None, :].astype(float)
        if offset == 0:  # unordered pairs of orphans: each couple of masks once, a mask with itself n(n-1)/2
            pairs = np.triu(pairs, k=1) + np.diag(orphan_counts * (orphan_counts - 1) / 2.0)
        np.add.at(possible, offset + sets.ravel(), pairs.ravel())
    return possible


def _summed(priors: np.ndarray, possible: np.ndarray, register: int) -> float:
    """The overall match proportion of one half of the classes (for the report)."""
    part = slice(register * _CLASSES, (register + 1) * _CLASSES)
    total = possible[part].sum()
    return float((priors[part] * possible[part]).sum() / total) if total > 0 else 0.0


def class_priors(weight: np.ndarray, prior: float, classes: np.ndarray, possible: np.ndarray,
                 iterations: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Match weights with the match proportion estimated within each class of pairs.

    One prior for all pairs understates the chance that two clusters are one birth when they
    can be compared on little: a birth the register lacks, seen by one source with the
    mother's name and by another with the child's, has only place, date and sex to compare,
    and such pairs are rare among all pairs but common among the info-poor clusters left over
    (missingness that is not at random for linkage). Keeping each pair's Bayes factor (m and u
    as fitted) and estimating the mixing proportion ``lambda_k = sum of posteriors in k /
    possible pairs in k`` by EM within each class ``k`` (register or not, times the set of
    fields both sides have; the M-step of Winkler 1988 for the proportion, per class) gives
    each class its own prior. ``possible[k]``: pairs of class ``k``, candidates or not (a pair
    blocking left out has a posterior of about 0). The log-likelihood is concave in each
    ``lambda_k``, so the iteration has one fixed point. Returns the new weights (posterior log2
    odds) and the prior of every class (``prior`` where a class has no pairs).
    """
    factor = weight - (np.log2(prior) - np.log2(1.0 - prior))  # the Bayes factors, log2
    priors = np.full(len(possible), float(prior))
    result = weight.copy()
    for k in np.unique(classes):
        mine = classes == k
        pairs = float(possible[k])
        if pairs < mine.sum():  # a count the class cannot have: keep the common prior
            continue
        lam = float(prior)
        for _ in range(iterations):
            posterior = 1.0 / (1.0 + np.exp2(-(factor[mine] + np.log2(lam) - np.log2(1.0 - lam))))
            new = float(np.clip(posterior.sum() / pairs, 1e-15, 1.0 - 1e-9))
            done = abs(new - lam) <= 1e-9 * lam
            lam = new
            if done:
                break
        result[mine] = factor[mine] + np.log2(lam) - np.log2(1.0 - lam)
        priors[k] = lam
    return result, priors


def _thresholds(clustering: Clustering, sources: np.ndarray, cluster: np.ndarray,
                register_rank: int) -> np.ndarray:
    """The posterior a merge into ``cluster`` needs: ``match_threshold`` into a cluster the
    register holds (a wrong merge would hide a missing birth), ``orphan_merge_threshold`` into
    one it lacks too (either error is off by one birth, so the even-odds threshold)."""
    settings = clustering.settings
    registered = (sources[cluster] >> register_rank) & 1 == 1
    return np.where(registered, settings.match_threshold, settings.orphan_merge_threshold)


def near_misses(clustering: Clustering, register_rank: int, step: int,
                floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linkage's doubtful "no" answers, for the uncertainty of the estimates.

    For every cluster the register lacks, its best match among the older clusters that the
    threshold refused (posterior at least ``floor``, below the pair's threshold), with no
    records that would conflict as duplicates (two births, e.g. twins). The posteriors are the
    second look's own: its last round, or a new round scored the same way. Returns (orphan
    cluster, other cluster, posterior), sorted by orphan.
    """
    scored = clustering.last_look or _score_round(clustering, register_rank, step * 100 + 99, {},
                                                  _known(clustering))
    if scored is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    sources, entity, cluster, _, posterior = scored
    doubtful = ((cluster < entity) & (posterior >= floor)
                & (posterior < _thresholds(clustering, sources, cluster, register_rank)))
    entity, cluster, posterior = entity[doubtful], cluster[doubtful], posterior[doubtful]
    allowed = ~_duplicate_conflicts(clustering, entity, cluster)
    entity, cluster, posterior = entity[allowed], cluster[allowed], posterior[allowed]
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
    clustering.profiles.vote(cluster_of, np.unique(into))
    clustering.founder_of[merged] = -1
    return int(len(merged))
