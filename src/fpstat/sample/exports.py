"""Writing the messy exports: workbooks and CSV files as offices' systems produce them.

Each :class:`~fpstat.sample.layouts.SheetJob` becomes a sheet or a CSV file: title rows, the
header, the records' cells in the column styles, corrupt cells where a row was spoiled, and
sometimes a blank row and a 合计 row at the foot. Every write goes through ``fpstat.rundir``
(temporary file, then rename). Workbooks get a fixed creation date and xlsxwriter writes fixed
zip timestamps, so the same seed gives the same bytes.

What was written where comes back as a table (record -> file, sheet, row), the row numbered
as Excel or a text editor shows it: title and header rows counted, blank rows counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from fpstat import rundir
from fpstat.sample.formats import cell_text, corrupt_cell, format_column
from fpstat.sample.layouts import RECORD_ID_PREFIX, SheetJob
from fpstat.sample.population import EXPORT_DATE

CREATED = dt.datetime(EXPORT_DATE.year, EXPORT_DATE.month, EXPORT_DATE.day, 9, 30)
TOTALS_LABEL = "合计"


def assign_record_ids(role: str, jobs: list[SheetJob], start: int) -> None:
    """Number the records in output order, across all files of the source (``JS000123``)."""
    total = sum(len(job.records) for job in jobs)
    width = max(6, len(str(start + total)))
    number = start
    for job in jobs:
        ids = [f"{RECORD_ID_PREFIX[role]}{n:0{width}d}" for n in range(number, number + len(job.records))]
        job.records = job.records.assign(record_id=ids)
        number += len(job.records)


def sheet_cells(job: SheetJob, *, spreadsheet: bool) -> list[list[Any]]:
    """The data cells of a job, row by row, corrupt values in place."""
    records = job.records
    columns = []
    for column in job.columns:
        cells = format_column(records[column.field], column.style)
        spoiled = (records["bad_field"] == column.field).to_numpy()
        for position in spoiled.nonzero()[0].tolist():
            cells[position] = corrupt_cell(
                records["bad_kind"].iat[position], records["bad_value"].iat[position],
                column.style, spreadsheet=spreadsheet,
            )
        columns.append(cells)
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def _totals_cells(job: SheetJob) -> list[Any]:
    cells: list[Any] = [None] * len(job.columns)
    cells[0] = TOTALS_LABEL
    if len(cells) > 1:
        cells[1] = f"共{len(job.records)}人"
    return cells


def _positions(job: SheetJob) -> tuple[pd.DataFrame, list[int]]:
    """Rows of the records and of the totals row of one job."""
    first = job.header_row + 1
    rows = pd.DataFrame({
        "record": job.records.index.to_numpy(), "file": job.file, "sheet": job.sheet,
        "row": range(first, first + len(job.records)), "record_id": job.records["record_id"].to_numpy(),
    })
    totals = []
    if job.totals:
        totals.append(first + len(job.records) + (1 if job.blank_before_totals else 0))
    return rows, totals


def write_jobs(out_dir: Path, jobs: list[SheetJob]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write every job; return (record positions, totals-row positions)."""
    by_file: dict[str, list[SheetJob]] = {}
    for job in jobs:
        by_file.setdefault(job.file, []).append(job)
    for file, file_jobs in by_file.items():
        if file.endswith(".xlsx"):
            _write_workbook(out_dir / file, file_jobs)
        else:
            (job,) = file_jobs
            _write_csv(out_dir / file, job)
    positions, totals = [], []
    for job in jobs:
        rows, totals_rows = _positions(job)
        positions.append(rows)
        totals.extend({"file": job.file, "sheet": job.sheet, "row": row} for row in totals_rows)
    return (
        pd.concat(positions, ignore_index=True),
        pd.DataFrame(totals, columns=["file", "sheet", "row"]),
    )


def _write_workbook(path: Path, jobs: list[SheetJob]) -> None:
    with rundir.atomic_path(path) as temp:
        workbook = xlsxwriter.Workbook(
            str(temp), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        )
        workbook.set_properties({"created": CREATED, "author": "", "company": ""})
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 14, "align": "center"}),
            "header": workbook.add_format({"bold": True, "border": 1, "align": "center"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        }
        for job in jobs:
            _write_sheet(workbook.add_worksheet(job.sheet), job, formats)
        workbook.close()


def _write_sheet(sheet: Any, job: SheetJob, formats: dict[str, Any]) -> None:
    width = len(job.columns)
    for row, text in enumerate(job.title):
        if row == 0 and job.merge_title and width > 1:
            sheet.merge_range(0, 0, 0, width - 1, text, formats["title"])
        else:
            sheet.write_string(row, 0, text)
    header = job.header_row - 1
    for col, column in enumerate(job.columns):
        sheet.write_string(header, col, column.header, formats["header"])
        sheet.set_column(col, col, 20 if column.style == "id" else 12)
    rows: Iterable[list[Any]] = sheet_cells(job, spreadsheet=True)
    row = header + 1
    for row_cells in rows:
        _write_row(sheet, row, row_cells, formats)
        row += 1
    if job.totals:
        row += 1 if job.blank_before_totals else 0
        _write_row(sheet, row, _totals_cells(job), formats)


def _write_row(sheet: Any, row: int, cells: list[Any], formats: dict[str, Any]) -> None:
    for col, cell in enumerate(cells):
        if cell is None:
            continue
        if isinstance(cell, str):
            sheet.write_string(row, col, cell)
        elif isinstance(cell, dt.datetime):
            sheet.write_datetime(row, col, cell, formats["date"])
        else:
            sheet.write_number(row, col, cell)


def _write_csv(path: Path, job: SheetJob) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=job.line_end)
    for text in job.title:
        writer.writerow([text])
    writer.writerow([column.header for column in job.columns])
    for cells in sheet_cells(job, spreadsheet=False):
        writer.writerow([cell_text(cell) for cell in cells])
    if job.totals:
        if job.blank_before_totals:
            writer.writerow([])
        writer.writerow([cell_text(cell) for cell in _totals_cells(job)])
    rundir.atomic_write_bytes(path, buffer.getvalue().encode(job.encoding))
