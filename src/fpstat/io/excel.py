"""Workbooks (xlsx, xlsm, xls, xlsb, ods) through python-calamine.

Why python-calamine and not fastexcel, measured on a 200 000-row, 14-column register
(``benchmarks/read.py``, CPU seconds on the 2-core machine): fastexcel parses faster (about 2 s
against python-calamine's 3 s, because it reads calamine's borrowed cells straight into Arrow)
but it reports one type per *column*: reading a column as ``string`` turns the ID
320581199001011234 typed into a number cell into the innocent-looking ``320581199001011328``
(the float's exact value), and reading it as ``float`` silently turns the text cell ``"001"`` into 1.0, so no combination of its passes
tells, cell by cell, what the file stored (its ``CellErrors`` report only failed conversions,
one Python object each, i.e. every text cell of a number pass). Each fastexcel pass is a full
parse, so a second pass costs as much as the first. python-calamine's ``to_python()`` gives
every cell as a typed Python value (str, float, int, bool, date, datetime, time, timedelta) in
one parse; :mod:`fpstat.io.cells` then converts whole columns per type in Arrow (about 1 s for
the 2.8 million cells). That is exact, and about ten times faster than ``pandas.read_excel``
with openpyxl (about 50 s); figures in ``benchmarks/README.md``.

Sheets: every visible worksheet unless some are named (a named hidden sheet is read); chart
sheets never. Row numbers: calamine's range starts at the first used cell (``sheet.start``),
not at A1; the offset is added back, so numbers are those Excel shows. Empty cells come as ``""``. Error cells
(``#DIV/0!``) come as empty: calamine's Python binding does not expose them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import python_calamine as calamine

from fpstat.errors import UnreadableInputError
from fpstat.io.cells import cell_text_kind, typed_column
from fpstat.io.header import HEAD_ROWS, HeaderScorer, HeadRow, Merge, locate_header
from fpstat.io.rawsheet import FileFacts, RawSheet, assemble

_SUFFIX_OF_FORMAT = {
    "xlsx": (".xlsx", ".xlsm"),
    "xls": (".xls",),
    "xlsb": (".xlsb",),
    "ods": (".ods",),
}


def _open(facts: FileFacts) -> calamine.CalamineWorkbook:
    try:
        if facts.path.suffix.lower() in _SUFFIX_OF_FORMAT[facts.format]:
            return calamine.CalamineWorkbook.from_path(str(facts.path))
        # Misnamed file (an xlsx saved as .xls): let calamine detect the format from content.
        with open(facts.path, "rb") as handle:
            return calamine.CalamineWorkbook.from_filelike(handle)
    except calamine.PasswordError:
        raise UnreadableInputError(
            "the workbook is password-protected; save an unprotected copy",
            "工作簿有密码保护，请另存为无密码的副本",
            file=facts.source,
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as error:
        # calamine's own message may quote bytes of the file: never pass it on.
        raise UnreadableInputError(
            f"cannot open the {facts.format} workbook: the file is damaged or not a "
            f"{facts.format} workbook ({type(error).__name__})",
            f"无法打开{facts.format}工作簿：文件已损坏或不是{facts.format}格式（{type(error).__name__}）",
            file=facts.source,
        ) from None


def _sheet_names(
    workbook: calamine.CalamineWorkbook, wanted: Sequence[str] | None, facts: FileFacts
) -> list[str]:
    metadata = [
        meta for meta in workbook.sheets_metadata if meta.typ == calamine.SheetTypeEnum.WorkSheet
    ]
    worksheets = [meta.name for meta in metadata]
    if wanted is None:
        # Hidden sheets hold dropdown lists and backups the office does not see as its data.
        return [meta.name for meta in metadata if meta.visible == calamine.SheetVisibleEnum.Visible]
    missing = [name for name in wanted if name not in worksheets]
    if missing:
        existing = "、".join(worksheets)
        raise UnreadableInputError(
            f"no sheet named {', '.join(repr(n) for n in missing)}; the workbook has: "
            f"{', '.join(worksheets)}",
            f"没有名为{'、'.join(f'“{n}”' for n in missing)}的工作表；工作簿中有：{existing}",
            file=facts.source,
        )
    return list(dict.fromkeys(wanted))


def _is_blank(row: Sequence[object]) -> bool:
    return all(value == "" or (isinstance(value, str) and not value.strip()) for value in row)


def _head_rows(rows: list[list[object]], first_row_number: int) -> Iterator[HeadRow]:
    """The first non-blank rows, converted cell by cell."""
    found = 0
    for offset, row in enumerate(rows):
        if found == HEAD_ROWS:
            return
        if _is_blank(row):
            continue
        found += 1
        pairs = [cell_text_kind(value) for value in row]
        yield HeadRow(
            number=first_row_number + offset,
            texts=[text or "" for text, _ in pairs],
            kinds=[kind for _, kind in pairs],
        )


def _merges(sheet: calamine.CalamineSheet, start: tuple[int, int], width: int) -> list[Merge]:
    """Merged ranges in table coordinates (rows as Excel numbers them, columns from 0)."""
    found = []
    for (first_row, first_col), (last_row, last_col) in sheet.merged_cell_ranges or []:
        first_column = max(first_col - start[1], 0)
        last_column = min(last_col - start[1], width - 1)
        if first_column <= last_column:
            found.append(Merge(first_row + 1, last_row + 1, first_column, last_column))
    return found


def _read_sheet(
    sheet: calamine.CalamineSheet, facts: FileFacts, scorer: HeaderScorer | None
) -> RawSheet | None:
    rows = sheet.to_python()
    if not rows or sheet.start is None:
        return None
    start = sheet.start
    width = len(rows[0])  # calamine ranges are rectangular
    head = list(_head_rows(rows, start[0] + 1))
    if not head:
        return None  # an empty sheet is skipped, not an error
    layout = locate_header(head, width, scorer=scorer, merges=_merges(sheet, start, width))
    if layout is None:
        raise UnreadableInputError(
            "no header row found in the first rows (a row of column names, all text)",
            "前几行中找不到表头（全部为文字的列名行）",
            file=facts.source,
            sheet=sheet.name,
        )
    data = rows[layout.header_row - start[0] :]
    row_numbers = np.arange(len(data), dtype=np.int64) + layout.header_row + 1
    if data:
        grid = np.empty((len(data), width), dtype=object)
        grid[:] = data
        # Contiguous columns: Arrow converts them ten times faster than strided views.
        columns = [typed_column(column) for column in grid.T.copy()]
    else:
        columns = [(pa.nulls(0, pa.string()), pa.nulls(0, pa.string()))] * width
    return assemble(
        facts,
        sheet.name,
        layout,
        texts=[text for text, _ in columns],
        kinds=[kinds for _, kinds in columns],
        rows=row_numbers,
    )


def read_workbook(
    facts: FileFacts,
    *,
    sheets: Sequence[str] | None = None,
    header_scorer: HeaderScorer | None = None,
) -> list[RawSheet]:
    """Every worksheet of the workbook (or those named) that holds anything."""
    workbook = _open(facts)
    try:
        read = []
        for name in _sheet_names(workbook, sheets, facts):
            try:
                sheet = workbook.get_sheet_by_name(name)
            except calamine.CalamineError as error:
                raise UnreadableInputError(
                    f"cannot read the sheet: it is damaged ({type(error).__name__})",
                    f"无法读取工作表：工作表已损坏（{type(error).__name__}）",
                    file=facts.source,
                    sheet=name,
                ) from None
            raw = _read_sheet(sheet, facts, header_scorer)
            if raw is not None:
                read.append(raw)
        return read
    finally:
        workbook.close()
