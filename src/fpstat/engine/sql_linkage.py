"""SQL for record linkage: the record union, within-source duplicate groups, exact passes,
blocking (candidate pairs) and counting.

The statements read tables that :mod:`fpstat.reconcile.linkage` registers on the engine:

* ``linkage_input_<n>``: one normalised record table per source (the schema's columns);
* ``linkage_records``: the prepared union (``rec`` = row number in the deterministic order);
* ``linkage_left``: the births being linked, one row each (``entity`` and key columns);
* ``linkage_right``: the clusters so far, one profile row each (``cluster`` and key columns);
* ``linkage_shifts``: one integer column ``days`` (date offsets for blocking);
* ``linkage_links``: the final links (for counting).

Only portable constructs are used (joins, group by, window functions, CASE), so that the same
statements can be transpiled for another engine. Every result that feeds an order-sensitive
step is sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Columns of the prepared union, in order.
PREPARED_COLUMNS: tuple[str, ...] = (
    "role", "role_rank", "record_id", "source_file", "source_sheet", "source_row",
    "child_id", "mother_id", "father_id", "child_name", "mother_name", "sex", "birth_date",
    "birth_day", "swapped_day", "birth_year", "area", "township", "county", "birth_order",
)

#: The order of records: where they are in the exports, then (for the odd rows an export
#: repeats) a hash of their content, so that even those never depend on input order.
_SORT_KEYS = ("role_rank", "source_file", "source_sheet", "source_row", "record_id")
_CONTENT = ("child_id", "mother_id", "father_id", "birth_date", "sex", "child_name",
            "mother_name", "area", "birth_order")


def _id_expression(column: str) -> str:
    return f"NULLIF(upper(trim(CAST({column} AS VARCHAR))), '')"


def _text_expression(column: str) -> str:
    return f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"


def source_select(view: str, role_rank: int) -> str:
    """One source's rows in the union's shape (the role is passed as a parameter)."""
    return f"""
    SELECT
        CAST(? AS VARCHAR) AS role,
        CAST({int(role_rank)} AS INTEGER) AS role_rank,
        CAST(record_id AS VARCHAR) AS record_id,
        COALESCE(CAST(source_file AS VARCHAR), '') AS source_file,
        COALESCE(CAST(source_sheet AS VARCHAR), '') AS source_sheet,
        CAST(source_row AS BIGINT) AS source_row,
        {_id_expression('child_id')} AS child_id,
        {_id_expression('mother_id')} AS mother_id,
        {_id_expression('father_id')} AS father_id,
        {_text_expression('child_name')} AS child_name,
        {_text_expression('mother_name')} AS mother_name,
        upper(trim(CAST(sex AS VARCHAR))) AS sex,
        CAST(birth_date AS DATE) AS birth_date,
        TRY_CAST(trim(CAST(area_code AS VARCHAR)) AS BIGINT) AS area,
        CAST(birth_order AS INTEGER) AS birth_order
    FROM {view}"""


def prepared_union(selects: Sequence[str]) -> str:
    """The union of all sources with integer date and area keys, in a total deterministic order.

    ``birth_day`` counts days since 1970-01-01; ``swapped_day`` is the date with day and month
    exchanged (only where that is another real date); ``township`` / ``county`` are the first
    9 / 6 digits of the area code.
    """
    union = "\nUNION ALL\n".join(selects)
    order = ", ".join(f"{key} NULLS LAST" for key in _SORT_KEYS) + f", hash({', '.join(_CONTENT)})"
    return f"""
    WITH unioned AS ({union})
    SELECT role, role_rank, record_id, source_file, source_sheet, source_row, child_id,
        mother_id, father_id, child_name, mother_name, sex, birth_date,
        CAST(date_diff('day', DATE '1970-01-01', birth_date) AS INTEGER) AS birth_day,
        CASE WHEN day(birth_date) <= 12 AND day(birth_date) <> month(birth_date)
             THEN CAST(date_diff('day', DATE '1970-01-01',
                  make_date(year(birth_date), day(birth_date), month(birth_date))) AS INTEGER)
        END AS swapped_day,
        CAST(year(birth_date) AS INTEGER) AS birth_year,
        area, area // 1000 AS township, area // 1000000 AS county, birth_order
    FROM unioned ORDER BY {order}"""


def duplicate_groups(keys: Sequence[str]) -> str:
    """Records sharing ``keys`` (all present) with another record of the same source.

    Returns ``grp`` (group number in key order) and ``rec``, sorted by group then record. The
    groups are found by hashing (GROUP BY), so that only the few shared keys get sorted.
    """
    key_list = ", ".join(keys)
    present = " AND ".join(f"{key} IS NOT NULL" for key in keys)
    join = " AND ".join(f"r.{key} = s.{key}" for key in ("role_rank", *keys))
    order = ", ".join(f"s.{key}" for key in ("role_rank", *keys))
    return f"""
    WITH shared AS (
        SELECT role_rank, {key_list} FROM linkage_records WHERE {present}
        GROUP BY role_rank, {key_list} HAVING count(*) > 1
    )
    SELECT dense_rank() OVER (ORDER BY {order}) AS grp, r.rec
    FROM linkage_records r JOIN shared s ON {join}
    ORDER BY grp, r.rec"""


def exact_pairs(keys: Sequence[str], differing: Sequence[str] = ()) -> str:
    """(entity, cluster) pairs equal on ``keys`` and unequal on ``differing``, sorted."""
    conditions = [f"l.{key} = r.{key}" for key in keys]
    conditions += [f"l.{column} <> r.{column}" for column in differing]
    return f"""
    SELECT DISTINCT l.entity, r.cluster
    FROM linkage_left l JOIN linkage_right r ON {" AND ".join(conditions)}
    ORDER BY l.entity, r.cluster"""


@dataclass(frozen=True)
class BlockingRule:
    """A blocking key: records whose key expressions are equal become candidate pairs.

    ``left_keys`` / ``right_keys`` are SQL expressions over ``linkage_left`` (alias ``l``,
    optionally ``s.days`` when ``shifted``) and ``linkage_right`` (alias ``r``).
    """

    name: str
    left_keys: tuple[str, ...]
    right_keys: tuple[str, ...]
    shifted: bool = False


def _sides(rule: BlockingRule) -> tuple[str, str]:
    left_from = "linkage_left l CROSS JOIN linkage_shifts s" if rule.shifted else "linkage_left l"
    left_columns = ", ".join(f"{expr} AS k{i}" for i, expr in enumerate(rule.left_keys))
    right_columns = ", ".join(f"{expr} AS k{i}" for i, expr in enumerate(rule.right_keys))
    left_present = " AND ".join(f"({expr}) IS NOT NULL" for expr in rule.left_keys)
    right_present = " AND ".join(f"({expr}) IS NOT NULL" for expr in rule.right_keys)
    left = f"SELECT l.entity, {left_columns} FROM {left_from} WHERE {left_present}"
    right = f"SELECT r.cluster, {right_columns} FROM linkage_right r WHERE {right_present}"
    return left, right


def blocking(rule: BlockingRule, max_block_pairs: int) -> str:
    """Candidate pairs of one rule, and the rule's block statistics, in one statement.

    Rows with ``kind = 'pair'`` give ``entity`` and ``cluster``: the pairs sharing the rule's
    key, within blocks of at most ``max_block_pairs`` pairs (a block larger than that, a
    common name in a big town, is skipped rather than letting the pair count explode). The
    one row with ``kind = 'blocks'`` gives ``blocks``, ``pairs``, ``capped_blocks`` and
    ``capped_pairs`` (the skipped ones). Unsorted: the caller unions the rules' pairs and sorts
    them (one statement per rule keeps one rule's keyed sides in memory, not all rules').

    No DISTINCT is needed: ``linkage_left`` and ``linkage_right`` hold one row per entity and
    per cluster, and a shifted key differs from shift to shift, so every pair comes once.
    """
    cap = int(max_block_pairs)
    left, right = _sides(rule)
    keys = ", ".join(f"k{i}" for i in range(len(rule.left_keys)))
    return f"""
    WITH lk AS ({left}), rk AS ({right}),
    b AS (
        SELECT {keys}, ln.n * rn.n AS pairs
        FROM (SELECT {keys}, count(*) AS n FROM lk GROUP BY {keys}) ln
        JOIN (SELECT {keys}, count(*) AS n FROM rk GROUP BY {keys}) rn USING ({keys})
    )
    SELECT 'pair' AS kind, lk.entity, rk.cluster,
           NULL::BIGINT AS blocks, NULL::BIGINT AS pairs, NULL::BIGINT AS capped_blocks,
           NULL::BIGINT AS capped_pairs
    FROM lk JOIN (SELECT {keys} FROM b WHERE pairs <= {cap}) kept USING ({keys})
    JOIN rk USING ({keys})
    UNION ALL
    SELECT 'blocks' AS kind, NULL::BIGINT AS entity, NULL::BIGINT AS cluster,
           count(*) AS blocks, COALESCE(sum(pairs), 0) AS pairs,
           COALESCE(sum(CASE WHEN pairs > {cap} THEN 1 ELSE 0 END), 0) AS capped_blocks,
           COALESCE(sum(CASE WHEN pairs > {cap} THEN pairs ELSE 0 END), 0) AS capped_pairs
    FROM b"""


def count_links() -> str:
    """Records per (role, rule), and duplicates, over ``linkage_links``."""
    return """
    SELECT role, rule, count(*) AS records,
           sum(CASE WHEN is_duplicate THEN 1 ELSE 0 END) AS duplicates
    FROM linkage_links GROUP BY role, rule ORDER BY role, rule"""


#: The blocking rules fpstat knows, by name (LinkageSettings.blocking_rules picks among them).
#: Keys are integer columns of the prepared records: ``township`` / ``county`` are the first
#: 9 / 6 digits of the area code, ``birth_day`` days since 1970, ``*_py`` pinyin-key codes.
#: Every rule is narrow enough to keep blocks small in a large town (a township alone, or a
#: common name alone, would not be): each pairs a place or a person with a date.
#: :data:`DEFAULT_BLOCKING` leaves out the broadest ones (see there).
BLOCKING_RULES: dict[str, BlockingRule] = {
    rule.name: rule
    for rule in (
        BlockingRule("mother_id", ("l.mother_id",), ("r.mother_id",)),
        BlockingRule(
            "township+sex+birth_date",
            ("l.township", "l.sex", "l.birth_day"), ("r.township", "r.sex", "r.birth_day"),
        ),
        BlockingRule(
            "township+sex+birth_date±tolerance",
            ("l.township", "l.sex", "l.birth_day + s.days"),
            ("r.township", "r.sex", "r.birth_day"),
            shifted=True,
        ),
        BlockingRule(
            "mother_name+birth_date±tolerance",
            ("l.mother_py", "l.birth_day + s.days"), ("r.mother_py", "r.birth_day"), shifted=True,
        ),
        BlockingRule(
            "child_name+birth_date±tolerance",
            ("l.child_py", "l.birth_day + s.days"), ("r.child_py", "r.birth_day"), shifted=True,
        ),
        BlockingRule(
            "mother_name+swapped_date", ("l.mother_py", "l.swapped_day"), ("r.mother_py", "r.birth_day")
        ),
        BlockingRule(
            "child_name+swapped_date", ("l.child_py", "l.swapped_day"), ("r.child_py", "r.birth_day")
        ),
        BlockingRule(
            "mother_name+child_name", ("l.mother_py", "l.child_py"), ("r.mother_py", "r.child_py")
        ),
        BlockingRule(
            "mother_name+county+birth_year",
            ("l.mother_py", "l.county", "l.birth_year"),
            ("r.mother_py", "r.county", "r.birth_year"),
        ),
        BlockingRule(
            "child_name+county+birth_year",
            ("l.child_py", "l.county", "l.birth_year"),
            ("r.child_py", "r.county", "r.birth_year"),
        ),
    )
}

#: The rules used unless the settings say otherwise. Left out: ``township+sex+birth_date±
#: tolerance`` and the ``...+county+birth_year`` rules, which find only records with neither
#: name nor mother ID and a shifted date, or with a date wrong by more than the tolerance (not
#: a swap), but multiply the candidate pairs by about ten in a prefecture-sized drop.
DEFAULT_BLOCKING: tuple[str, ...] = (
    "mother_id", "township+sex+birth_date", "mother_name+birth_date±tolerance",
    "child_name+birth_date±tolerance", "mother_name+swapped_date", "child_name+swapped_date",
    "mother_name+child_name",
)
#: The rules of the second look (whole clusters against whole clusters): all of them. A birth
#: the register lacks that one source saw with the mother's name and another with the child's
#: has only its place, date and sex in common, so the place-and-date rules are needed here.
SECOND_LOOK_BLOCKING: tuple[str, ...] = DEFAULT_BLOCKING
