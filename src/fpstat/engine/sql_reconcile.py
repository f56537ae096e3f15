"""SQL of the reconcile stage: records joined to their clusters, one row per birth, roll-ups.

The statements read what :mod:`fpstat.reconcile.births` and :mod:`fpstat.reconcile.counts`
register on the engine:

* ``reconcile_input_0`` and ``reconcile_links``: one record-level source's normalised records
  and its rows of :class:`fpstat.reconcile.linkage.LinkageResult` ``links`` (one source at a
  time, while ``reconcile_members`` is filled);
* ``reconcile_priority``: ``field, role, rank`` (which source wins a tied vote, 0 first);
* ``reconcile_periods``: ``birth_date, period`` for every birth date that occurs;
* ``reconcile_levels``: ``level, depth, digits`` of the area hierarchy;
* ``reconcile_count_input``: count-table rows already mapped to the run's period kind.

and create the temporary tables ``reconcile_members`` (one row per record, with its cluster)
and ``reconcile_births`` (one row per birth). Only joins, GROUP BY, CASE and window functions
are used (no DuckDB-only aggregates), so that sqlglot can transpile them for another engine.
Every result that is written out is sorted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Fields of every birth decided by a vote of its records, with their SQL type.
VOTED_FIELDS: dict[str, str] = {
    "area_code": "VARCHAR",
    "birth_date": "DATE",
    "sex": "VARCHAR",
    "birth_order": "BIGINT",
    "within_policy": "BOOLEAN",
    "migrant": "BOOLEAN",
}
#: Identifiers chosen the same way, but only for the births that need them (unregistered).
ID_FIELDS: tuple[str, ...] = ("child_id", "mother_id")
#: Stratum covariates carried by each birth (the consensus values).
COVARIATES: tuple[str, ...] = ("sex", "birth_order", "within_policy", "migrant")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _name(text: str) -> str:
    """A role or field name, checked before it is placed in SQL text."""
    if not _NAME.match(text):
        raise ValueError(f"not a plain identifier: {text!r}")
    return text


def record_union(sources: Sequence[tuple[str, str]]) -> str:
    """All record-level sources in one shape; ``sources`` is ``(view, role)`` pairs.

    The schema has already normalised the values (upper-case IDs, ``M``/``F``, 12-digit
    codes); keys are written as the linkage writes them (blank file/sheet -> ''), so that
    every record finds its row of ``reconcile_links``.
    """
    selects = [
        f"""
    SELECT '{_name(role)}' AS role,
        CAST(record_id AS VARCHAR) AS record_id,
        COALESCE(CAST(source_file AS VARCHAR), '') AS source_file,
        COALESCE(CAST(source_sheet AS VARCHAR), '') AS source_sheet,
        CAST(source_row AS BIGINT) AS source_row,
        CAST(area_code AS VARCHAR) AS area_code,
        CAST(birth_date AS DATE) AS birth_date,
        CAST(sex AS VARCHAR) AS sex,
        CAST(birth_order AS BIGINT) AS birth_order,
        CAST(within_policy AS BOOLEAN) AS within_policy,
        CAST(migrant AS BOOLEAN) AS migrant
    FROM {_name(view)}"""
        for view, role in sources
    ]
    return "\nUNION ALL\n".join(selects)


#: Columns of ``reconcile_members`` with their SQL types.
MEMBER_COLUMNS: dict[str, str] = {
    "cluster_id": "VARCHAR", "is_duplicate": "BOOLEAN", "link_probability": "DOUBLE",
    "role": "VARCHAR", "record_id": "VARCHAR", "area_code": "VARCHAR", "birth_date": "DATE",
    "sex": "VARCHAR", "birth_order": "BIGINT", "within_policy": "BOOLEAN", "migrant": "BOOLEAN",
}


def create_empty_members() -> str:
    """``reconcile_members`` with no rows yet (:func:`insert_members` fills it)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in MEMBER_COLUMNS.items())
    return f"CREATE OR REPLACE TEMP TABLE reconcile_members ({columns})"


def insert_members(union_sql: str, *, anchor_rules: Sequence[str]) -> str:
    """Add to ``reconcile_members`` every record of ``union_sql`` with its cluster and
    duplicate flag from ``reconcile_links``, and ``link_probability``, the probability of the
    link that joined it to its cluster (null for the record a cluster was founded on). Only
    the columns later steps read are kept."""
    anchors = ", ".join(f"'{_name(rule)}'" for rule in anchor_rules)
    return f"""
    INSERT INTO reconcile_members
    WITH records AS ({union_sql})
    SELECT l.cluster_id,
           COALESCE(l.is_duplicate, FALSE) AS is_duplicate,
           CASE WHEN l.rule NOT IN ({anchors}) THEN l.match_probability END AS link_probability,
           r.role, r.record_id, r.area_code, r.birth_date, r.sex, r.birth_order,
           r.within_policy, r.migrant
    FROM records r
    JOIN reconcile_links l
      ON l.role = r.role
     AND COALESCE(CAST(l.source_file AS VARCHAR), '') = r.source_file
     AND COALESCE(CAST(l.source_sheet AS VARCHAR), '') = r.source_sheet
     AND l.source_row IS NOT DISTINCT FROM r.source_row
     AND CAST(l.record_id AS VARCHAR) IS NOT DISTINCT FROM r.record_id"""


def member_totals() -> str:
    """Rows of ``reconcile_members``: one per record and link when the join was one-to-one (a
    record key given twice would multiply rows, a record without a link would drop one)."""
    return "SELECT count(*) AS members FROM reconcile_members"


def _vote(long_rows: str) -> str:
    """CTEs ``long_values`` (``cluster_id, role, field, value`` rows of ``long_rows``) and
    ``ranked``: each value's place in its cluster's vote on that field (``position`` 1 wins):
    most records first, then the source ranked first in ``reconcile_priority``, then the
    smaller value."""
    return f"""long_values AS ({long_rows}),
    votes AS (
        SELECT v.cluster_id, v.field, v.value, count(*) AS votes,
               min(COALESCE(p.rank, 999)) AS best_rank
        FROM long_values v
        LEFT JOIN reconcile_priority p ON p.field = v.field AND p.role = v.role
        GROUP BY v.cluster_id, v.field, v.value
    ),
    ranked AS (
        SELECT cluster_id, field, value,
               row_number() OVER (PARTITION BY cluster_id, field
                                  ORDER BY votes DESC, best_rank, value) AS position
        FROM votes
    )"""


def create_births(roles: Sequence[str]) -> str:
    """``reconcile_births``: one row per cluster with the consensus of its records.

    Each field's value (:data:`VOTED_FIELDS`) is the one most of the cluster's records
    (duplicates left out) give;
    a tie goes to the source ranked first for that field in ``reconcile_priority``, then to
    the smaller value. Clusters whose records all agree skip the vote. An area code of a
    coarser level (a hospital's township code) does not vote against the village codes under
    it: where a cluster has village codes, only they vote. Also: ``in_<role>``,
    ``record_id_<role>``, the planning record's own sex / area / date, ``match_confidence``
    (the lowest link probability among the records that joined the cluster; null for a birth
    resting on one record), ``period`` of the consensus birth date, ``sex_disagreement``.
    """
    roles = [_name(role) for role in roles]
    fields = list(VOTED_FIELDS)
    spans = ",\n".join(f"min({field}) AS {field}_min, max({field}) AS {field}_max" for field in fields)
    flags = ",\n".join(
        f"max(CASE WHEN role = '{role}' THEN 1 ELSE 0 END) = 1 AS in_{role}, "
        f"min(CASE WHEN role = '{role}' THEN record_id END) AS record_id_{role}"
        for role in roles
    )
    planning = ",\n".join(
        f"min(CASE WHEN role = 'planning' THEN {field} END) AS planning_{field}"
        for field in ("sex", "area_code", "birth_date")
    )
    differs = [f"{field}_min <> {field}_max" for field in fields if field != "area_code"]
    differs.append("COALESCE(village_min, area_code_min) <> COALESCE(village_max, area_code_max)")
    voters = {field: f"m.{field} IS NOT NULL" for field in fields}
    voters["area_code"] += " AND (c.village_min IS NULL OR m.village_code IS NOT NULL)"
    long_rows = "\nUNION ALL\n".join(
        f"SELECT m.cluster_id, m.role, '{field}' AS field, CAST(m.{field} AS VARCHAR) AS value "
        f"FROM own m JOIN conflicted c ON c.cluster_id = m.cluster_id WHERE {voters[field]}"
        for field in fields
    )
    wide = ",\n".join(
        f"max(CASE WHEN field = '{field}' THEN value END) AS {field}" for field in fields
    )
    agreed = {field: f"s.{field}_min" for field in fields}
    agreed["area_code"] = "COALESCE(s.village_min, s.area_code_min)"
    chosen = ",\n".join(
        f"COALESCE(CAST(w.{field} AS {kind}), {agreed[field]}) AS {field}"
        for field, kind in VOTED_FIELDS.items()
    )
    role_columns = ", ".join(f"s.in_{role}, s.record_id_{role}" for role in roles)
    return f"""
    CREATE OR REPLACE TEMP TABLE reconcile_births AS
    WITH own AS (
        SELECT *, CASE WHEN substr(area_code, 10, 3) <> '000' THEN area_code END AS village_code
        FROM reconcile_members WHERE NOT is_duplicate
    ),
    spans AS (
        SELECT cluster_id,
            {spans},
            min(village_code) AS village_min, max(village_code) AS village_max,
            {flags},
            {planning},
            count(*) AS records,
            min(link_probability) AS match_confidence
        FROM own
        GROUP BY cluster_id
    ),
    duplicated AS (
        SELECT cluster_id, count(*) AS duplicates
        FROM reconcile_members WHERE is_duplicate GROUP BY cluster_id
    ),
    conflicted AS (SELECT cluster_id, village_min FROM spans WHERE {" OR ".join(differs)}),
    {_vote(long_rows)},
    winners AS (
        SELECT cluster_id, {wide}
        FROM ranked WHERE position = 1 GROUP BY cluster_id
    ),
    consensus AS (
        SELECT s.cluster_id,
            {chosen},
            {role_columns},
            s.planning_sex, s.planning_area_code, s.planning_birth_date,
            s.records, COALESCE(d.duplicates, 0) AS duplicates, s.match_confidence,
            s.in_planning AND s.records > 1 AS linked_to_planning,
            s.in_planning AND s.sex_min <> s.sex_max AS sex_disagreement
        FROM spans s
        LEFT JOIN winners w ON w.cluster_id = s.cluster_id
        LEFT JOIN duplicated d ON d.cluster_id = s.cluster_id
    )
    SELECT c.*, p.period
    FROM consensus c LEFT JOIN reconcile_periods p ON p.birth_date = c.birth_date"""


def distinct_birth_dates() -> str:
    """Every birth date among the records (to map dates to periods once per date)."""
    return """
    SELECT DISTINCT birth_date FROM reconcile_members
    WHERE birth_date IS NOT NULL ORDER BY birth_date"""


def _own_depth(column: str) -> str:
    """Depth of a 12-digit code: 4 village ... 0 province (its deepest non-zero part)."""
    return f"""CASE
        WHEN substr({column}, 10, 3) <> '000' THEN 4
        WHEN substr({column}, 7, 3) <> '000' THEN 3
        WHEN substr({column}, 5, 2) <> '00' THEN 2
        WHEN substr({column}, 3, 2) <> '00' THEN 1
        ELSE 0 END"""


def rollup(base_sql: str, keys: Sequence[str], sums: Sequence[str], *, order: Sequence[str]) -> str:
    """Sum ``sums`` of ``base_sql`` (which has ``area_code``) up every level of the hierarchy.

    A row counts at its own level and every coarser one, never at a deeper one (a
    township-level row has no village). A sum is null when any row behind it is null
    (an unknown part makes the total unknown).
    """
    key_list = ", ".join(_name(key) for key in keys)
    group = ", ".join(["area_code", "level", "depth", *keys])
    measures = ",\n".join(
        f"CASE WHEN count({_name(column)}) = count(*) THEN sum({column}) END AS {column}"
        for column in sums
    )
    ordering = ", ".join(_name(column) for column in order)
    prefix = f"{key_list}, " if keys else ""
    return f"""
    WITH base AS ({base_sql}),
    placed AS (
        SELECT base.*, {_own_depth('base.area_code')} AS own_depth FROM base
        WHERE base.area_code IS NOT NULL AND length(base.area_code) = 12
    ),
    expanded AS (
        SELECT rpad(substr(p.area_code, 1, l.digits), 12, '0') AS area_code,
               l.level, l.depth, {prefix}{", ".join(f"p.{c}" for c in sums)}
        FROM placed p
        JOIN reconcile_levels l ON l.depth <= p.own_depth
    )
    SELECT {group}, {measures}
    FROM (SELECT * FROM expanded) e
    GROUP BY {group}
    ORDER BY {ordering}"""


def own_counts_from_records() -> str:
    """Births per source as each source records them: own area and own birth-date period.

    Duplicates inside a source are left out (they are not births).
    """
    return """
    SELECT m.role, m.area_code, p.period,
           count(*) AS births,
           sum(CASE WHEN m.sex = 'M' THEN 1 ELSE 0 END) AS births_male,
           sum(CASE WHEN m.sex = 'F' THEN 1 ELSE 0 END) AS births_female
    FROM reconcile_members m
    JOIN reconcile_periods p ON p.birth_date = m.birth_date
    WHERE NOT m.is_duplicate
    GROUP BY m.role, m.area_code, p.period"""


def count_table_rows() -> str:
    """Rows of count tables (already mapped to the run's periods), in the same shape."""
    return """
    SELECT role, area_code, period,
           CAST(births AS BIGINT) AS births,
           CAST(births_male AS BIGINT) AS births_male,
           CAST(births_female AS BIGINT) AS births_female
    FROM reconcile_count_input"""


def planning_sex_checks() -> str:
    """Planning births linked to another source, and those whose sex disagrees, by the
    planning record's own area and birth-date period."""
    return """
    SELECT b.planning_area_code AS area_code, p.period,
           CAST(sum(CASE WHEN b.linked_to_planning THEN 1 ELSE 0 END) AS BIGINT) AS linked_births,
           CAST(sum(CASE WHEN b.linked_to_planning AND b.sex_disagreement THEN 1 ELSE 0 END)
                AS BIGINT) AS sex_disagreements
    FROM reconcile_births b
    JOIN reconcile_periods p ON p.birth_date = b.planning_birth_date
    WHERE b.in_planning
    GROUP BY b.planning_area_code, p.period"""


def capture_cells(roles: Sequence[str]) -> str:
    """Births per area (every level), period, covariates and capture history (bit mask).

    Bit ``j`` of ``history`` is set when ``roles[j]`` saw the birth.
    """
    mask = " + ".join(
        f"CASE WHEN in_{_name(role)} THEN {1 << position} ELSE 0 END"
        for position, role in enumerate(roles)
    )
    base = f"""
    SELECT area_code, period,
           CAST(sex AS VARCHAR) AS sex,
           CAST(birth_order AS VARCHAR) AS birth_order,
           CAST(within_policy AS VARCHAR) AS within_policy,
           CAST(migrant AS VARCHAR) AS migrant,
           CAST({mask} AS BIGINT) AS history,
           CAST(1 AS BIGINT) AS births
    FROM reconcile_births WHERE period IS NOT NULL"""
    keys = ["period", *COVARIATES, "history"]
    return rollup(base, keys, ["births"], order=["area_code", "period", *COVARIATES, "history"])


def consensus_ids(candidates: str) -> str:
    """``cluster_id, child_id, mother_id``: per cluster, the ID most of its records in the
    table ``candidates`` (``cluster_id, role, child_id, mother_id``) give, ties to the source
    trusted first (``reconcile_priority``), then the smaller ID."""
    long_rows = "\nUNION ALL\n".join(
        f"SELECT cluster_id, role, '{field}' AS field, {field} AS value "
        f"FROM {_name(candidates)} WHERE {field} IS NOT NULL"
        for field in ID_FIELDS
    )
    wide = ", ".join(f"max(CASE WHEN field = '{field}' THEN value END) AS {field}" for field in ID_FIELDS)
    return f"""
    WITH {_vote(long_rows)},
    chosen AS (SELECT cluster_id, {wide} FROM ranked WHERE position = 1 GROUP BY cluster_id)
    SELECT c.cluster_id, chosen.child_id, chosen.mother_id
    FROM (SELECT DISTINCT cluster_id FROM {_name(candidates)}) c
    LEFT JOIN chosen ON chosen.cluster_id = c.cluster_id
    ORDER BY c.cluster_id"""


def covariate_coverage() -> str:
    """Per source: records (duplicates left out) and how many carry each stratum covariate."""
    known = ", ".join(f"count({_name(column)}) AS {column}" for column in COVARIATES)
    return f"""
    SELECT role, count(*) AS records, {known}
    FROM reconcile_members WHERE NOT is_duplicate
    GROUP BY role ORDER BY role"""
