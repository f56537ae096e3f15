"""Consistency checks: report vs register, two population denominators, related figures."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.frames import (
    table_hierarchy,
    with_levels,
)
from fpstat.audit.inputs import AuditInputs
from fpstat.audit.registry import SkipCheck, register
from fpstat.audit.wording import area_en, area_zh, figure_zh, num, pct, period_zh, source_zh
from fpstat.schema.areas import depth, level_of
from fpstat.schema.periods import months_of, period_bounds

REGISTER, REPORT = "planning", "report"


def _relative(value: float, reference: float) -> float:
    """(value - reference) / reference; +/-inf when the reference is 0 and the value is not."""
    if reference == 0:
        return 0.0 if value == 0 else math.copysign(math.inf, value)
    return (value - reference) / reference


@register(
    "report.register_mismatch",
    family="consistency",
    needs=("tables.parquet", "records.parquet"),
    defaults={"error_above": 0.02},
)
def report_register_mismatch(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """Births reported upward differ from the office's own register: warning up to 2 %, error above.

    The register side is the planning register's accepted, de-duplicated births (duplicates as
    in ``records.duplicate``) whose BIRTH DATE falls in the report period's window
    (``period_bounds``: a statistical year runs October to September), in the same area. A
    report row is compared only when the register covers its whole window (whole months of its
    birth dates, up to the as-of date) and at levels the register's area codes reach. A row the
    office reported itself is compared with all register births of the area; a figure summed
    from finer report rows with the register births of those same finer areas only. Any
    difference is a warning; above ``error_above`` (default 0.02, checks.md) of the register
    count it is an error, since an office's report should equal its own register.
    """
    tables = inputs.tables()
    report = tables[(tables["role"] == REPORT) & tables["births"].notna()]
    if report.empty:
        raise SkipCheck("no reported births", "报表中没有出生人数")
    monthly = inputs.monthly_births()
    register_rows = monthly[monthly["role"] == REGISTER]
    if register_rows.empty:
        raise SkipCheck("no planning register records", "没有计生出生登记记录")
    records = inputs.records()
    codes = records.loc[records["role"] == REGISTER, "area_code"].dropna().astype(str).unique()
    register_depth = min(depth(level_of(code)) for code in codes)
    names = inputs.area_names()
    covered = [
        p for p in sorted(report["period"].astype(str).unique()) if inputs.covers(REGISTER, p)
    ]
    if not covered:
        return
    register_by_period = pd.concat(
        [
            register_rows[register_rows["month"].isin(months_of(period))]
            .groupby(["level", "area_code"], as_index=False)["births"]
            .sum()
            .rename(columns={"births": "register"})
            .assign(period=period)
            for period in covered
        ],
        ignore_index=True,
    )
    rows = with_levels(report[report["period"].isin(covered)])
    rows = rows[rows["depth"] <= register_depth].merge(
        register_by_period, on=["period", "level", "area_code"], how="left"
    )
    rows["register"] = rows["register"].fillna(0).astype(float)
    for row in table_hierarchy(rows, ["births", "register"]).itertuples():
        if pd.isna(row.births) or depth(str(row.level)) > register_depth:
            continue
        period = str(row.period)
        start, end = period_bounds(period)
        # A reported row holds all register births of its area; a sum only those of its parts.
        register_count, reported = float(row.register), float(row.births)
        difference = reported - register_count
        if difference == 0:
            continue
        relative = _relative(reported, register_count)
        severity = "error" if abs(relative) > settings["error_above"] else "warning"
        code, level = str(row.area_code), str(row.level)
        yield Finding(
            check="report.register_mismatch",
            severity=severity,
            area_code=code,
            level=level,
            period=period,
            source=REPORT,
            message_en=(
                f"{area_en(code, level, names)} reported {num(reported)} births in {period} but its register "
                f"has {num(register_count)} born {start}..{end} ({'+' if difference > 0 else ''}{num(difference)}, "
                f"{pct(relative)} %)"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{period_zh(period)}上报出生 {num(reported)} 人，本部门登记"
                f"（出生日期 {start} 至 {end}）{num(register_count)} 人，相差 {num(difference)} 人（{pct(relative)}%）"
            ),
            evidence={
                "reported": reported,
                "register": register_count,
                "difference": difference,
                "relative_difference": relative,
                "threshold": float(settings["error_above"]),
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "reported_row": bool(row.reported),
                "parts": int(row.parts),
            },
        )


#: Pairings of a report figure with another source's figure, best first: (report, other, basis).
_POPULATION_PAIRS = (
    ("population", "population", "year-end"),
    ("population_mean", "population_mean", "mean"),
    ("population", "population_mean", "year-end vs mean"),
    ("population_mean", "population", "mean vs year-end"),
)


@register(
    "population.denominator_mismatch",
    family="consistency",
    needs=("tables.parquet",),
    defaults={"warning_above": 0.02, "error_above": 0.05},
)
def population_denominator_mismatch(
    inputs: AuditInputs, settings: dict[str, Any]
) -> Iterator[Finding]:
    """Population of an area and period differs between the report and another source.

    The report's population (总人口, year-end) against the same area and period of every other
    table carrying a population (the ``population`` role: statistics bureau or census), like
    with like where both have it (year-end with year-end, mean with mean), else across bases
    with the basis named in the evidence. Relative to the other source: warning above
    ``warning_above`` (default 0.02), error above ``error_above`` (default 0.05) (checks.md;
    WHO Data Quality Review 2017, Module 2, dimension 4 "external comparison of population
    data" compares denominators from two sources the same way, with a looser 10 % default for
    projections; here both count the same registered population, so fpstat is stricter).
    """
    tables = inputs.tables()
    columns = ["population", "population_mean"]
    with_population = tables[tables[columns].notna().any(axis=1)]
    levels = table_hierarchy(with_population, columns)
    report = levels[levels["role"] == REPORT]
    others = levels[levels["role"] != REPORT]
    if report.empty or others.empty:
        raise SkipCheck(
            "population is not given by the report and another source",
            "报表和其他来源未同时提供人口数",
        )
    joined = report.merge(others, on=["period", "level", "area_code"], suffixes=("", "_other"))
    names = inputs.area_names()
    for row in joined.sort_values(["role_other", "level", "area_code", "period"]).to_dict(
        "records"
    ):
        pair = next(
            (
                (mine, theirs, basis)
                for mine, theirs, basis in _POPULATION_PAIRS
                if pd.notna(row[mine])
                and pd.notna(row[f"{theirs}_other"])
                and row[f"{theirs}_other"] > 0
            ),
            None,
        )
        if pair is None:
            continue
        mine, theirs, basis = pair
        reported, other = float(row[mine]), float(row[f"{theirs}_other"])
        relative = _relative(reported, other)
        if abs(relative) <= settings["warning_above"]:
            continue
        severity = "error" if abs(relative) > settings["error_above"] else "warning"
        code, level, period, role = (
            str(row["area_code"]),
            str(row["level"]),
            str(row["period"]),
            str(row["role_other"]),
        )
        yield Finding(
            check="population.denominator_mismatch",
            severity=severity,
            area_code=code,
            level=level,
            period=period,
            source=role,
            message_en=(
                f"Population of {area_en(code, level, names)} in {period}: report {num(reported)}, {role} "
                f"{num(other)} ({pct(relative)} %, {basis})"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{period_zh(period)}人口数：统计报表 {num(reported)}，"
                f"{source_zh(role)} {num(other)}（相差 {pct(relative)}%）"
            ),
            evidence={
                "report": reported,
                "other": other,
                "other_source": role,
                "relative_difference": relative,
                "basis": basis,
                "report_figure": mine,
                "other_figure": theirs,
                "warning_above": float(settings["warning_above"]),
                "error_above": float(settings["error_above"]),
            },
        )


#: (description, figures, test on a row that holds all the figures: True = consistent).
RELATIONS: tuple[tuple[str, str, tuple[str, ...], Any], ...] = (
    (
        "boys + girls = births",
        "出生男 + 出生女 = 出生人数",
        ("births_male", "births_female", "births"),
        lambda r: r["births_male"] + r["births_female"] == r["births"],
    ),
    (
        "first + second + third-or-more births = births",
        "一孩 + 二孩 + 多孩 = 出生人数",
        ("births_order_1", "births_order_2", "births_order_3plus", "births"),
        lambda r: (
            r["births_order_1"] + r["births_order_2"] + r["births_order_3plus"] == r["births"]
        ),
    ),
    (
        "births within policy <= births",
        "符合政策生育数 <= 出生人数",
        ("births_within_policy", "births"),
        lambda r: r["births_within_policy"] <= r["births"],
    ),
    (
        "contraceptive users <= married women 15-49",
        "落实节育措施人数 <= 已婚育龄妇女数",
        ("contraceptive_users", "married_women_15_49"),
        lambda r: r["contraceptive_users"] <= r["married_women_15_49"],
    ),
    (
        "married women 15-49 <= women 15-49",
        "已婚育龄妇女数 <= 育龄妇女数",
        ("married_women_15_49", "women_15_49"),
        lambda r: r["married_women_15_49"] <= r["women_15_49"],
    ),
    (
        "women 15-49 <= population",
        "育龄妇女数 <= 总人口",
        ("women_15_49", "population"),
        lambda r: r["women_15_49"] <= r["population"],
    ),
    (
        "births with a defect <= births",
        "出生缺陷数 <= 出生人数",
        ("birth_defects", "births"),
        lambda r: r["birth_defects"] <= r["births"],
    ),
    (
        "registered migrant women <= migrant women",
        "已建档流动育龄妇女数 <= 流动育龄妇女数",
        ("migrant_women_registered", "migrant_women"),
        lambda r: r["migrant_women_registered"] <= r["migrant_women"],
    ),
)


@register("relation.inconsistent", family="consistency", needs=("tables.parquet",), defaults={})
def relation_inconsistent(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """Related figures of one table row contradict each other: error.

    Accounting identities and inclusions of the report tables (checks.md; WHO Data Quality Review
    2017, Module 2, dimension 1 "internal consistency" of related data elements): boys + girls =
    births, births by order add up to births, within-policy births, contraceptive users,
    married women, defects and registered migrants never exceed their totals. A relation is
    checked only when every figure in it is present. One finding per table row, naming every
    relation it breaks; no tolerance: these are counts of the same people.
    """
    tables = with_levels(inputs.tables())
    names = inputs.area_names()
    for row in tables.to_dict("records"):
        broken = [
            (en, zh, {figure: row[figure] for figure in figures})
            for en, zh, figures, holds in RELATIONS
            if all(pd.notna(row[figure]) for figure in figures) and not holds(row)
        ]
        if not broken:
            continue
        code, level, period, role = (
            str(row["area_code"]),
            str(row["level"]),
            str(row["period"]),
            str(row["role"]),
        )
        figures_en = "; ".join(
            f"{en} fails ({', '.join(f'{k} {num(v)}' for k, v in values.items())})"
            for en, _, values in broken
        )
        figures_zh = "；".join(
            f"{zh} 不成立（{'，'.join(f'{figure_zh(k)} {num(v)}' for k, v in values.items())}）"
            for _, zh, values in broken
        )
        yield Finding(
            check="relation.inconsistent",
            severity="error",
            area_code=code,
            level=level,
            period=period,
            source=role,
            message_en=f"{area_en(code, level, names)} in {period} ({role}): {figures_en}",
            message_zh=f"{area_zh(code, level, names)}{period_zh(period)}{source_zh(role)}：{figures_zh}",
            evidence={
                "relations": [{"relation": en, "figures": values} for en, _, values in broken],
                "source_file": None if pd.isna(row["source_file"]) else str(row["source_file"]),
                "source_sheet": None if pd.isna(row["source_sheet"]) else str(row["source_sheet"]),
                "source_row": None if pd.isna(row["source_row"]) else int(row["source_row"]),
            },
        )
