"""Record linkage across sources: which records describe the same birth.

The result is a set of clusters, one per birth, holding at most one record of each source
besides flagged within-source duplicates. It is built in these moves:

1. **Within-source duplicates** (:mod:`.duplicates`): same child ID, or same mother ID + birth
   date + sex unless the records are twins (child IDs or names clearly differ). Pairs the
   records cannot settle (one lacks the name, one the ID) are deferred to step 5.
2. **Incremental clustering** (:mod:`.clustering`). Sources are taken in a fixed order
   (planning, police, hospital, census, education, then others alphabetically); the first
   present source's births become clusters, and each further source is linked to the
   clusters so far, after which its unlinked births become new clusters. A cluster is compared
   through its profile, each field's best-known value (:mod:`.prepared`).
3. **Exact passes** for each source, in order: child ID; mother ID + birth date + sex; mother
   ID + birth date with the sex disagreeing (性别错报: a sex error is not a missing birth, so
   such records must link). The last two are confirmed: no conflicting child IDs and child
   names not clearly different. Where a birth matches several clusters (twins), the one whose
   other fields agree best wins.
4. **Probabilistic linkage** of the rest (Fellegi & Sunter 1969, :mod:`.fellegi_sunter`):
   candidate pairs from the union of several blocking rules (SQL, :mod:`fpstat.engine.
   sql_linkage`), comparison vectors (:mod:`.comparisons`), u from random pairs and value
   frequencies (Jaro 1989; Winkler 1988), m from the source's exact links as known matches
   refined by semi-supervised EM (Winkler 1988; Larsen & Rubin 2001) over the whole comparison
   space (:mod:`.parameters`), posterior match probability, threshold, and one-to-one
   assignment by descending match weight (:mod:`.candidates`).
5. **Merging** (:mod:`.merging`): deferred duplicate pairs are settled by what the other
   sources linked to; then a second look merges clusters the register lacks into older
   clusters they match as a whole, with the match proportion estimated per class of pairs
   (register or not, times the fields both can be compared on) and an even-odds threshold
   between two clusters the register both lacks.
6. **Doubtful decisions** for the intervals of the estimates
   (:mod:`fpstat.reconcile.linkage_uncertainty`): refused near misses of the second look
   (``near_misses``) and records an exact pass gave to one of two twins (``moves``).

Results depend only on the records, not on their row order: every source is sorted by its
source file, sheet, row and record number (then a hash of its content) before anything
order-sensitive, and every tie is broken in that order. The same input gives the same
clusters and cluster ids on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from fpstat.engine import Engine
from fpstat.engine import sql_linkage as sql
from fpstat.errors import UsageError
from fpstat.reconcile.clustering import (
    RULE_ANCHOR,
    RULE_CHILD_ID,
    RULE_MOTHER_DATE,
    RULE_MOTHER_DATE_SEX,
    RULE_PROBABILISTIC,
    RULE_SINGLETON,
    Clustering,
)
from fpstat.reconcile.duplicates import RULE_CHILD_ID as RULE_DUPLICATE_CHILD_ID
from fpstat.reconcile.duplicates import RULE_MOTHER_DATE_SEX as RULE_DUPLICATE_MOTHER_DATE_SEX
from fpstat.reconcile.duplicates import RULE_NAMES_DATE_SEX as RULE_DUPLICATE_NAMES_DATE_SEX
from fpstat.reconcile.duplicates import find_duplicates
from fpstat.reconcile.merging import (
    RULE_DUPLICATE_PROBABILISTIC,
    near_misses,
    resolve_deferred,
    second_look,
)
from fpstat.reconcile.names import NameThresholds
from fpstat.reconcile.prepared import prepare_records

__all__ = [
    "RULES", "RULE_ANCHOR", "RULE_CHILD_ID", "RULE_DUPLICATE_CHILD_ID",
    "RULE_DUPLICATE_MOTHER_DATE_SEX", "RULE_DUPLICATE_NAMES_DATE_SEX", "RULE_DUPLICATE_PROBABILISTIC", "RULE_MOTHER_DATE",
    "RULE_MOTHER_DATE_SEX", "RULE_PROBABILISTIC", "RULE_SINGLETON", "ROLE_ORDER",
    "LinkageResult", "LinkageSettings", "link_records", "ordered_roles",
]

#: Every rule a link can carry (the ``rule`` column of the links).
RULES: tuple[str, ...] = (
    RULE_CHILD_ID, RULE_MOTHER_DATE_SEX, RULE_MOTHER_DATE, RULE_PROBABILISTIC, RULE_ANCHOR,
    RULE_SINGLETON, RULE_DUPLICATE_CHILD_ID, RULE_DUPLICATE_MOTHER_DATE_SEX, RULE_DUPLICATE_NAMES_DATE_SEX,
    RULE_DUPLICATE_PROBABILISTIC,
)
#: Linking order of the known sources; others follow alphabetically.
ROLE_ORDER: tuple[str, ...] = ("planning", "police", "hospital", "census", "education")
_REQUIRED_COLUMNS = ("record_id", "sex", "birth_date", "area_code")
ProgressCallback = Callable[[str, int, int], None]
METHOD = ("within-source duplicates; exact passes (child ID, mother ID + birth date + sex, "
          "mother ID + birth date); Fellegi-Sunter with semi-supervised EM; second look")


@dataclass
class LinkageSettings:
    """Every knob of the linkage, with its default and why."""

    #: Posterior match probability a probabilistic pair needs to be linked. 0.9 weighs a false
    #: link (which hides a missing birth) nine times a missed one (which lists a birth as
    #: missing that a reviewer then finds registered): hiding an unregistered birth is the
    #: worse outcome for an inspection. Few pairs fall between 0.5 and 0.99, so the choice
    #: matters little (on a medium sample drop, 0.5 / 0.9 / 0.99 list 5,257 / 5,263 / 5,290
    #: births as missing, of 5,207).
    match_threshold: float = 0.9
    #: Posterior the second look needs to merge two clusters that both lack the register. Both
    #: errors then cost one birth (a wrong merge lists one missing birth too few, a missed one
    #: lists it twice and counts it twice in the estimates), so the Bayes decision under equal
    #: losses: 0.5.
    orphan_merge_threshold: float = 0.5
    #: Birth dates this many days apart still count as "within tolerance" and are blocked on.
    date_tolerance_days: int = 2
    #: Name similarity cut-offs between comparison levels.
    name_thresholds: NameThresholds = field(default_factory=NameThresholds)
    #: Blocking rules (names in fpstat.engine.sql_linkage.BLOCKING_RULES), unioned.
    blocking_rules: tuple[str, ...] = sql.DEFAULT_BLOCKING
    #: A block (one key value) with more left x right pairs than this is skipped and reported.
    max_block_pairs: int = 2500
    em_max_iterations: int = 500
    em_tolerance: float = 1e-7
    #: Weight, in pairs, of the Dirichlet pseudo-counts that keep EM estimates off 0 and 1.
    em_prior_strength: float = 10.0
    #: Random pairs per linking step on which u (non-match level frequencies) is measured.
    u_sample_pairs: int = 200_000
    seed: int = 20240611
    #: Threads for rapidfuzz name comparisons.
    workers: int = 1
    #: After all sources: merge clusters the register lacks into older clusters that they
    #: match as a whole, see fpstat.reconcile.merging.second_look; with these blocking rules.
    second_look: bool = True
    second_look_blocking_rules: tuple[str, ...] = sql.SECOND_LOOK_BLOCKING
    #: Doubtful decisions carried into the intervals of the estimates
    #: (:mod:`fpstat.reconcile.linkage_uncertainty`): refused pairs with at least this
    #: posterior, and links with at most 1 minus this. Below it a decision is taken as sure.
    uncertainty_floor: float = 0.01

    def validate(self) -> None:
        """Raise UsageError when a knob is out of range (every problem, in English and Chinese)."""
        problems: list[tuple[str, str]] = []
        if not 0.0 < self.match_threshold < 1.0:
            problems.append(("match_threshold must lie strictly between 0 and 1",
                             "match_threshold 必须大于 0 且小于 1"))
        if not 0.0 < self.orphan_merge_threshold < 1.0:
            problems.append(("orphan_merge_threshold must lie strictly between 0 and 1",
                             "orphan_merge_threshold 必须大于 0 且小于 1"))
        if not 0.0 < self.uncertainty_floor < min(self.match_threshold, self.orphan_merge_threshold):
            problems.append(("uncertainty_floor must lie strictly between 0 and both thresholds",
                             "uncertainty_floor 必须大于 0 且小于两个匹配阈值"))
        if not 0 <= self.date_tolerance_days <= 31:
            problems.append(("date_tolerance_days must be between 0 and 31",
                             "date_tolerance_days 必须在 0 到 31 之间"))
        if self.max_block_pairs < 1 or self.u_sample_pairs < 1 or self.em_max_iterations < 1:
            problems.append(("max_block_pairs, u_sample_pairs and em_max_iterations must be positive",
                             "max_block_pairs、u_sample_pairs 和 em_max_iterations 必须为正数"))
        if self.seed < 0:
            problems.append(("seed must not be negative", "seed 不能为负数"))
        if self.workers < 1 and self.workers != -1:
            problems.append(("workers must be at least 1 (or -1: every core)",
                             "workers 至少为 1（或 -1：使用全部核心）"))
        if not self.blocking_rules:
            problems.append(("blocking_rules must name at least one rule", "blocking_rules 至少需要一条规则"))
        unknown = [name for name in (*self.blocking_rules, *self.second_look_blocking_rules)
                   if name not in sql.BLOCKING_RULES]
        if unknown:
            problems.append((f"unknown blocking rules: {', '.join(unknown)}",
                             f"未知的分块规则：{'、'.join(unknown)}"))
        if problems:
            raise UsageError(
                "Invalid linkage settings: " + "; ".join(en for en, _ in problems),
                "记录匹配参数无效：" + "；".join(zh for _, zh in problems),
            )

    def describe(self) -> dict[str, object]:
        described = asdict(self)
        described["blocking_rules"] = list(self.blocking_rules)
        described["second_look_blocking_rules"] = list(self.second_look_blocking_rules)
        return described


def _pairs_frame(with_role: bool = False) -> pd.DataFrame:
    columns = {"cluster_id": pd.Series(dtype="string"), "other_cluster_id": pd.Series(dtype="string")}
    if with_role:
        columns["role"] = pd.Series(dtype="string")
    return pd.DataFrame({**columns, "probability": pd.Series(dtype=float)})


@dataclass
class LinkageResult:
    """One row per input record (``links``) and what the linkage estimated (``parameters``)."""

    links: pd.DataFrame
    parameters: dict[str, object]
    #: Refused pairs of clusters that may be one birth: ``cluster_id``, ``other_cluster_id``,
    #: ``probability`` (the posterior that they are), see :func:`.merging.near_misses`.
    near_misses: pd.DataFrame = field(default_factory=_pairs_frame)
    #: Records of source ``role`` in ``cluster_id`` that may belong to ``other_cluster_id``
    #: with ``probability`` (twins an exact pass could not tell apart, see
    #: :meth:`.clustering.Clustering.doubtful_moves`), or, where ``other_cluster_id`` is
    #: empty, be a birth of their own (a duplicate that may be a twin, see
    #: :func:`.merging.resolve_deferred`).
    moves: pd.DataFrame = field(default_factory=lambda: _pairs_frame(with_role=True))


def ordered_roles(roles: list[str]) -> list[str]:
    """Roles in linking order: the known ones in ROLE_ORDER, then the rest alphabetically."""
    known = [role for role in ROLE_ORDER if role in roles]
    return known + sorted(role for role in roles if role not in ROLE_ORDER)


def _check_columns(role: str, frame: pd.DataFrame) -> None:
    missing = [column for column in _REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise UsageError(
            f"Records of source '{role}' lack required columns: {', '.join(missing)}",
            f"来源“{role}”的记录缺少必需的列：{'、'.join(missing)}",
        )


def link_records(
    records: Mapping[str, pd.DataFrame],
    *,
    engine: Engine | None = None,
    settings: LinkageSettings | None = None,
    on_progress: ProgressCallback | None = None,
) -> LinkageResult:
    """Link the record tables of all sources (role -> normalised record table) into births.

    ``on_progress(stage, done, total)`` is called after each stage (preparing, duplicates,
    then one per source). Returns one row per input record, see :class:`LinkageResult`.
    """
    settings = settings or LinkageSettings()
    settings.validate()
    roles = ordered_roles(list(records))
    if not roles:
        return LinkageResult(_empty_links(), {"method": METHOD, "settings": settings.describe(),
                                             "records": 0, "clusters": 0, "steps": []})
    for role in roles:
        _check_columns(role, records[role])
    sources = {role: records[role] for role in roles}
    total = len(roles) + 3
    notify = on_progress or (lambda stage, done, total: None)
    owned = engine is None
    engine = engine or Engine()
    try:
        prepared = prepare_records(engine, sources, {role: i for i, role in enumerate(roles)})
        notify("prepare", 1, total)
        engine.register("linkage_records", prepared.table)
        duplicates = find_duplicates(engine, prepared, names=settings.name_thresholds)
        engine.unregister("linkage_records")
        notify("duplicates", 2, total)
        clustering = Clustering(engine, settings, prepared, duplicates.entity, duplicates.rule)
        steps: list[dict[str, object]] = []
        for rank, role in enumerate(roles):
            recs = np.flatnonzero(prepared.role_rank == rank)
            if clustering.cluster_count == 0:
                births = recs[duplicates.entity[recs] == recs]
                steps.append({"role": role, "new_clusters": clustering.new_clusters(recs, births)})
            else:
                steps.append(clustering.link_source(role, recs, rank))
            notify(role, rank + 3, total)
        steps.append(resolve_deferred(clustering, duplicates.deferred))
        if len(roles) > 1 and settings.second_look:
            steps.append(second_look(clustering, register_rank=0, step=len(roles)))
        misses = _pairs_frame()
        if len(roles) > 1:
            orphan, other, posterior = near_misses(clustering, register_rank=0, step=len(roles),
                                                   floor=settings.uncertainty_floor)
            misses = pd.DataFrame({
                "cluster_id": clustering.cluster_ids(orphan).to_pandas(types_mapper=pd.ArrowDtype),
                "other_cluster_id": clustering.cluster_ids(other).to_pandas(types_mapper=pd.ArrowDtype),
                "probability": posterior,
            }).sort_values(["cluster_id", "other_cluster_id"], ignore_index=True)
        rec, here, there, share = clustering.doubtful_moves(settings.uncertainty_floor)
        twin, twin_share = clustering.doubtful_merges
        keep = twin_share >= settings.uncertainty_floor
        twin, twin_share = twin[keep], twin_share[keep]
        no_cluster = pd.Series(pd.NA, index=range(len(twin)), dtype=pd.ArrowDtype(pa.string()))
        moves = pd.DataFrame({
            "cluster_id": pd.concat([clustering.cluster_ids(here).to_pandas(types_mapper=pd.ArrowDtype),
                                     clustering.cluster_ids(clustering.cluster_of[twin]).to_pandas(
                                         types_mapper=pd.ArrowDtype)], ignore_index=True),
            "other_cluster_id": pd.concat([clustering.cluster_ids(there).to_pandas(types_mapper=pd.ArrowDtype),
                                           no_cluster], ignore_index=True),
            "role": pd.Series(np.array(roles, dtype=object)[prepared.role_rank[np.concatenate([rec, twin])]],
                              dtype="string"),
            "probability": np.concatenate([share, twin_share]),
        }).sort_values(["cluster_id", "role", "other_cluster_id"], ignore_index=True)
        notify("second look", total, total)
        links = clustering.links_table()
        sources = clustering.sources_per_cluster()[clustering.founder_of >= 0]
        parameters = _summary(engine, links, settings, steps, sources, roles)
        parameters["doubtful"] = {
            "near_misses": len(misses), "near_misses_expected_same": round(float(misses["probability"].sum()), 2),
            "moves": len(moves), "moves_expected": round(float(moves["probability"].sum()), 2),
        }
        return LinkageResult(links.to_pandas(types_mapper=pd.ArrowDtype), parameters, misses, moves)
    finally:
        for view in ("linkage_left", "linkage_right"):
            try:
                engine.unregister(view)
            except Exception:  # noqa: BLE001 - a view that was never registered
                pass
        if owned:
            engine.close()


def _empty_links() -> pd.DataFrame:
    schema = pa.schema([
        ("cluster_id", pa.string()), ("role", pa.string()), ("record_id", pa.string()),
        ("rule", pa.string()), ("match_probability", pa.float64()), ("is_duplicate", pa.bool_()),
        ("source_file", pa.string()), ("source_sheet", pa.string()), ("source_row", pa.int64()),
    ])
    return schema.empty_table().to_pandas(types_mapper=pd.ArrowDtype)


def _summary(engine: Engine, links: pa.Table, settings: LinkageSettings,
             steps: list[dict[str, object]], sources: np.ndarray, roles: list[str]) -> dict[str, object]:
    """Records per source and rule (SQL), births per combination of sources (from the clusters'
    source masks), and each step's estimates."""
    engine.register("linkage_links", links)
    by_role: dict[str, dict[str, int]] = {}
    for row in engine.arrow(sql.count_links()).to_pylist():
        by_role.setdefault(row["role"], {})[row["rule"]] = int(row["records"])
    engine.unregister("linkage_links")
    masks, births = np.unique(sources, return_counts=True)
    by_sources = {
        ";".join(role for rank, role in enumerate(roles) if int(mask) >> rank & 1): int(count)
        for mask, count in zip(masks, births, strict=True)
    }
    return {
        "method": METHOD,
        "settings": settings.describe(),
        "records": links.num_rows,
        "clusters": int(len(sources)),
        "records_by_rule": by_role,
        "births_by_sources": dict(sorted(by_sources.items())),
        "steps": steps,
    }
