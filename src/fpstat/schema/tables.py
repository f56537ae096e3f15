"""One sheet -> its normalised table (accepted rows) and its rejects (one row per problem).

The sheet's columns are already placed on contract fields (:mod:`fpstat.schema.headers`). Each
field is normalised as a whole column (:mod:`fpstat.schema.normalise`); a row is rejected when
any field has a problem or it is a totals row, and every problem becomes one reject row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.privacy import mask_value
from fpstat.schema import fields as contract
from fpstat.schema import normalise as norm
from fpstat.schema.columns import arrow_text
from fpstat.schema.headers import ColumnAssignment
from fpstat.schema.reasons import REASONS

_STRING = pd.ArrowDtype(pa.string())
_SPACE = r"[\s\u3000]*"
_TOTAL_WORDS = ("合计", "总计", "小计", "总数", "共计")
_TOTALS = re.compile(
    "^(?:" + "|".join(_SPACE.join(word) for word in _TOTAL_WORDS) + r")"
    + _SPACE + r"(?:[:：]" + _SPACE + r"[\d,]*" + _SPACE + r"[人户条个例]?)?$"
)
# A whole-county (whole-city ...) line has no code of its own: it sums the rows above it.
_WHOLE_AREA = re.compile(r"^全(?:县|市|区|省|镇|乡|旗|州|盟)")
_FIRST_CHARACTERS = sorted({word[0] for word in _TOTAL_WORDS} | {"全"})


def _matching(column: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    """Cells matching ``pattern``; a cheap first-character test on the bytes first, so that the
    regex runs on a handful of cells and not on a million (cells arrive stripped)."""
    text = arrow_text(column)
    binary = text.cast(pa.large_binary() if pa.types.is_large_string(text.type) else pa.binary())
    first = pc.binary_slice(binary, 0, 3)  # every first character of interest is 3 bytes in UTF-8
    value_set = pa.array([character.encode() for character in _FIRST_CHARACTERS], first.type)
    hits = pc.fill_null(pc.is_in(first, value_set=value_set), False).to_numpy(zero_copy_only=False)
    if hits.any():
        hits[hits] = [bool(pattern.match(str(cell).strip())) for cell in column[hits]]
    return hits


def _constant(value: str, count: int) -> pa.Array:
    """``count`` copies of one string (by index: far faster than a Python list)."""
    return pa.array([value], pa.string()).take(pa.array(np.zeros(count, dtype=np.int64)))


class SheetLike(Protocol):
    """The parts of ``fpstat.io.RawSheet`` that building a table needs."""

    source: str
    sheet: str
    headers: list[str]
    cells: pd.DataFrame
    kinds: pd.DataFrame
    rows: np.ndarray
    title: list[str]


@dataclass
class SheetTable:
    """A sheet's accepted rows (normalised) and its reject rows."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    rows_rejected: int

    @property
    def rows_accepted(self) -> int:
        return self.rows_read - self.rows_rejected


class _Builder:
    """Collects normalised columns and problems for one sheet."""

    def __init__(self, sheet: SheetLike, role: str, assignment: ColumnAssignment) -> None:
        self.sheet = sheet
        self.role = role
        self.assignment = assignment
        self.cells = sheet.cells.reset_index(drop=True)
        self.kinds = sheet.kinds.reset_index(drop=True)
        self.index = self.cells.index
        self.rows = np.asarray(sheet.rows, dtype=np.int64)
        self.columns: dict[str, pd.Series] = {}
        self.problems: list[tuple[str, pa.Array, pd.Series]] = []  # field, reason codes, cells

    def raw(self, name: str) -> pd.Series | None:
        position = self.assignment.column_of(name)
        return None if position is None else self.cells[f"c{position}"]

    def kind(self, name: str) -> pd.Series | None:
        position = self.assignment.column_of(name)
        return None if position is None else self.kinds[f"c{position}"]

    def add(self, name: str, result: norm.Normalised, *, required: bool = False) -> None:
        """Keep a normalised column and its problems (a blank required cell: missing-value)."""
        raw = self.raw(name)
        assert raw is not None
        reasons = pa.array(result.reasons, type=pa.string())
        if required:
            blank = pa.array(norm.clean_text(raw).isna().to_numpy(dtype=bool))
            reasons = pc.if_else(blank, pa.scalar("missing-value"), reasons)
        self.columns[name] = result.values
        self.problems.append((name, reasons, raw))

    def normalise(self, name: str, normaliser: Normaliser, *, required: bool = False) -> None:
        """Normalise the column of ``name``, if the sheet has one."""
        raw = self.raw(name)
        if raw is not None:
            self.add(name, normaliser(raw, self.kind(name)), required=required)

    def totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which rows are totals rows, and the field and cell text that say so (leftmost)."""
        found = np.zeros(len(self.index), dtype=bool)
        where = np.full(len(self.index), None, dtype=object)
        value = np.full(len(self.index), None, dtype=object)
        checks = [(position, self.cells[column], _TOTALS) for position, column in enumerate(self.cells.columns)]
        area_name, area_code = self.raw("area_name"), self.raw("area_code")
        if area_name is not None:
            checks.append((self.assignment.column_of("area_name"), area_name, _WHOLE_AREA))
        for position, column, pattern in checks:
            hits = _matching(column, pattern)
            if pattern is _WHOLE_AREA and area_code is not None:
                hits &= norm.clean_text(area_code).isna().to_numpy(dtype=bool)
            new = hits & ~found
            if new.any():
                where[new] = self.assignment.columns.get(position, self.sheet.headers[position])
                value[new] = [str(cell).strip() for cell in column[new]]
                found |= hits
        return found, where, value

    def finish(self, schema: pa.Schema) -> SheetTable:
        totals, totals_field, totals_value = self.totals()
        rejected = totals.copy()
        reject_rows = [self.rows[totals]]
        reject_fields = [pa.array(totals_field[totals].tolist(), pa.string())]
        reject_values = [pa.array(totals_value[totals].tolist(), pa.string())]
        reject_codes = [_constant("totals-row", int(totals.sum()))]
        for name, reasons, raw in self.problems:
            hit = pc.is_valid(reasons).to_numpy(zero_copy_only=False) & ~totals
            if hit.any():
                rejected |= hit
                reject_rows.append(self.rows[hit])
                reject_fields.append(_constant(name, int(hit.sum())))
                masked = [mask_value(name, None if pd.isna(cell) else cell) for cell in raw[hit]]
                reject_values.append(pa.array(masked, pa.string()))
                reject_codes.append(reasons.filter(pa.array(hit)))
        codes = pa.concat_arrays(reject_codes)
        english = pa.array([reason.en for reason in REASONS.values()], pa.string())
        chinese = pa.array([reason.zh for reason in REASONS.values()], pa.string())
        catalogue = pc.index_in(codes, value_set=pa.array(list(REASONS), pa.string()))
        count = len(codes)
        rejects = pa.table({
            "role": _constant(self.role, count),
            "file": _constant(str(self.sheet.source), count),
            "sheet": _constant(self.sheet.sheet, count),
            "row": pa.array(np.concatenate(reject_rows), pa.int64()),
            "field": pa.concat_arrays(reject_fields),
            "value": pa.concat_arrays(reject_values),
            "reason_code": codes,
            "reason_en": english.take(catalogue),
            "reason_zh": chinese.take(catalogue),
        }, schema=contract.REJECT_SCHEMA).sort_by([("row", "ascending"), ("field", "ascending")])
        size = len(self.index)
        columns = {}
        for column in schema.names:
            arrow_type = schema.field(column).type
            if column in self.columns:
                columns[column] = pa.array(self.columns[column], type=arrow_type)
            else:
                columns[column] = pa.nulls(size, type=arrow_type)
        columns["role"] = _constant(self.role, size)
        columns["source_file"] = _constant(str(self.sheet.source), size)
        columns["source_sheet"] = _constant(self.sheet.sheet, size)
        columns["source_row"] = pa.array(self.rows)
        table = pa.table(columns, schema=schema)
        if rejected.any():
            table = table.filter(pa.array(~rejected))
        return SheetTable(
            contract.frame_from_arrow(table), contract.frame_from_arrow(rejects), size, int(rejected.sum())
        )


Normaliser = Callable[[pd.Series, "pd.Series | None"], norm.Normalised]


def _record_normalisers(as_of: dt.date) -> dict[str, Normaliser]:
    """Field -> normaliser of (cells, kinds), for the coded and dated fields of a record."""
    return {
        "sex": lambda cells, _: norm.normalise_sex(cells),
        "birth_date": lambda cells, kinds: norm.normalise_dates(cells, kinds, as_of=as_of),
        "registered_on": lambda cells, kinds: norm.normalise_dates(cells, kinds, as_of=as_of),
        "area_code": norm.normalise_area_codes,
        "birth_order": lambda cells, _: norm.normalise_birth_order(cells),
        "within_policy": lambda cells, _: norm.normalise_within_policy(cells),
        "migrant": lambda cells, _: norm.normalise_migrant(cells),
    }


def record_table(
    sheet: SheetLike, role: str, assignment: ColumnAssignment, *, as_of: dt.date
) -> SheetTable:
    """The normalised record table of one record-level sheet."""
    build = _Builder(sheet, role, assignment)
    positional_id = f"{sheet.source}:{sheet.sheet}:" + pd.Series(build.rows, index=build.index).astype(_STRING)
    record_id = build.raw("record_id")
    build.columns["record_id"] = (
        positional_id if record_id is None else norm.clean_text(record_id).fillna(positional_id)
    )
    for name in contract.ID_FIELDS:
        raw = build.raw(name)
        if raw is not None:
            ids = norm.normalise_resident_ids(raw, build.kind(name))
            build.add(name, norm.Normalised(ids.values, ids.reasons))
            if name == "child_id":
                build.columns["child_id_birth_date"] = ids.birth_dates
                build.columns["child_id_sex"] = ids.sexes
    for name in ("child_name", "mother_name", "area_name"):
        raw = build.raw(name)
        if raw is not None:
            build.columns[name] = norm.clean_text(raw)
    for name, normaliser in _record_normalisers(as_of).items():
        build.normalise(name, normaliser, required=name in contract.REQUIRED_RECORD_FIELDS)
    return build.finish(contract.RECORD_SCHEMA)


def count_table(
    sheet: SheetLike,
    role: str,
    assignment: ColumnAssignment,
    *,
    period: str | None = None,
    year: int | None = None,
) -> SheetTable:
    """The normalised count table of one sheet; ``period`` when the sheet has no period column,
    ``year`` to complete month-only periods (``3月``)."""
    build = _Builder(sheet, role, assignment)
    build.normalise("area_code", norm.normalise_area_codes, required=True)
    area_name = build.raw("area_name")
    if area_name is not None:
        build.columns["area_name"] = norm.clean_text(area_name)
    if build.raw("period") is None:
        build.columns["period"] = pd.Series(period, index=build.index, dtype=_STRING)
    else:
        build.normalise("period", lambda cells, _: norm.normalise_periods(cells, year), required=True)
    for name in contract.NUMBER_FIELDS:
        build.normalise(name, norm.normalise_counts)
    male, female = build.columns.get("births_male"), build.columns.get("births_female")
    if male is not None and female is not None:
        # A monthly sheet that gives boys and girls only: births is their sum (data contract).
        total = male + female
        births = build.columns.get("births")
        build.columns["births"] = total if births is None else births.fillna(total)
    return build.finish(contract.COUNT_SCHEMA)
