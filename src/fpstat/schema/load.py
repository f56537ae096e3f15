"""Load exports: read every file and sheet, tell its role, map and normalise it, split the rows.

:func:`load_inputs` is the one entry point the pipeline and ``fpstat validate`` use. For each
input it reads the files (a path or a glob) with :mod:`fpstat.io`, decides each sheet's role and
kind (:mod:`fpstat.schema.roles`), places its headers (:mod:`fpstat.schema.headers`), builds the
normalised table (:mod:`fpstat.schema.tables`) and writes a manifest entry. Rows are never lost:
for every file and sheet, ``rows_read = rows_accepted + rows_rejected``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fpstat.errors import MappingError, UsageError
from fpstat.io import expand_paths, read_export
from fpstat.schema import fields as contract
from fpstat.schema.headers import assign_columns, header_scorer
from fpstat.schema.periods import parse_period
from fpstat.schema.roles import resolve_role
from fpstat.schema.tables import SheetLike, SheetTable, count_table, record_table

_PERIOD_IN_TEXT = re.compile(
    r"(\d{4})\s*(统计年度|计生年度|SY|年\s*第?\s*[1-4一二三四]\s*季度|年\s*\d{1,2}\s*月|[-_]?Q[1-4]|年度|年)"
)
_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_EXAMPLES = 5


@dataclass
class InputSpec:
    """One input as the user named it (``--role``/``--sheet``/``--mapping`` or a config entry)."""

    path: str
    role: str | None = None
    sheets: list[str] | None = None
    mapping: dict[str, str] | None = None
    base_dir: Path | None = None


@dataclass
class LoadResult:
    """Every input, normalised: accepted rows by role, rejected rows, and the manifest entries."""

    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    counts: dict[str, pd.DataFrame] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=contract.empty_rejects)
    inputs: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What ``fpstat validate --json`` prints: per-input entries, totals, problems by reason."""
        totals = {
            key: sum(entry[key] for entry in self.inputs)
            for key in ("rows_read", "rows_accepted", "rows_rejected")
        }
        totals["problems"] = len(self.rejects)
        by_reason = []
        for code, group in self.rejects.groupby("reason_code", sort=True, observed=True):
            rows = group.drop_duplicates(["role", "file", "sheet", "row"])
            by_reason.append({
                "reason_code": str(code),
                "reason_en": str(group["reason_en"].iloc[0]),
                "reason_zh": str(group["reason_zh"].iloc[0]),
                "rows": len(rows),
                "problems": len(group),
                "fields": sorted({str(name) for name in group["field"]}),
                "examples": [
                    {"file": str(row.file), "sheet": str(row.sheet), "row": int(row.row)}
                    for row in rows.head(_EXAMPLES).itertuples()
                ],
            })
        return {"inputs": self.inputs, "totals": totals, "reasons": by_reason}


def _texts_period(texts: list[str]) -> tuple[set[str], set[int]]:
    periods = {p for text in texts for m in _PERIOD_IN_TEXT.finditer(text) if (p := parse_period(m.group(0)))}
    years = {int(m.group(1)) for text in texts for m in _YEAR_IN_TEXT.finditer(text)}
    return periods, years


def sheet_period(sheet_name: str, title: list[str]) -> str | None:
    """The one period a sheet's name (else its title rows) names, e.g. ``2024年度报表`` -> 2024."""
    for texts in ([sheet_name], title):
        periods, _ = _texts_period(texts)
        if len(periods) == 1:
            return next(iter(periods))
        if periods:
            return None
    return None


def sheet_year(sheet_name: str, title: list[str]) -> int | None:
    """The one year named by a sheet's name (else its title), to complete ``3月``-style periods."""
    for texts in ([sheet_name], title):
        _, years = _texts_period(texts)
        if len(years) == 1:
            return next(iter(years))
        if years:
            return None
    return None


def _require(assignment_fields: set[str], kind: str, headers: list[str], file: str, sheet: str) -> None:
    required = contract.REQUIRED_RECORD_FIELDS if kind == "records" else ("area_code",)
    missing = [name for name in required if name not in assignment_fields]
    if missing:
        listed = ", ".join(f"'{header}'" for header in headers if header)
        raise MappingError(
            f"no column for required field(s) {', '.join(missing)} (headers: {listed}); "
            "name it with --mapping",
            f"缺少必填字段 {', '.join(missing)} 对应的列（表头：{listed}），请用 --mapping 指定",
            file=file, sheet=sheet, field=missing[0],
        )


@dataclass
class LoadedSheet:
    """One sheet, placed and normalised."""

    role: str
    kind: str                     # "records" or "counts"
    table: SheetTable
    columns: dict[str, str]       # header -> field, the mapping used
    ignored: list[str]            # headers placed on no field
    sheet_period: str | None      # a count table's period taken from its sheet name or title

    def manifest_entry(self, sheet: Any) -> dict[str, Any]:
        """The manifest's entry for this sheet (``sheet`` is the RawSheet it came from)."""
        entry = {
            "path": str(sheet.source), "sheet": sheet.sheet, "role": self.role, "kind": self.kind,
            "format": sheet.format, "encoding": sheet.encoding, "header_row": int(sheet.header_row),
            "sha256": sheet.sha256, "rows_read": self.table.rows_read,
            "rows_accepted": self.table.rows_accepted, "rows_rejected": self.table.rows_rejected,
            "columns": self.columns, "ignored_columns": self.ignored,
        }
        if self.sheet_period is not None:
            entry["sheet_period"] = self.sheet_period
        return entry


def load_sheet(sheet: SheetLike, spec: InputSpec, *, as_of: dt.date) -> LoadedSheet:
    """Tell one sheet's role and kind, place its headers and build its normalised table."""
    title = list(sheet.title)
    source = str(sheet.source)
    hint = " ".join([Path(source).parent.name, Path(source).name, sheet.sheet, *title])
    role, kind = resolve_role(sheet.headers, spec.role, hint=hint, file=source, sheet=sheet.sheet)
    assignment = assign_columns(sheet.headers, kind, spec.mapping, file=source, sheet=sheet.sheet)
    _require(set(assignment.columns.values()), kind, sheet.headers, source, sheet.sheet)
    period = None
    if kind == "records":
        table = record_table(sheet, role, assignment, as_of=as_of)
    else:
        if assignment.column_of("period") is None:
            period = sheet_period(sheet.sheet, title)
            if period is None:
                raise UsageError(
                    "count table has no period column and its sheet name or title names no single "
                    "period (e.g. 2024年度, 2024统计年度); add a period column or map one with --mapping",
                    "汇总表没有报告期列，工作表名称或标题也未写明唯一的报告期（如2024年度、2024统计年度）；"
                    "请增加报告期列或用 --mapping 指定",
                    file=source, sheet=sheet.sheet,
                )
        table = count_table(
            sheet, role, assignment, period=period, year=sheet_year(sheet.sheet, title)
        )
    return LoadedSheet(role, kind, table, assignment.used(), sorted(set(assignment.ignored)), period)


def load_inputs(
    specs: list[InputSpec],
    *,
    as_of: dt.date,
    on_progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Read, map and normalise every input; see the module docstring and docs/internals.md."""
    records: dict[str, list[pd.DataFrame]] = {}
    counts: dict[str, list[pd.DataFrame]] = {}
    rejects: list[pd.DataFrame] = []
    inputs: list[dict[str, Any]] = []
    for spec in specs:
        for path in expand_paths([spec.path], base_dir=spec.base_dir):
            if on_progress:
                on_progress(f"reading {path}")
            for sheet in read_export(path, sheets=spec.sheets, header_scorer=header_scorer):
                loaded = load_sheet(sheet, spec, as_of=as_of)
                tables = records if loaded.kind == "records" else counts
                tables.setdefault(loaded.role, []).append(loaded.table.table)
                rejects.append(loaded.table.rejects)
                inputs.append(loaded.manifest_entry(sheet))
                if on_progress:
                    where = f"{sheet.source} [{sheet.sheet}]" if sheet.sheet else sheet.source
                    on_progress(f"{where}: {loaded.table.rows_read} rows, {loaded.table.rows_rejected} rejected")
    return LoadResult(
        records={role: _concat(frames, contract.empty_records()) for role, frames in sorted(records.items())},
        counts={role: _concat(frames, contract.empty_counts()) for role, frames in sorted(counts.items())},
        rejects=sort_rejects(_concat(rejects, contract.empty_rejects())),
        inputs=inputs,
    )


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame) -> pd.DataFrame:
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return empty
    combined = pd.concat(frames, ignore_index=True)
    if "source_row" in combined.columns:
        combined = combined.sort_values(
            ["source_file", "source_sheet", "source_row"], kind="stable", ignore_index=True
        )
    return combined


def sort_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects in their stable order: role, file, sheet, row, field."""
    return rejects.sort_values(
        ["role", "file", "sheet", "row", "field", "reason_code"], kind="stable", ignore_index=True
    )
