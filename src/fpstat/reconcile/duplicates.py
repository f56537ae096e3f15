"""Within-source duplicates: two records of one source that describe the same birth.

Registers are entered by hand, sometimes twice (a migrant family registered both where it
lives and where its hukou is). Two records of one source are taken as one birth when

1. they carry the same child ID, or
2. they carry the same mother ID, birth date and sex, **unless** they are twins or siblings:
   both have a child ID and the IDs differ, or both have a child name and the names clearly
   differ (neither equal, nor homophones, nor near-homophones: see
   :func:`fpstat.reconcile.comparisons.compare_pairs`), or
3. they carry the same mother's name, child's name, birth date, sex and village, and no IDs
   that disagree (a register kept without IDs, entered twice). Twins never share a name, and
   a sibling is born on another day, so the names and the date together identify the child.

Rule 2 is applied greedily within each group of records sharing mother ID, date and sex, in
record order: a record joins the first earlier birth it is compatible with. The earliest
record of a birth (by source file, sheet, row) is its primary; the others are flagged as
duplicates with the rule that made them one.

Rule 2 merges at once only when the child's name confirms it (present in both and not clearly
different). When the records cannot say (one lacks the name, and one the ID: twins entered
half-filled look exactly like a birth entered twice), the pair is **deferred**: both stay
births of their own while the other sources are linked, and then the other sources decide
(:meth:`fpstat.reconcile.clustering.Clustering.resolve_deferred`): if each record found its own
records elsewhere they are twins; otherwise they are one birth entered twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpstat.engine import Engine
from fpstat.engine import sql_linkage as sql
from fpstat.reconcile.comparisons import COLUMN, compare_pairs
from fpstat.reconcile.names import NameThresholds
from fpstat.reconcile.prepared import PreparedRecords

RULE_CHILD_ID = "duplicate:child_id"
RULE_MOTHER_DATE_SEX = "duplicate:mother_id+birth_date+sex"
RULE_NAMES_DATE_SEX = "duplicate:names+birth_date+sex+area"
#: Child-name levels at or below this are "clearly different" (see comparisons.FIELDS).
CLEARLY_DIFFERENT_NAME_LEVEL = 1


@dataclass
class Duplicates:
    """``entity[rec]``: the primary record of the birth; ``rule[rec]``: '' for primaries."""

    entity: np.ndarray
    rule: np.ndarray
    #: (earlier primary, later primary) pairs that only the other sources can tell apart
    deferred: list[tuple[int, int]]

    @property
    def is_duplicate(self) -> np.ndarray:
        return self.entity != np.arange(len(self.entity))


def _groups(engine: Engine, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    table = engine.arrow(sql.duplicate_groups(keys))
    return (
        table.column("grp").to_numpy().astype(np.int64),
        table.column("rec").to_numpy().astype(np.int64),
    )


def _group_starts(group: np.ndarray) -> np.ndarray:
    boundary = np.ones(len(group), dtype=bool)
    boundary[1:] = group[1:] != group[:-1]
    return np.flatnonzero(boundary)


def _find(parent: np.ndarray, node: int) -> int:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:  # path compression
        parent[node], node = root, parent[node]
    return root


def find_duplicates(
    engine: Engine,
    records: PreparedRecords,
    names: NameThresholds,
) -> Duplicates:
    """Group the records of each source into births (``linkage_records`` must be registered)."""
    n = len(records)
    parent = np.arange(n, dtype=np.int64)
    rule = np.full(n, "", dtype=object)

    group, rec = _groups(engine, ["child_id"])
    if len(rec):
        starts = _group_starts(group)
        first_of_row = np.repeat(rec[starts], np.diff(np.append(starts, len(rec))))
        parent[rec] = first_of_row
        rule[rec[rec != first_of_row]] = RULE_CHILD_ID

    deferred: list[tuple[int, int]] = []
    group, rec = _groups(engine, ["mother_id", "birth_date", "sex"])
    if len(rec):
        conflicts, confirmed = _judged_pairs(records, group, rec, names)
        starts = np.append(_group_starts(group), len(rec))
        child_id_of_root: dict[int, int] = {}
        for start, stop in zip(starts[:-1], starts[1:], strict=True):
            _merge_group(parent, rule, rec[start:stop], conflicts, confirmed, child_id_of_root,
                         records, deferred)

    group, rec = _groups(engine, ["mother_name", "child_name", "birth_date", "sex", "area"])
    if len(rec):
        _merge_same_names(parent, rule, group, rec, records)

    # Flatten the union-find forest: every record points at its birth's primary.
    while True:
        flattened = parent[parent]
        if np.array_equal(flattened, parent):
            break
        parent = flattened
    deferred = sorted({(int(parent[a]), int(parent[b])) for a, b in deferred if parent[a] != parent[b]})
    return Duplicates(entity=parent, rule=rule, deferred=deferred)


def _merge_same_names(parent: np.ndarray, rule: np.ndarray, group: np.ndarray, rec: np.ndarray,
                      records: PreparedRecords) -> None:
    """Rule 3: records of a (mother name, child name, date, sex, village) group are one birth
    unless their births' IDs disagree. Each joins the first earlier birth it agrees with."""
    starts = np.append(_group_starts(group), len(rec))
    ids = (records.child_id, records.mother_id)
    for start, stop in zip(starts[:-1], starts[1:], strict=True):
        roots: list[int] = []
        known: list[tuple[int, int]] = []  # per birth so far: its child ID and mother ID
        for record in (int(r) for r in rec[start:stop]):
            root = _find(parent, record)
            own = tuple(int(values[root]) for values in ids)
            for index, birth_root in enumerate(roots):
                birth_root = _find(parent, birth_root)
                theirs = known[index]
                if birth_root == root or any(a >= 0 and b >= 0 and a != b for a, b in zip(own, theirs, strict=True)):
                    continue
                primary, secondary = min(root, birth_root), max(root, birth_root)
                parent[secondary] = primary
                if not rule[secondary]:
                    rule[secondary] = RULE_NAMES_DATE_SEX
                roots[index] = primary
                known[index] = tuple(max(a, b) for a, b in zip(own, theirs, strict=True))
                break
            else:
                roots.append(root)
                known.append(own)


def _judged_pairs(
    records: PreparedRecords,
    group: np.ndarray,
    rec: np.ndarray,
    names: NameThresholds,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Record pairs within a group that cannot be one birth (different child IDs or names),
    and pairs whose child names confirm they are one."""
    starts = np.append(_group_starts(group), len(rec))
    left_parts, right_parts = [], []
    for start, stop in zip(starts[:-1], starts[1:], strict=True):
        members = rec[start:stop]
        i, j = np.triu_indices(len(members), k=1)
        left_parts.append(members[i])
        right_parts.append(members[j])
    left, right = np.concatenate(left_parts), np.concatenate(right_parts)
    levels = compare_pairs(records, left, records, right, date_tolerance_days=0, names=names)
    name = levels[:, COLUMN["child_name"]]
    conflict = (levels[:, COLUMN["child_id"]] == 0) | (
        (name >= 0) & (name <= CLEARLY_DIFFERENT_NAME_LEVEL)
    )
    confirm = ~conflict & (name > CLEARLY_DIFFERENT_NAME_LEVEL)

    def pairs(mask: np.ndarray) -> set[tuple[int, int]]:
        return {(int(a), int(b)) for a, b in zip(left[mask], right[mask], strict=True)}

    return pairs(conflict), pairs(confirm)


def _merge_group(
    parent: np.ndarray,
    rule: np.ndarray,
    members: np.ndarray,
    conflicts: set[tuple[int, int]],
    confirmed: set[tuple[int, int]],
    child_id_of_root: dict[int, int],
    records: PreparedRecords,
    deferred: list[tuple[int, int]],
) -> None:
    """Greedy merge of one (mother ID, date, sex) group, in record order."""

    def child_id_of(root: int) -> int:
        return child_id_of_root.get(root, int(records.child_id[root]))

    def key(a: int, b: int) -> tuple[int, int]:
        return (min(a, b), max(a, b))

    births: list[list[int]] = []  # records of this group per birth formed so far
    roots: list[int] = []
    for record in (int(r) for r in members):
        root = _find(parent, record)
        undecided: int | None = None
        for index, birth in enumerate(births):
            birth_root = _find(parent, roots[index])
            if birth_root == root:
                birth.append(record)
                break
            own_child, birth_child = child_id_of(root), child_id_of(birth_root)
            if own_child >= 0 and birth_child >= 0 and own_child != birth_child:
                continue
            if any(key(record, other) in conflicts for other in birth):
                continue
            if not any(key(record, other) in confirmed for other in birth):
                undecided = birth_root if undecided is None else undecided
                continue
            primary, secondary = min(root, birth_root), max(root, birth_root)
            parent[secondary] = primary
            if not rule[secondary]:
                rule[secondary] = RULE_MOTHER_DATE_SEX
            child_id_of_root[primary] = max(own_child, birth_child)
            birth.append(record)
            roots[index] = primary
            break
        else:
            births.append([record])
            roots.append(root)
            if undecided is not None:
                deferred.append((undecided, root))
