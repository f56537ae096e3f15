"""Record linkage across sources: which records describe the same birth.

The result is a set of clusters, one per birth, holding at most one record of each source
besides flagged within-source duplicates. It is built in four moves:

1. **Within-source duplicates** (:mod:`fpstat.reconcile.duplicates`): same child ID, or same
   mother ID + birth date + sex unless the records are twins.
2. **Incremental clustering.** Sources are taken in a fixed order (planning, police, hospital,
   census, education, then others alphabetically); the first present source's births become
   clusters, and each further source is linked to the clusters built so far, after which its
   unlinked births become new clusters.
3. **Exact passes** for each source, in order: child ID; mother ID + birth date + sex; mother
   ID + birth date with the sex disagreeing (性别错报: a sex error is not a missing birth, so
   such records must link). The last two are confirmed: no conflicting child IDs and child
   names not clearly different. Where a record matches several clusters (twins), the one whose
   other fields agree best wins.
4. **Probabilistic linkage** of the rest (Fellegi & Sunter 1969): candidate pairs from the
   union of several blocking rules (SQL), comparison vectors (:mod:`.comparisons`), m and u by
   EM (Winkler 1988; Jaro 1989) started from the source's exact links (m: they are known
   matches) and from random pairs (u: almost all non-matches), posterior match probability,
   threshold, and one-to-one assignment by descending match weight.

Results depend only on the records, not on their row order: every source is sorted by its
source file, sheet, row and content before anything order-sensitive, and every tie is broken
in that order. The same input gives the same clusters and cluster ids on every run.
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
from fpstat.reconcile.clustering import (  # noqa: F401 - the rule names are part of the API
    RULE_ANCHOR,
    RULE_CHILD_ID,
    RULE_MOTHER_DATE,
    RULE_MOTHER_DATE_SEX,
    RULE_PROBABILISTIC,
    RULE_SINGLETON,
    Clustering,
)
from fpstat.reconcile.duplicates import (  # noqa: F401
    RULE_CHILD_ID as RULE_DUPLICATE_CHILD_ID,
)
from fpstat.reconcile.duplicates import (
    find_duplicates,
)
from fpstat.reconcile.merging import resolve_deferred, second_look
from fpstat.reconcile.names import NameThresholds
from fpstat.reconcile.prepared import prepare_records

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
    #: link (which hides a missing birth) nine times a missed one (which reports a birth as
    #: missing that a reviewer then finds): hiding an unregistered birth is the worse outcome
    #: for an inspection, and pairs between 0.5 and 0.9 are few.
    match_threshold: float = 0.9
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
    #: Random pairs per source used to start u (non-match level frequencies).
    u_sample_pairs: int = 50_000
    seed: int = 20240611
    #: Threads for rapidfuzz name comparisons.
    workers: int = 1
    #: After all sources: merge clusters the register lacks into register clusters that they
    #: match as a whole (no source in common), see Clustering.second_look.
    second_look: bool = True

    def validate(self) -> None:
        """Raise UsageError when a knob is out of range."""
        problems = []
        if not 0.0 < self.match_threshold < 1.0:
            problems.append("match_threshold must lie strictly between 0 and 1")
        if not 0 <= self.date_tolerance_days <= 31:
            problems.append("date_tolerance_days must be between 0 and 31")
        if self.max_block_pairs < 1 or self.u_sample_pairs < 1 or self.em_max_iterations < 1:
            problems.append("max_block_pairs, u_sample_pairs and em_max_iterations must be positive")
        unknown = [name for name in self.blocking_rules if name not in sql.BLOCKING_RULES]
        if unknown:
            problems.append(f"unknown blocking rules: {', '.join(unknown)}")
        if problems:
            raise UsageError(
                "Invalid linkage settings: " + "; ".join(problems),
                "记录匹配参数无效：" + "；".join(problems),
            )

    def describe(self) -> dict[str, object]:
        described = asdict(self)
        described["blocking_rules"] = list(self.blocking_rules)
        return described


@dataclass
class LinkageResult:
    """One row per input record (``links``) and what the linkage estimated (``parameters``)."""

    links: pd.DataFrame
    parameters: dict[str, object]


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
        notify("second look", total, total)
        links = clustering.links_table()
        parameters = _summary(engine, links, settings, steps)
        return LinkageResult(links.to_pandas(types_mapper=pd.ArrowDtype), parameters)
    finally:
        for view in ("linkage_left", "linkage_right", "linkage_links"):
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
             steps: list[dict[str, object]]) -> dict[str, object]:
    """Counts per rule and per combination of sources (SQL), plus each step's estimates."""
    engine.register("linkage_links", links)
    by_role: dict[str, dict[str, int]] = {}
    for row in engine.arrow(sql.count_links()).to_pylist():
        by_role.setdefault(row["role"], {})[row["rule"]] = int(row["records"])
    roles = sorted(by_role)
    bits = [1 << i for i in range(len(roles))]
    engine.register("linkage_roles", pa.table({"role": roles, "bit": pa.array(bits, pa.int64())}))
    by_sources = {
        ";".join(role for i, role in enumerate(roles) if int(row["mask"]) >> i & 1): int(row["births"])
        for row in engine.arrow(sql.count_clusters_by_sources()).to_pylist()
    }
    engine.unregister("linkage_roles")
    return {
        "method": METHOD,
        "settings": settings.describe(),
        "records": links.num_rows,
        "clusters": sum(by_sources.values()),
        "records_by_rule": by_role,
        "births_by_sources": by_sources,
        "steps": steps,
    }
