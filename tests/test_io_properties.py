"""Properties of fpstat.io: round trips of text tables, row counts, and the cell text rules."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd
import xlsxwriter
from fixtures.make_io_fixtures import csv_bytes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fpstat.io import read_export
from fpstat.io.cells import cell_text_kind, number_text, typed_column

# Chinese from the common block, Latin, digits, and the characters that make CSV hard.
CELL_ALPHABET = st.sampled_from(
    list("张王李赵刘陈出生男女村委会编号")
    + list("abcXYZ019")
    + [" ", "\u3000", ",", '"', "\n", "\r", ";", "\t"]
)
HEADER_ALPHABET = st.sampled_from(list("编号姓名性别出生日期母亲身份证地区abcXYZ"))

settings.register_profile("io", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("io")


@st.composite
def text_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header of 2-5 distinct labels and 0-12 rows of text cells (some rows blank)."""
    width = draw(st.integers(2, 5))
    headers = draw(
        st.lists(
            st.text(HEADER_ALPHABET, min_size=1, max_size=4),
            min_size=width,
            max_size=width,
            unique=True,
        )
    )
    row = st.lists(st.text(CELL_ALPHABET, max_size=6), min_size=width, max_size=width)
    blank = st.just([""] * width)
    rows = draw(st.lists(st.one_of(row, blank), max_size=12))
    return headers, rows


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _expected(rows: list[list[str]]) -> tuple[list[list[str | None]], list[int]]:
    """Stripped cells (empty -> None) of the non-blank rows, and their record numbers."""
    kept, numbers = [], []
    for index, row in enumerate(rows):
        cells = [cell.strip() or None for cell in row]
        if any(cell is not None for cell in cells):
            kept.append(cells)
            numbers.append(index + 2)  # the header is record 1
    return kept, numbers


@given(
    table=text_tables(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
@settings(max_examples=100)
def test_csv_text_tables_read_back_cell_for_cell(table, encoding, line_end) -> None:
    """Any text table written as UTF-8 or GB18030 CSV reads back cell-for-cell, right rows."""
    headers, rows = table
    data = csv_bytes([headers, *rows], encoding=encoding, line_end=line_end)
    if encoding == "gb18030":
        # Strict decoding reads a GB18030 file that happens to be valid UTF-8 as UTF-8 (only
        # possible for a few characters); such a file is a UTF-8 file by the documented rule.
        assume(not _is_utf8(data))
    with TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(data)
        (sheet,) = read_export(path)
    expected_cells, expected_rows = _expected(rows)
    assert sheet.encoding == encoding
    assert sheet.headers == [header.strip() for header in headers]
    assert sheet.rows.tolist() == expected_rows
    got = [[None if pd.isna(cell) else cell for cell in row] for row in sheet.cells.values.tolist()]
    assert got == expected_cells


@given(table=text_tables())
@settings(max_examples=40)
def test_data_rows_are_the_non_blank_rows_below_the_header(table) -> None:
    """The number of data rows equals the number of non-blank rows under the header."""
    headers, rows = table
    with TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(csv_bytes([["XX县出生登记台账"], [], headers, *rows]))
        (sheet,) = read_export(path)
    assert sheet.header_row == 3
    assert sheet.n_rows == sum(any(cell.strip() for cell in row) for row in rows)
    assert len(sheet.cells) == len(sheet.kinds) == sheet.n_rows


EXCEL_VALUES = st.one_of(
    st.none(),
    st.text(st.sampled_from(list("张王出生男 ab1")), max_size=4),
    st.integers(-(10**6), 10**6).map(float),
    st.integers(0, 10**6).map(lambda cents: cents / 100),
    st.booleans(),
    st.dates(dt.date(1950, 1, 1), dt.date(2030, 12, 31)),
)


@given(
    grid=st.lists(st.lists(EXCEL_VALUES, min_size=3, max_size=3), max_size=10),
    top=st.integers(0, 3),
    left=st.integers(0, 2),
)
@settings(max_examples=25)
def test_workbook_rows_and_cells_match_what_was_written(grid, top, left) -> None:
    """xlsx at any offset: data rows are the non-blank rows, numbered as Excel, cells as
    the text rules say."""
    with TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("S")
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(top, left, ["编号", "姓名", "日期"])
        for offset, row in enumerate(grid, start=1):
            for column, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write_datetime(top + offset, left + column, value, date_format)
                elif isinstance(value, str):
                    sheet.write_string(top + offset, left + column, value)
                else:
                    sheet.write(top + offset, left + column, value)
        workbook.close()
        (raw,) = read_export(path)
    expected = [
        (top + offset + 1, [cell_text_kind(value) for value in row])
        for offset, row in enumerate(grid, start=1)
        if any(cell_text_kind(value)[0] is not None for value in row)
    ]
    assert raw.header_row == top + 1
    assert raw.rows.tolist() == [number for number, _ in expected]
    texts = [[None if pd.isna(c) else c for c in row] for row in raw.cells.values.tolist()]
    kinds = [[None if pd.isna(c) else c for c in row] for row in raw.kinds.values.tolist()]
    assert texts == [[text for text, _ in pairs] for _, pairs in expected]
    assert kinds == [[kind for _, kind in pairs] for _, pairs in expected]


PYTHON_CELLS = st.one_of(
    st.just(""),
    st.text(max_size=5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**62), 2**62),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=1000)),
)


@given(values=st.lists(PYTHON_CELLS, max_size=30))
def test_column_conversion_agrees_with_the_cell_rule(values) -> None:
    """The vectorised column conversion gives exactly what the per-cell rule gives."""
    text, kinds = typed_column(values)
    pairs = [cell_text_kind(value) for value in values]
    assert text.to_pylist() == [pair[0] for pair in pairs]
    assert kinds.to_pylist() == [pair[1] for pair in pairs]


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_round_trips_and_never_fakes_long_digits(value) -> None:
    """Number text parses back to the same float, has no ".0", and from 1e16 on is scientific."""
    text = number_text(value)
    assert float(text) == value
    assert not text.endswith(".0")
    if math.isfinite(value) and abs(value) >= 1e16:
        assert "e" in text


def test_negative_zero_reads_as_zero_both_ways() -> None:
    """A cell holding -0.0 (spreadsheets show 0) reads as "0" by cell and by column."""
    text, _ = typed_column([-0.0])
    assert text.to_pylist() == ["0"] and cell_text_kind(-0.0) == ("0", "n")
