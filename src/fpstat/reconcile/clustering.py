"""Incremental clustering: the state of one linkage and its linking steps.

Every record has a cluster (birth), a rule saying how it got there, and a match probability.
Births of the first source found the first clusters; each further source is linked to the
clusters so far (exact passes, then Fellegi-Sunter), and its unlinked births found new
clusters. A birth is represented by its primary record (duplicates follow it), a cluster by
its profile (:class:`fpstat.reconcile.prepared.ClusterProfiles`). See
:mod:`fpstat.reconcile.linkage` for the method and its references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.reconcile import candidates as cand
from fpstat.reconcile.comparisons import (
    COLUMN,
    DEFAULT_M,
    DEFAULT_U,
    FIELD_NAMES,
    FIELDS,
    LEVEL_COUNTS,
    compare_pairs,
)
from fpstat.reconcile.duplicates import CLEARLY_DIFFERENT_NAME_LEVEL
from fpstat.reconcile.fellegi_sunter import (
    MISSING,
    FellegiSunterModel,
    distinct_patterns,
    estimate_em,
)
from fpstat.reconcile.parameters import Compare, known_match_m, random_pair_u, starting_model
from fpstat.reconcile.prepared import ClusterProfiles, PreparedRecords

if TYPE_CHECKING:
    from fpstat.reconcile.linkage import LinkageSettings

RULE_CHILD_ID = "child_id"
RULE_MOTHER_DATE_SEX = "mother_id+birth_date+sex"
RULE_MOTHER_DATE = "mother_id+birth_date"  # sex disagrees: a sex error is no missing birth
RULE_PROBABILISTIC = "probabilistic"
RULE_ANCHOR = "anchor"  # the record a cluster was founded on, when other sources joined it
RULE_SINGLETON = "singleton"  # a birth seen by one source only
_CONFIRMED_ON = ("child_id", "child_name", "mother", "birth_date", "sex")
#: (rule, equal keys, unequal keys, confirmed by child ID and name, fields the pass selects on)
EXACT_PASSES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], bool, tuple[str, ...]], ...] = (
    (RULE_CHILD_ID, ("child_id",), (), False, ("child_id",)),
    (RULE_MOTHER_DATE_SEX, ("mother_id", "birth_day", "sex"), (), True, _CONFIRMED_ON),
    (RULE_MOTHER_DATE, ("mother_id", "birth_day"), ("sex",), True, _CONFIRMED_ON),
)
#: Known matches of earlier steps stand in for a field this step's exact links say too little
#: about (fewer observations than this).
MIN_KNOWN_MATCHES = 200
#: Pairs compared at a time.
COMPARE_CHUNK = 1_000_000

Scored = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Clustering:
    """Cluster, rule and probability of every record, built source by source."""

    def __init__(self, engine: Engine, settings: LinkageSettings, records: PreparedRecords,
                 entity: np.ndarray, duplicate_rule: np.ndarray) -> None:
        self.engine, self.settings, self.records = engine, settings, records
        self.entity = entity
        n = len(records)
        self.cluster_of = np.full(n, -1, dtype=np.int64)
        self.rule = duplicate_rule.copy()
        self.probability = np.where(entity == np.arange(n), np.nan, 1.0)
        self.founder_of = np.zeros(0, dtype=np.int64)  # per cluster (-1 once merged away)
        self.profiles = ClusterProfiles(records)
        self.known_pool: list[np.ndarray] = []
        #: (record, founding record of the runner-up cluster, its probability) per exact pass
        self.runners_up: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        #: The second look's last scoring while it still describes the clusters (merging.py)
        self.last_look: tuple[np.ndarray, ...] | None = None
        #: Within-source duplicates that may be twins: (record, probability), see merging.py
        self.doubtful_merges: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0))
        #: The match proportion (prior) of the last model fitted by :meth:`score`
        self.last_prior = 0.5
        self.last_levels = np.zeros((0, len(FIELD_NAMES)), dtype=np.int8)
        self.reference = FellegiSunterModel(
            FIELD_NAMES, [np.array(DEFAULT_M[f]) for f in FIELD_NAMES],
            [np.array(DEFAULT_U[f]) for f in FIELD_NAMES], 0.5,
        )

    @property
    def cluster_count(self) -> int:
        return len(self.founder_of)

    def comparer(self, left: PreparedRecords, right: PreparedRecords) -> Compare:
        """compare(left rows, right rows) -> comparison vectors, with this linkage's settings."""
        settings = self.settings

        def compare(left_rows: np.ndarray, right_rows: np.ndarray) -> np.ndarray:
            # In chunks, so that memory stays bounded whatever the number of pairs.
            parts = [
                compare_pairs(left, left_rows[start:start + COMPARE_CHUNK], right,
                              right_rows[start:start + COMPARE_CHUNK],
                              date_tolerance_days=settings.date_tolerance_days,
                              names=settings.name_thresholds, workers=settings.workers)
                for start in range(0, max(len(left_rows), 1), COMPARE_CHUNK)
            ]
            return np.concatenate(parts) if len(parts) > 1 else parts[0]

        return compare

    def _attach(self, recs: np.ndarray, entities: np.ndarray, clusters: np.ndarray) -> None:
        """Put the records of births ``entities`` (among ``recs``) into ``clusters``."""
        target = np.full(len(self.records), -1, dtype=np.int64)
        target[entities] = clusters
        joined = target[self.entity[recs]]
        moving = recs[joined >= 0]
        self.cluster_of[moving] = joined[joined >= 0]
        # Primaries first, so that a duplicate only fills what its primary lacks.
        order = np.lexsort((moving, self.entity[moving] != moving))
        self.profiles.absorb(self.cluster_of[moving[order]], moving[order])

    def new_clusters(self, recs: np.ndarray, entities: np.ndarray) -> int:
        """Make a cluster of every birth in ``entities`` (primary records, sorted)."""
        clusters = np.arange(self.cluster_count, self.cluster_count + len(entities))
        self.founder_of = np.concatenate([self.founder_of, entities])
        self.profiles.add(entities)
        self._attach(recs, entities, clusters)
        return len(entities)

    def link_source(self, role: str, recs: np.ndarray, step: int) -> dict[str, object]:
        """Link one source's births to the clusters so far; the rest become new clusters."""
        births = recs[self.entity[recs] == recs]
        open_birth = np.ones(len(births), dtype=bool)
        open_cluster = self.founder_of >= 0
        profiles = self.profiles.view()
        compare = self.comparer(self.records, profiles)
        report: dict[str, object] = {"role": role}
        exact: dict[str, int] = {}
        training: list[np.ndarray] = []

        def register() -> None:
            cand.register_sides(self.engine, self.records.table, births[open_birth],
                                profiles.table, np.flatnonzero(open_cluster))

        def accept(entities: np.ndarray, clusters: np.ndarray, rule: str, probability: np.ndarray) -> None:
            self._attach(recs, entities, clusters)
            self.rule[entities] = rule
            self.probability[entities] = probability
            open_birth[np.isin(births, entities)] = False
            open_cluster[clusters] = False

        for rule, keys, differing, confirm, selected_on in EXACT_PASSES:
            register()
            entity, cluster = cand.exact_pairs(self.engine, keys, differing)
            levels = compare(entity, cluster)
            if confirm:
                name = levels[:, COLUMN["child_name"]]
                keep = (levels[:, COLUMN["child_id"]] != 0) & ~(
                    (name >= 0) & (name <= CLEARLY_DIFFERENT_NAME_LEVEL))
                entity, cluster, levels = entity[keep], cluster[keep], levels[keep]
            # Twins match the same keys: the pair whose other fields agree best wins.
            weight = self.reference.bayes_factor_log2(levels)
            chosen = cand.assign_one_to_one(entity, cluster, weight)
            self._note_runners_up(entity, cluster, weight, chosen)
            accept(entity[chosen], cluster[chosen], rule, np.ones(int(chosen.sum())))
            known = levels[chosen].copy()
            known[:, [COLUMN[name] for name in selected_on]] = MISSING
            training.append(known)
            exact[rule] = int(chosen.sum())
        report["exact"] = exact

        register()
        entity, cluster, weight, posterior = self.score(
            compare, self.records, births[open_birth], profiles, np.flatnonzero(open_cluster),
            self._known_matches(np.concatenate(training)), step, report)
        above = posterior >= self.settings.match_threshold
        chosen = cand.assign_one_to_one(entity[above], cluster[above], weight[above])
        accept(entity[above][chosen], cluster[above][chosen], RULE_PROBABILISTIC,
               posterior[above][chosen])
        report["pairs_above_threshold"] = int(above.sum())
        report["probabilistic_links"] = int(chosen.sum())
        joined = np.flatnonzero(~open_cluster & (self.founder_of >= 0))
        report["new_clusters"] = self.new_clusters(recs, births[open_birth])
        self.profiles.vote(self.cluster_of, joined)
        return report

    def _note_runners_up(self, entity: np.ndarray, cluster: np.ndarray, weight: np.ndarray,
                         chosen: np.ndarray) -> None:
        """Where a birth matched two clusters on the exact keys (twins whose records lack
        what tells them apart), remember the other cluster and how likely it was:
        ``2^w' / (2^w + 2^w')`` for match weights ``w`` (chosen) and ``w'`` (runner-up)."""
        if not chosen.any() or chosen.all():
            return
        best = pd.Series(weight[chosen], index=entity[chosen])
        others = ~chosen & np.isin(entity, entity[chosen])
        if not others.any():
            return
        frame = pd.DataFrame({"entity": entity[others], "cluster": cluster[others], "w": weight[others]})
        frame = frame.sort_values(["entity", "w", "cluster"], ascending=[True, False, True],
                                  kind="stable").drop_duplicates("entity")
        chosen_weight = best.loc[frame["entity"]].to_numpy(dtype=float)
        runner = frame["w"].to_numpy(dtype=float)
        share = 1.0 / (1.0 + np.exp2(np.clip(chosen_weight - runner, -60.0, 60.0)))
        self.runners_up.append((frame["entity"].to_numpy(dtype=np.int64),
                                self.founder_of[frame["cluster"].to_numpy(dtype=np.int64)], share))

    def _known_matches(self, this_step: np.ndarray) -> np.ndarray:
        """This step's exact links, plus earlier steps' for fields these say little about.

        Each row is masked (MISSING) on the fields its pass selected on, which would be biased.
        """
        thin = (this_step != MISSING).sum(axis=0) < MIN_KNOWN_MATCHES
        borrowed = [rows.copy() for rows in self.known_pool]
        for rows in borrowed:
            rows[:, ~thin] = MISSING
        self.known_pool.append(this_step)
        known = np.concatenate([this_step, *borrowed]) if borrowed else this_step
        return known[(known != MISSING).any(axis=1)]

    def score(self, compare: Compare, left: PreparedRecords, left_rows: np.ndarray,
              right: PreparedRecords, right_rows: np.ndarray, known: np.ndarray, step: int,
              report: dict[str, object], older_only: bool = False,
              rules: tuple[str, ...] | None = None) -> Scored:
        """Blocked candidate pairs (``linkage_left`` / ``_right`` registered) with their match
        weight and posterior under a model fitted by semi-supervised EM."""
        settings = self.settings
        entity, cluster, blocking = cand.blocked_pairs(
            self.engine, settings.blocking_rules if rules is None else rules,
            settings.max_block_pairs, settings.date_tolerance_days, older_only)
        levels = compare(entity, cluster)
        total_pairs = float(len(left_rows)) * float(len(right_rows))
        u = random_pair_u(compare, left, left_rows, right, right_rows,
                          size=settings.u_sample_pairs,
                          rng=np.random.default_rng([settings.seed, step]),
                          prior_strength=settings.em_prior_strength)
        start = starting_model(known_match_m(known, settings.em_prior_strength), u,
                               len(left_rows), total_pairs)
        outcome = estimate_em(
            levels, LEVEL_COUNTS, start, max_iterations=settings.em_max_iterations,
            tolerance=settings.em_tolerance, prior_strength=settings.em_prior_strength,
            fixed_u=True, known_matches=known, total_pairs=total_pairs)
        report.update({
            "blocking": blocking,
            "candidate_pairs": len(entity),
            "total_pairs": total_pairs,
            "known_matches": len(known),
            "em": {
                **outcome.model.describe(list(FIELDS.values())),
                "iterations": outcome.iterations, "converged": outcome.converged,
                "log_likelihood": round(outcome.log_likelihood, 4),
                "patterns": outcome.patterns, "notes": outcome.notes,
            },
        })
        patterns, _, inverse = distinct_patterns(levels, LEVEL_COUNTS)
        self.last_prior = outcome.model.prior
        self.last_levels = levels
        weight = outcome.model.match_weight(patterns)[inverse]
        return entity, cluster, weight, 1.0 / (1.0 + np.exp2(-weight))

    def sources_per_cluster(self) -> np.ndarray:
        """A bit mask per cluster: bit r set when it holds a record of the source ranked r."""
        masks = np.zeros(self.cluster_count, dtype=np.int64)
        clustered = self.cluster_of >= 0
        ranks = self.records.role_rank
        for rank in np.flatnonzero(np.bincount(ranks[clustered].astype(np.int64))):
            holders = self.cluster_of[clustered & (ranks == rank)]
            held = np.bincount(holders, minlength=self.cluster_count) > 0
            masks[held] |= np.int64(1) << np.int64(rank)
        return masks

    def _numbers(self) -> np.ndarray:
        """Per cluster, its number in the output (alive clusters by founding record; -1 gone)."""
        alive = np.flatnonzero(self.founder_of >= 0)
        number = np.full(self.cluster_count, -1, dtype=np.int64)
        number[alive[np.argsort(self.founder_of[alive], kind="stable")]] = np.arange(len(alive))
        return number

    def _id_width(self) -> int:
        return max(6, len(str(int((self.founder_of >= 0).sum()))))

    def cluster_ids(self, clusters: np.ndarray) -> pa.Array:
        """The ``cluster_id`` the links table gives the (alive) clusters ``clusters``."""
        numbers = pa.array(self._numbers()[clusters] + 1).cast(pa.string())
        return pc.binary_join_element_wise("B", pc.utf8_lpad(numbers, self._id_width(), "0"), "")

    def doubtful_moves(self, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Records an exact pass put in one cluster that may belong to another (twins):
        (record, its cluster, the other cluster, probability), where the other cluster holds
        no record of the record's source (else the alternative is a swap that changes no
        capture history) and the probability is at least ``floor``."""
        empty = np.zeros(0, np.int64)
        if not self.runners_up:
            return empty, empty, empty, np.zeros(0)
        rec, founder, share = (np.concatenate(parts) for parts in zip(*self.runners_up, strict=True))
        here, there = self.cluster_of[rec], self.cluster_of[founder]
        keep = (share >= floor) & (here >= 0) & (there >= 0) & (here != there)
        rec, here, there, share = rec[keep], here[keep], there[keep], share[keep]
        ranks = self.records.role_rank.astype(np.int64)
        span = int(ranks.max(initial=0)) + 1
        clustered = np.flatnonzero(self.cluster_of >= 0)
        held = self.cluster_of[clustered] * span + ranks[clustered]  # np.isin sorts it anyway
        free = ~np.isin(there * span + ranks[rec], held)
        return rec[free], here[free], there[free], share[free]

    def links_table(self) -> pa.Table:
        """One row per record: clusters numbered by founding record, records in order."""
        alive = np.flatnonzero(self.founder_of >= 0)
        cluster_number = self._numbers()[self.cluster_of]
        sources = self.sources_per_cluster()[alive]
        founders = self.founder_of[alive]
        several = (sources & (sources - 1)) != 0  # more than one bit set
        self.rule[founders] = np.where(several, RULE_ANCHOR, RULE_SINGLETON)
        self.probability[founders] = np.nan
        order = np.lexsort((np.arange(len(self.records)), cluster_number))
        width = self._id_width()
        numbers = pa.array(cluster_number[order] + 1).cast(pa.string())
        table = self.records.table
        assert table is not None
        probability = self.probability[order]
        return pa.table({
            "cluster_id": pc.binary_join_element_wise("B", pc.utf8_lpad(numbers, width, "0"), ""),
            "role": table.column("role").take(order),
            "record_id": table.column("record_id").take(order),
            "rule": pa.array(self.rule[order].tolist(), pa.string()),
            "match_probability": pa.array(probability, mask=np.isnan(probability)),
            "is_duplicate": pa.array(self.entity[order] != order),
            "source_file": table.column("source_file").take(order),
            "source_sheet": table.column("source_sheet").take(order),
            "source_row": table.column("source_row").take(order),
        })
