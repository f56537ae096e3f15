"""SQL of the indicators stage: record counts per source, area and period.

DuckDB dialect, kept to what sqlglot can transpile (window functions, ``FILTER``, ``CASE``).
The statements read two registered relations:

* ``records``: the normalised, pseudonymised records (``records.parquet``) with at least
  ``role, record_id, sex, birth_date, area_code, birth_order, within_policy, registered_on,
  source_file, source_sheet, source_row``;
* ``links``: ``role, record_id, cluster_id, is_duplicate`` (``links.parquet``; may be empty).
"""

from __future__ import annotations

#: SQL expression of the canonical period (``fpstat.schema.periods``) of a ``month`` column
#: (``YYYY-MM``) for each period kind: every kind is a union of months.
_YEAR = "CAST(substr(month, 1, 4) AS INTEGER)"
_MONTH = "CAST(substr(month, 6, 2) AS INTEGER)"
PERIOD_FROM_MONTH: dict[str, str] = {
    "year": "substr(month, 1, 4)",
    "sy": f"CAST({_YEAR} + CASE WHEN {_MONTH} >= 10 THEN 1 ELSE 0 END AS VARCHAR) || 'SY'",
    "quarter": f"substr(month, 1, 4) || '-Q' || CAST(({_MONTH} + 2) // 3 AS VARCHAR)",
    "month": "month",
}

#: Counts that :func:`record_counts_sql` makes per role, area and month.
RECORD_COUNT_FIELDS: tuple[str, ...] = (
    "entries",
    "duplicate_entries",
    "births",
    "births_male",
    "births_female",
    "births_within_policy",
    "births_policy_known",
    "births_order_1",
    "births_order_2",
    "births_order_3plus",
    "births_order_known",
    "registered_timely",
    "registered_dated",
)

#: Days after birth within which a registration counts as timely (及时登记).
TIMELY_DAYS = 30


def record_counts_sql() -> str:
    """Counts per ``role, area_code, month`` (``YYYY-MM`` of the birth date) of the records,
    duplicates set apart; :func:`period_counts_sql` adds months up to any period kind.

    A record is a duplicate when ``links`` says so. Records and links are paired on
    ``(role, record_id)``; should a source repeat a record number, the first of its records
    in file/sheet/row order are the non-duplicates (as many as ``links`` has non-duplicate rows
    for that number), so a repeated number never multiplies rows. Only repeated numbers are
    numbered: a window over every record would cost more than the whole count. Every count
    except ``entries`` and ``duplicate_entries`` is over the de-duplicated births.
    """
    return f"""
WITH link_summary AS (
    SELECT role, record_id, count(*) AS link_rows,
           count(*) FILTER (WHERE coalesce(is_duplicate, FALSE)) AS duplicates
    FROM links
    GROUP BY role, record_id
),
joined AS (
    SELECT r.role, r.record_id, r.sex, r.birth_date, r.area_code, r.birth_order, r.within_policy,
           r.registered_on, r.source_file, r.source_sheet, r.source_row,
           coalesce(s.link_rows, 0) AS link_rows, coalesce(s.duplicates, 0) AS duplicates
    FROM records AS r
    LEFT JOIN link_summary AS s ON r.role = s.role AND r.record_id = s.record_id
    WHERE r.birth_date IS NOT NULL AND r.area_code IS NOT NULL
),
marked AS (
    SELECT role, area_code, sex, birth_order, within_policy, registered_on, birth_date,
           duplicates > 0 AS is_duplicate
    FROM joined
    WHERE link_rows <= 1
    UNION ALL
    SELECT role, area_code, sex, birth_order, within_policy, registered_on, birth_date,
           row_number() OVER (
               PARTITION BY role, record_id ORDER BY source_file, source_sheet, source_row
           ) > link_rows - duplicates AS is_duplicate
    FROM joined
    WHERE link_rows > 1
)
SELECT
    role, area_code, strftime(birth_date, '%Y-%m') AS month,
    count(*) AS entries,
    count(*) FILTER (WHERE is_duplicate) AS duplicate_entries,
    count(*) FILTER (WHERE NOT is_duplicate) AS births,
    count(*) FILTER (WHERE NOT is_duplicate AND sex = 'M') AS births_male,
    count(*) FILTER (WHERE NOT is_duplicate AND sex = 'F') AS births_female,
    count(*) FILTER (WHERE NOT is_duplicate AND within_policy) AS births_within_policy,
    count(*) FILTER (WHERE NOT is_duplicate AND within_policy IS NOT NULL) AS births_policy_known,
    count(*) FILTER (WHERE NOT is_duplicate AND birth_order = 1) AS births_order_1,
    count(*) FILTER (WHERE NOT is_duplicate AND birth_order = 2) AS births_order_2,
    count(*) FILTER (WHERE NOT is_duplicate AND birth_order >= 3) AS births_order_3plus,
    count(*) FILTER (WHERE NOT is_duplicate AND birth_order >= 1) AS births_order_known,
    count(*) FILTER (
        WHERE NOT is_duplicate AND registered_on IS NOT NULL
          AND date_diff('day', birth_date, registered_on) BETWEEN 0 AND {TIMELY_DAYS}
    ) AS registered_timely,
    count(*) FILTER (WHERE NOT is_duplicate AND registered_on IS NOT NULL) AS registered_dated
FROM marked
GROUP BY role, area_code, month
ORDER BY role, area_code, month
"""


def period_counts_sql(period_kind: str) -> str:
    """The monthly counts of the relation ``record_months`` summed into periods of a kind."""
    sums = ", ".join(f"sum({name}) AS {name}" for name in RECORD_COUNT_FIELDS)
    period = PERIOD_FROM_MONTH[period_kind]
    return f"""
SELECT role, area_code, {period} AS period, {sums}
FROM record_months
GROUP BY role, area_code, {period}
ORDER BY role, area_code, period
"""


#: How often each name is written next to each area code in the records (for area names).
AREA_NAME_COUNTS_SQL = """
SELECT area_code, trim(area_name) AS area_name, count(*) AS n
FROM records
WHERE area_code IS NOT NULL AND area_name IS NOT NULL AND trim(area_name) <> ''
GROUP BY area_code, trim(area_name)
ORDER BY area_code, area_name
"""


#: Depth of a 12-digit code: 0 province ... 4 village (the deepest part that is not zeros).
_DEPTH = (
    "CASE WHEN substr(area_code, 10, 3) <> '000' THEN 4 "
    "WHEN substr(area_code, 7, 3) <> '000' THEN 3 "
    "WHEN substr(area_code, 5, 2) <> '00' THEN 2 "
    "WHEN substr(area_code, 3, 2) <> '00' THEN 1 ELSE 0 END"
)
_LEVEL_DIGITS = (
    ("province", 2),
    ("prefecture", 4),
    ("county", 6),
    ("township", 9),
    ("village", 12),
)


def rollup_counts_sql(fields: tuple[str, ...] | list[str]) -> str:
    """Sums of ``fields`` of the relation ``counts`` (``source, period, area_code`` + fields) at
    every level of the hierarchy and for the whole drop (level ``all``, empty area code).

    A row counts at its own level and above only: a township-level row is never put in a
    village. The counts are complete (no NULLs), so SQL's ``sum`` is the total.
    """
    sums = ", ".join(f"sum({name}) AS {name}" for name in fields)
    parts = [
        f"SELECT source, period, 'all' AS level, '' AS area_code, {sums} FROM placed GROUP BY source, period"
    ]
    for depth, (level, digits) in enumerate(_LEVEL_DIGITS):
        code = f"rpad(substr(area_code, 1, {digits}), 12, '0')"
        parts.append(
            f"SELECT source, period, '{level}' AS level, {code} AS area_code, {sums} "
            f"FROM placed WHERE depth >= {depth} GROUP BY source, period, {code}"
        )
    union = "\nUNION ALL\n".join(parts)
    return f"""
WITH placed AS (
    SELECT *, {_DEPTH} AS depth FROM counts WHERE regexp_full_match(area_code, '[0-9]{{12}}')
)
{union}
ORDER BY source, period, level, area_code
"""
