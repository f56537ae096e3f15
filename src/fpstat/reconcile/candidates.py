"""Candidate pairs and one-to-one assignment for one linking step.

The births being linked are the *left* side (one row per birth: ``entity``), the clusters the
*right* side (one profile row per cluster: ``cluster``). Candidate (entity, cluster) pairs come
from the exact passes or from the union of several blocking rules, all run as SQL in the engine.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.engine import sql_linkage as sql
from fpstat.reconcile.prepared import SIDE_COLUMNS


def register_sides(engine: Engine, left: pa.Table, left_rows: np.ndarray,
                   right: pa.Table, right_rows: np.ndarray) -> None:
    """Register ``linkage_left`` (rows ``left_rows``; ``entity`` = their ``rec``) and
    ``linkage_right`` (rows ``right_rows``; ``cluster`` = their ``rec``), replacing earlier ones."""
    left_side = left.select(list(SIDE_COLUMNS)).take(pa.array(left_rows, pa.int64()))
    right_side = right.select(list(SIDE_COLUMNS)).take(pa.array(right_rows, pa.int64()))
    engine.register("linkage_left", left_side.append_column("entity", left_side.column("rec")))
    engine.register("linkage_right", right_side.append_column("cluster", right_side.column("rec")))


def _pairs(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    return (table.column("entity").to_numpy().astype(np.int64),
            table.column("cluster").to_numpy().astype(np.int64))


def exact_pairs(engine: Engine, keys: tuple[str, ...], differing: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(entity, cluster) pairs equal on ``keys`` (and unequal on ``differing``), sorted."""
    return _pairs(engine.arrow(sql.exact_pairs(keys, differing)))


def blocked_pairs(
    engine: Engine, rule_names: tuple[str, ...], max_block_pairs: int, tolerance_days: int,
    older_only: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, int]]]:
    """The union of the blocking rules' (entity, cluster) candidates, sorted, and per rule its
    blocks, pairs, candidates kept and the blocks / pairs skipped for exceeding
    ``max_block_pairs`` (counts only: the keys hold names and IDs). ``older_only``: only
    pairs whose cluster number is below the entity's (both sides are clusters).

    One statement per rule: a statement holds the keyed sides of all its rules at once, which
    at a million clusters is half a gigabyte more than one rule's; the union is taken here.
    """
    empty = np.zeros(0, np.int64)
    if not rule_names:
        return empty, empty, {}
    shifts = pa.table({"days": pa.array(range(-tolerance_days, tolerance_days + 1), pa.int32())})
    engine.register("linkage_shifts", shifts)
    entities, clusters = [], []
    statistics: dict[str, dict[str, int]] = {}
    try:
        for name in rule_names:
            result = engine.arrow(sql.blocking(sql.BLOCKING_RULES[name], max_block_pairs))
            is_count = pc.equal(result.column("kind"), "blocks")
            counts, found = result.filter(is_count), result.filter(pc.invert(is_count))
            statistics[name] = {key: int(counts.column(key)[0].as_py()) for key in
                                ("blocks", "pairs", "capped_blocks", "capped_pairs")}
            statistics[name]["candidates"] = found.num_rows
            entity, cluster = _pairs(found)
            entities.append(entity)
            clusters.append(cluster)
    finally:
        engine.unregister("linkage_shifts")
    entity, cluster = np.concatenate(entities), np.concatenate(clusters)
    # Pairs as one number each (entity-major), so that one sort orders and deduplicates them
    # (not np.unique: without return_* options, numpy 2.4 hashes, 50 times slower here).
    width = np.int64(cluster.max(initial=0)) + 1
    pairs = entity * width + cluster
    pairs.sort()
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    entity, cluster = pairs[first] // width, pairs[first] % width
    if older_only:  # here, not in SQL: an inequality would cost the hash join
        keep = cluster < entity
        entity, cluster = entity[keep], cluster[keep]
    return entity, cluster, statistics


def assign_one_to_one(entity: np.ndarray, cluster: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Accept pairs greedily by descending score so that no entity or cluster is used twice.

    Ties are broken by entity, then cluster (both in the deterministic record order). Runs as
    rounds of "mutual best" pairs (each the best remaining pair of both its entity and its
    cluster), which accepts exactly what the sequential greedy algorithm would, but vectorised.
    Returns a boolean mask over the input pairs.
    """
    accepted = np.zeros(len(entity), dtype=bool)
    if len(entity) == 0:
        return accepted
    # A pair whose entity and cluster appear in no other pair is accepted as it stands.
    _, entity_index, entity_counts = np.unique(entity, return_inverse=True, return_counts=True)
    _, cluster_index, cluster_counts = np.unique(cluster, return_inverse=True, return_counts=True)
    alone = (entity_counts[entity_index.reshape(-1)] == 1) & (cluster_counts[cluster_index.reshape(-1)] == 1)
    accepted[alone] = True
    alive = ~alone
    while alive.any():
        index = np.flatnonzero(alive)
        order = index[np.lexsort((cluster[index], entity[index], -score[index]))]
        _, first_of_entity = np.unique(entity[order], return_index=True)
        _, first_of_cluster = np.unique(cluster[order], return_index=True)
        best_of_both = np.zeros(len(entity), dtype=np.int8)
        best_of_both[order[first_of_entity]] += 1
        best_of_both[order[first_of_cluster]] += 1
        mutual = np.flatnonzero(best_of_both == 2)
        accepted[mutual] = True
        alive &= ~np.isin(entity, entity[mutual]) & ~np.isin(cluster, cluster[mutual])
    return accepted
