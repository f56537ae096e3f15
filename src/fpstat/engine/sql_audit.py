"""SQL of the audit stage: record-level roll-ups to every level of the area hierarchy.

Each statement reads the registered view ``audit_records`` (one row per accepted record of a
record-level source: ``role, area_code, birth_date, sex, child_id_birth_date, child_id_sex,
component, excess``; ``component`` numbers the distinct births found by the duplicate search,
``excess`` marks every entry but the first of each) and returns one row per area at every level
of the hierarchy. A record counts towards a level only if its own code reaches that level
(a township-level record has no village), so a roll-up never invents a village.
"""

from __future__ import annotations

from fpstat.schema.areas import LEVELS

AUDIT_RECORDS = "audit_records"


def _level_bounds() -> list[tuple[str, int, int]]:
    """(level, digits of the level above, digits of the level) from the province down."""
    bounds = []
    previous = 0
    for name, digits in LEVELS:
        bounds.append((name, previous, digits))
        previous = digits
    return bounds


def _at_every_level(
    keys: list[str], aggregates: list[str], where: str = "TRUE", source: str = AUDIT_RECORDS
) -> str:
    """``SELECT keys, level, area_code, aggregates`` grouped per area at each level, unioned."""
    parts = []
    key_list = ", ".join(keys)
    for name, above, digits in _level_bounds():
        area = f"rpad(substr(area_code, 1, {digits}), 12, '0')"
        group_by = ", ".join([*keys, area])
        parts.append(
            f"SELECT {key_list}, '{name}' AS level, {area} AS area_code, "
            f"{', '.join(aggregates)} FROM {source} "
            f"WHERE ({where}) AND area_code IS NOT NULL "
            f"AND length(rtrim(area_code, '0')) > {above} GROUP BY {group_by}"
        )
    return " UNION ALL ".join(parts) + f" ORDER BY {key_list}, level, area_code"


def monthly_births() -> str:
    """Distinct births (duplicates left out) per role, month, level and area, with boys and girls."""
    with_month = f"(SELECT *, strftime(birth_date, '%Y-%m') AS month FROM {AUDIT_RECORDS}) AS dated"
    return _at_every_level(
        ["role", "month"],
        [
            "count(*) AS births",
            "count(*) FILTER (WHERE sex = 'M') AS male",
            "count(*) FILTER (WHERE sex = 'F') AS female",
        ],
        where="NOT excess AND birth_date IS NOT NULL",
        source=with_month,
    )


def duplicate_counts() -> str:
    """Entries and distinct births per role, level and area (entries - births = duplicates)."""
    return _at_every_level(
        ["role"],
        ["count(*) AS records", "count(DISTINCT component) AS distinct_births"],
    )


def id_mismatch_counts() -> str:
    """Records whose child ID's embedded birth date or sex disagrees with the record, per area."""
    return _at_every_level(
        ["role"],
        [
            "count(*) AS records",
            "count(*) FILTER (WHERE child_id_birth_date IS NOT NULL OR child_id_sex IS NOT NULL) AS records_with_id",
            "count(*) FILTER (WHERE child_id_birth_date <> birth_date) AS birth_date_mismatches",
            "count(*) FILTER (WHERE child_id_sex <> sex) AS sex_mismatches",
            "count(*) FILTER (WHERE child_id_birth_date <> birth_date OR child_id_sex <> sex) AS mismatched_records",
        ],
    )
