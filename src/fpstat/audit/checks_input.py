"""Input checks: rejected rows, duplicate entries, resident IDs that contradict their record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.inputs import AuditInputs
from fpstat.audit.registry import register
from fpstat.audit.wording import area_en, area_zh, pct, source_zh


def _reason_rows(rejects: pd.DataFrame | None, path: str, sheet: str) -> pd.DataFrame:
    """Rejected rows of one input with their reasons: ``row, reason_code, reason_en, reason_zh``."""
    if rejects is None or rejects.empty:
        return pd.DataFrame(columns=["row", "reason_code", "reason_en", "reason_zh"])
    files = rejects["file"].astype("string").fillna("")
    sheets = rejects["sheet"].astype("string").fillna("") if "sheet" in rejects else ""
    mine = rejects[(files == path) & (sheets == sheet)]
    return mine[["row", "reason_code", "reason_en", "reason_zh"]].astype("string")


@register(
    "rows.rejected",
    family="input",
    needs=("manifest.json",),
    defaults={"error_above": 0.01, "ignore_reasons": ["totals-row"], "top_reasons": 5},
)
def rows_rejected(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """Rows of an input (file and sheet) were rejected: warning; error above 1 % of its rows.

    Defaults: ``error_above``, 0.01 (checks.md: error above 1 % of rows). Rows rejected only
    for a reason in ``ignore_reasons`` (default ``totals-row``: the data contract sets totals rows
    aside by design so that they are not counted twice) are listed in the evidence but do not
    count. The evidence gives rows read, accepted and rejected and the most frequent reasons
    (``top_reasons``), from ``rejects.csv`` when the run has it.
    """
    rejects = inputs.csv("rejects.csv") if inputs.has("rejects.csv") else None
    ignored_codes = set(settings["ignore_reasons"])
    for entry in inputs.manifest().get("inputs", []):
        rows_read = int(entry.get("rows_read") or 0)
        rows_rejected = int(entry.get("rows_rejected") or 0)
        if rows_rejected <= 0:
            continue
        path, sheet, role = (
            str(entry.get("path") or ""),
            str(entry.get("sheet") or ""),
            str(entry.get("role") or ""),
        )
        reasons = _reason_rows(rejects, path, sheet)
        only_ignored = reasons.groupby("row")["reason_code"].agg(
            lambda codes: set(codes) <= ignored_codes
        )
        rows_ignored = int(only_ignored.sum())
        rows_counted = max(rows_rejected - rows_ignored, 0)
        if rows_counted == 0:
            continue
        share = rows_counted / rows_read if rows_read else 1.0
        severity = "error" if share > settings["error_above"] else "warning"
        top = (
            reasons.drop_duplicates(["row", "reason_code"])
            .groupby(["reason_code", "reason_en", "reason_zh"], dropna=False)
            .size()
            .rename("rows")
            .reset_index()
            .sort_values(["rows", "reason_code"], ascending=[False, True])
            .head(int(settings["top_reasons"]))
        )
        where_en = path + (f", sheet '{sheet}'" if sheet else "")
        where_zh = path + (f"，工作表“{sheet}”" if sheet else "")
        top_en = "; ".join(f"{r.reason_code} ({r.rows})" for r in top.itertuples())
        yield Finding(
            check="rows.rejected",
            severity=severity,
            area_code="",
            level="",
            period="",
            source=role,
            message_en=(
                f"{rows_counted} of {rows_read} rows of {where_en} were rejected ({pct(share, 2)} %)"
                + (f": {top_en}" if top_en else "")
            ),
            message_zh=f"{where_zh} 共 {rows_read} 行，{rows_counted} 行被拒收（{pct(share, 2)}%）"
            + (f"：{top_en}" if top_en else ""),
            evidence={
                "file": path,
                "sheet": sheet,
                "rows_read": rows_read,
                "rows_accepted": int(entry.get("rows_accepted") or rows_read - rows_rejected),
                "rows_rejected": rows_rejected,
                "rows_ignored": rows_ignored,
                "rows_counted": rows_counted,
                "share": share,
                "threshold": settings["error_above"],
                "top_reasons": [
                    {
                        "reason_code": r.reason_code,
                        "reason_en": r.reason_en,
                        "reason_zh": r.reason_zh,
                        "rows": int(r.rows),
                    }
                    for r in top.itertuples()
                ],
            },
        )


@register(
    "records.duplicate",
    family="input",
    needs=("records.parquet",),
    defaults={"min_duplicates": 1},
)
def records_duplicate(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """The same birth appears more than once in one source: warning, per source and area.

    Duplicates (checks.md, data contract): same child ID; or same mother, birth date and sex
    where at most one entry has a child ID (different IDs are twins); or flagged by the linker
    (``links.is_duplicate``). Counted as entries minus distinct births of the area, at every
    level. ``min_duplicates``, default 1: one duplicate entry is already a finding.
    """
    names = inputs.area_names()
    counts = inputs.duplicate_counts()
    counts = counts.assign(duplicates=counts["records"] - counts["distinct_births"])
    for row in counts[counts["duplicates"] >= settings["min_duplicates"]].itertuples():
        code, level, role = str(row.area_code), str(row.level), str(row.role)
        rate = row.duplicates / row.records
        yield Finding(
            check="records.duplicate",
            severity="warning",
            area_code=code,
            level=level,
            period="",
            source=role,
            message_en=(
                f"{row.duplicates} duplicate entries among {row.records} {role} records of "
                f"{area_en(code, level, names)} ({pct(rate, 2)} %)"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{source_zh(role)} {row.records} 条记录中有 "
                f"{row.duplicates} 条重复（{pct(rate, 2)}%）"
            ),
            evidence={
                "records": int(row.records),
                "distinct_births": int(row.distinct_births),
                "duplicate_entries": int(row.duplicates),
                "duplicate_rate": rate,
            },
        )


@register(
    "id.inconsistent",
    family="input",
    needs=("records.parquet",),
    defaults={"min_records": 1},
)
def id_inconsistent(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """A child's resident ID embeds a birth date or sex that disagrees with the record: warning.

    GB 11643-1999: digits 7-14 of the ID are the birth date, digit 17 is odd for males. The
    decoded values (``child_id_birth_date``, ``child_id_sex``, taken before pseudonymisation)
    are compared with the record's ``birth_date`` and ``sex``; counts only, never the IDs.
    ``min_records``, default 1: one contradicting record is already a finding.
    """
    names = inputs.area_names()
    counts = inputs.id_mismatch_counts()
    for row in counts[counts["mismatched_records"] >= settings["min_records"]].itertuples():
        code, level, role = str(row.area_code), str(row.level), str(row.role)
        share = row.mismatched_records / row.records_with_id if row.records_with_id else 1.0
        yield Finding(
            check="id.inconsistent",
            severity="warning",
            area_code=code,
            level=level,
            period="",
            source=role,
            message_en=(
                f"{row.mismatched_records} of {row.records_with_id} {role} records with a child ID in "
                f"{area_en(code, level, names)} contradict it ({row.birth_date_mismatches} birth date, "
                f"{row.sex_mismatches} sex; {pct(share, 2)} %)"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{source_zh(role)}有身份证号的 {row.records_with_id} 条记录中，"
                f"{row.mismatched_records} 条与身份证号不符（出生日期 {row.birth_date_mismatches} 条，"
                f"性别 {row.sex_mismatches} 条；{pct(share, 2)}%）"
            ),
            evidence={
                "records": int(row.records),
                "records_with_id": int(row.records_with_id),
                "mismatched_records": int(row.mismatched_records),
                "birth_date_mismatches": int(row.birth_date_mismatches),
                "sex_mismatches": int(row.sex_mismatches),
                "share": share,
            },
        )
