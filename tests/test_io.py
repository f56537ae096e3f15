"""fpstat.io: reading office exports (workbooks, delimited text, parquet) into RawSheets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.make_io_fixtures import (
    CHILD_ID,
    MOTHER_ID,
    REGISTER_HEADERS,
    csv_bytes,
    grouped_report_xlsx,
    multi_sheet_xlsx,
    offset_xlsx,
    register_parquet,
    register_xls,
    register_xlsx,
    write_csv,
)

from fpstat.errors import UnreadableInputError
from fpstat.io import RawSheet, expand_paths, read_export, sniff_encoding


def only(sheets: list[RawSheet]) -> RawSheet:
    assert len(sheets) == 1
    return sheets[0]


def assert_number_stored_id(text: str | None) -> None:
    """The float an Excel number cell holds for CHILD_ID, in scientific notation."""
    assert text is not None and text.endswith("e+17")
    assert abs(float(text) - int(CHILD_ID)) < 1000


def column(sheet: RawSheet, header: str, frame: str = "cells") -> list[str | None]:
    """One column of cells (or kinds) by header, <NA> as None."""
    values = getattr(sheet, frame)[f"c{sheet.headers.index(header)}"]
    return [None if pd.isna(value) else value for value in values]


@pytest.fixture
def register(tmp_path: Path) -> RawSheet:
    return only(read_export(register_xlsx(tmp_path / "register.xlsx")))


# --- workbooks -------------------------------------------------------------------------------


def test_number_stored_id_arrives_as_number_never_as_plausible_digits(register: RawSheet) -> None:
    """An 18-digit ID typed into a number cell: kind "n", scientific text, not 18 digits."""
    ids = column(register, "母亲身份证号")
    kinds = column(register, "母亲身份证号", "kinds")
    assert ids[0] == MOTHER_ID and kinds[0] == "s"
    assert kinds[1] == "n"
    assert_number_stored_id(ids[1])


def test_cell_text_rules(register: RawSheet) -> None:
    """Text stripped, whitespace-only empty, integers without .0, dates ISO, booleans upper."""
    assert column(register, "婴儿姓名") == ["张伟", "李娜", None]
    assert column(register, "孩次") == ["1", "2.5", None]
    assert column(register, "孩次", "kinds") == ["n", "n", None]
    assert column(register, "登记时间") == ["2025-03-20 09:30:05", None, None]
    assert column(register, "流动人口") == ["FALSE", "TRUE", None]
    assert column(register, "流动人口", "kinds") == ["b", "b", None]


def test_date_cells_and_serial_numbers_keep_what_the_file_stored(register: RawSheet) -> None:
    """A date cell is "d" and ISO; a serial typed as a number stays "n"; date text stays "s"."""
    assert column(register, "出生日期") == ["2025-03-14", "45731", "2025/3/16"]
    assert column(register, "出生日期", "kinds") == ["d", "n", "s"]


def test_title_rows_header_row_and_row_numbers(register: RawSheet) -> None:
    """Merged title and unit line become title; header on row 3; blank row 6 skipped, counted."""
    assert register.title == ["XX县2025年度出生登记台账", "填报单位：XX镇计生办"]
    assert register.header_row == 3
    assert register.headers == REGISTER_HEADERS
    assert register.rows.tolist() == [4, 5, 7]
    assert register.sheet == "出生登记" and register.format == "xlsx" and register.encoding is None


def test_frames_are_arrow_strings_with_positional_columns(register: RawSheet) -> None:
    """cells and kinds: same shape, columns c0..cN, dtype string[pyarrow]; rows int64."""
    assert list(register.cells.columns) == [f"c{i}" for i in range(len(REGISTER_HEADERS))]
    assert register.cells.shape == register.kinds.shape == (3, len(REGISTER_HEADERS))
    string_dtype = pd.StringDtype("pyarrow")
    assert all(dtype == string_dtype for dtype in register.cells.dtypes)
    assert all(dtype == string_dtype for dtype in register.kinds.dtypes)
    assert register.rows.dtype == np.int64


def test_sha256_and_paths(tmp_path: Path, register: RawSheet) -> None:
    """sha256 is of the whole file; source is the path as given, path is resolved."""
    path = tmp_path / "register.xlsx"
    assert register.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert register.source == str(path)
    assert register.path == path.resolve()
    named = only(read_export(path, source="exports/台账.xlsx"))
    assert named.source == "exports/台账.xlsx"


def test_grouped_header_with_merges_starting_at_b3(tmp_path: Path) -> None:
    """Merged 出生人数 over 男/女 gives "出生人数|男"; vertical merges keep one label."""
    report = only(read_export(grouped_report_xlsx(tmp_path / "report.xlsx")))
    assert report.headers == ["地区", "出生人数|男", "出生人数|女", "死亡人数", "备注"]
    assert report.title == ["2024年人口计生统计报表"]
    assert report.header_row == 5
    assert report.rows.tolist() == [6, 7, 8]
    assert column(report, "出生人数|女") == ["10", "9", "19"]
    assert column(report, "备注") == [None, "补报", None]


def test_range_starting_at_b3_keeps_excel_row_numbers(tmp_path: Path) -> None:
    """calamine's range starts at the first used cell; rows are still Excel's."""
    sheet = only(read_export(offset_xlsx(tmp_path / "offset.xlsx")))
    assert sheet.header_row == 3
    assert sheet.headers == ["编号", "性别", "出生日期"]
    assert sheet.rows.tolist() == [4, 6]
    assert column(sheet, "编号") == ["001", "002"]


def test_every_sheet_unless_named_and_empty_sheets_skipped(tmp_path: Path) -> None:
    """All visible non-empty sheets by default; only the named ones (hidden too) when asked."""
    path = multi_sheet_xlsx(tmp_path / "towns.xlsx")
    assert [sheet.sheet for sheet in read_export(path)] == ["东村", "西村"]
    assert [sheet.sheet for sheet in read_export(path, sheets=["西村"])] == ["西村"]
    assert [sheet.sheet for sheet in read_export(path, sheets=[])] == ["东村", "西村"]
    (lists,) = read_export(path, sheets=["字典"])
    assert lists.headers == ["性别"] and column(lists, "性别") == ["男", "女"]


def test_unknown_sheet_lists_the_sheets_that_exist(tmp_path: Path) -> None:
    """Naming a missing sheet is an UnreadableInputError listing the workbook's sheets."""
    path = multi_sheet_xlsx(tmp_path / "towns.xlsx")
    with pytest.raises(UnreadableInputError) as caught:
        read_export(path, sheets=["南村"])
    assert "南村" in caught.value.message_en and "东村, 西村, 说明, 字典" in caught.value.message_en
    assert "东村" in caught.value.message_zh
    assert caught.value.location.file == str(path)


def test_legacy_xls_with_merged_two_row_header(tmp_path: Path) -> None:
    """xls (BIFF8): merges, dates and number-stored IDs as in xlsx."""
    pytest.importorskip("xlwt")
    report = only(read_export(register_xls(tmp_path / "report.xls")))
    assert report.format == "xls"
    assert report.headers == ["地区", "出生人数|男", "出生人数|女", "统计日期", "联系人身份证号"]
    assert report.title == ["XX县人口计生统计报表"]
    assert report.header_row == 3
    assert report.rows.tolist() == [4, 6]
    assert column(report, "统计日期", "kinds") == ["d", "s"]
    contact_ids = column(report, "联系人身份证号")
    assert_number_stored_id(contact_ids[0])
    assert contact_ids[1] == MOTHER_ID
    assert column(report, "联系人身份证号", "kinds") == ["n", "s"]


def test_header_scorer_picks_the_best_row(tmp_path: Path) -> None:
    """With a scorer, the best-scoring of the first rows is the header, not the first text row."""
    import xlsxwriter

    path = tmp_path / "notes_first.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("台账")
    sheet.write_row("A1", ["说明", "本表由系统导出", "请勿修改"])
    sheet.write_row("A2", ["编号", "性别", "出生日期"])
    sheet.write_row("A3", ["1", "男", "2025-01-01"])
    workbook.close()
    assert only(read_export(path)).header_row == 1

    def scorer(texts: list[str]) -> float:
        return sum(text in {"编号", "性别", "出生日期"} for text in texts)

    scored = only(read_export(path, header_scorer=scorer))
    assert scored.header_row == 2
    assert scored.title == ["说明 本表由系统导出 请勿修改"]
    assert scored.rows.tolist() == [3]


def test_sheet_without_header_row_is_unreadable(tmp_path: Path) -> None:
    """A sheet of numbers only has no header: error naming file and sheet."""
    import xlsxwriter

    path = tmp_path / "numbers.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("数").write_row("A1", [1, 2, 3])
    workbook.close()
    with pytest.raises(UnreadableInputError) as caught:
        read_export(path)
    assert caught.value.location.sheet == "数"
    assert caught.value.location.file == str(path)


def test_damaged_workbook_is_unreadable_without_echoing_its_bytes(tmp_path: Path) -> None:
    """A truncated xlsx is an UnreadableInputError whose message quotes no file content."""
    whole = register_xlsx(tmp_path / "whole.xlsx").read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnreadableInputError) as caught:
        read_export(path)
    assert "damaged" in caught.value.message_en
    assert "\\x" not in str(caught.value) and "PK" not in str(caught.value)


# --- delimited text --------------------------------------------------------------------------

RECORDS = [["编号", "姓名", "身份证号"], ["001", "张伟", MOTHER_ID], ["002", "李娜", CHILD_ID]]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, reported: str) -> None:
    """UTF-8 with or without BOM, GBK and GB18030 read to the same cells; encoding recorded."""
    sheet = only(read_export(write_csv(tmp_path / "r.csv", RECORDS, encoding=encoding)))
    assert sheet.encoding == reported
    assert sheet.headers == RECORDS[0]
    assert sheet.cells.values.tolist() == RECORDS[1:]
    assert sheet.sheet == "" and sheet.format == "csv"


def test_sniff_encoding_is_strict() -> None:
    """GBK bytes are not UTF-8; UTF-8 with a BOM is utf-8-sig; ASCII is utf-8."""
    assert sniff_encoding("出生".encode("gbk")) == "gb18030"
    assert sniff_encoding("出生".encode("utf-8-sig")) == "utf-8-sig"
    assert sniff_encoding(b"a,b\n") == "utf-8"


def test_sniff_encoding_of_a_file(tmp_path: Path) -> None:
    """sniff_encoding also takes a path."""
    path = write_csv(tmp_path / "r.csv", RECORDS, encoding="gbk")
    assert sniff_encoding(path) == "gb18030"


def test_utf16_text_is_refused_with_advice(tmp_path: Path) -> None:
    """Excel's "Unicode Text" (UTF-16) is neither encoding: the message says how to save it."""
    path = tmp_path / "unicode.txt"
    path.write_bytes(csv_bytes(RECORDS, encoding="utf-16", delimiter="\t"))
    with pytest.raises(UnreadableInputError, match="UTF-16"):
        read_export(path)


def test_neither_utf8_nor_gb18030_names_the_byte_offset(tmp_path: Path) -> None:
    """Bytes valid in neither encoding: UnreadableInputError with offsets, no content."""
    path = tmp_path / "bad.csv"
    path.write_bytes("编号,姓名\n1,".encode() + b"\x80\xff\xfe" + b"\n")
    with pytest.raises(UnreadableInputError) as caught:
        read_export(path)
    assert "offset 16" in caught.value.message_en
    assert caught.value.location.file == str(path)


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    """Tab, semicolon and bar separated files read like comma ones."""
    sheet = only(read_export(write_csv(tmp_path / "r.csv", RECORDS, delimiter=delimiter)))
    assert sheet.headers == RECORDS[0]
    assert sheet.cells.values.tolist() == RECORDS[1:]


def test_csv_cells_are_all_text_and_never_inferred(tmp_path: Path) -> None:
    """Leading zeros, 18-digit IDs, NA and 1e5 stay text of kind "s"."""
    rows = [["编号", "值"], ["00123", "NA"], ["1e5", "NULL"], [CHILD_ID, "  "]]
    sheet = only(read_export(write_csv(tmp_path / "r.csv", rows)))
    assert column(sheet, "编号") == ["00123", "1e5", CHILD_ID]
    assert column(sheet, "值") == ["NA", "NULL", None]
    assert set(sheet.kinds.stack().dropna().tolist()) == {"s"}


def test_csv_title_blank_lines_and_multiline_fields_keep_record_numbers(tmp_path: Path) -> None:
    """Row numbers are records as Excel shows them: title, blank lines and header counted, a
    quoted field spanning lines is one row."""
    rows = [
        ["XX县出生登记"],
        [],
        ["编号", "备注"],
        ["1", "第一行\n第二行"],
        [],
        ["2", "x"],
        [",", ""],
        ["3", '引号"内'],
    ]
    sheet = only(read_export(write_csv(tmp_path / "r.csv", rows)))
    assert sheet.title == ["XX县出生登记"]
    assert sheet.header_row == 3
    assert sheet.rows.tolist() == [4, 6, 7, 8]
    assert column(sheet, "备注") == ["第一行\n第二行", "x", None, '引号"内']


def test_ragged_csv_rows_are_padded_not_lost(tmp_path: Path) -> None:
    """Rows shorter or longer than the header are read (padded), with their row numbers."""
    path = tmp_path / "ragged.csv"
    path.write_bytes("编号,性别\n1,男,多余\n2\n\n3,女\n".encode())
    sheet = only(read_export(path))
    assert sheet.headers == ["编号", "性别", ""]
    assert sheet.cells.values.tolist() == [
        ["1", "男", "多余"],
        ["2", pd.NA, pd.NA],
        ["3", "女", pd.NA],
    ]
    assert sheet.rows.tolist() == [2, 3, 5]


def test_csv_two_row_header_without_merges(tmp_path: Path) -> None:
    """A CSV group row over sub-headers (what a merged header leaves when saved as CSV)."""
    rows = [["地区", "出生人数", "", "死亡人数"], ["", "男", "女", ""], ["东村", "12", "10", "3"]]
    sheet = only(read_export(write_csv(tmp_path / "r.csv", rows)))
    assert sheet.headers == ["地区", "出生人数|男", "出生人数|女", "死亡人数"]
    assert sheet.header_row == 2
    assert sheet.rows.tolist() == [3]


def test_first_data_row_under_a_blank_header_is_not_a_sub_header(tmp_path: Path) -> None:
    """A header with a blank column over data is not mistaken for a two-row header."""
    rows = [
        ["编号", "姓名", "", "出生日期"],
        ["1", "张伟", "备注", ""],
        ["2", "李娜", "", "2025-01-02"],
    ]
    sheet = only(read_export(write_csv(tmp_path / "r.csv", rows)))
    assert sheet.header_row == 1
    assert sheet.headers == ["编号", "姓名", "", "出生日期"]
    assert sheet.rows.tolist() == [2, 3]


def test_old_mac_line_ends(tmp_path: Path) -> None:
    """CR-only line ends are records too."""
    path = tmp_path / "cr.csv"
    path.write_bytes(csv_bytes(RECORDS, line_end="\r"))
    sheet = only(read_export(path))
    assert sheet.cells.values.tolist() == RECORDS[1:]
    assert sheet.rows.tolist() == [2, 3]


def test_text_saved_as_xls_is_read_as_text(tmp_path: Path) -> None:
    """Web systems save tab-separated text under .xls: read as delimited text."""
    path = tmp_path / "导出.xls"
    path.write_bytes(csv_bytes(RECORDS, encoding="gbk", delimiter="\t"))
    sheet = only(read_export(path))
    assert sheet.format == "csv" and sheet.encoding == "gb18030"
    assert sheet.cells.values.tolist() == RECORDS[1:]


def test_xlsx_named_xls_is_read_by_content(tmp_path: Path) -> None:
    """A renamed workbook is read by what it is, not by its name."""
    path = tmp_path / "台账.xls"
    path.write_bytes(register_xlsx(tmp_path / "r.xlsx").read_bytes())
    sheet = only(read_export(path))
    assert sheet.format == "xlsx" and sheet.rows.tolist() == [4, 5, 7]


def test_html_saved_as_xls_is_refused_with_advice(tmp_path: Path) -> None:
    """An HTML page named .xls: UnreadableInputError saying to save it as xlsx."""
    path = tmp_path / "导出.xls"
    path.write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")
    with pytest.raises(UnreadableInputError, match="web page"):
        read_export(path)


def test_sheet_names_for_text_files_are_refused(tmp_path: Path) -> None:
    """A CSV has no sheets: naming one is an error rather than silently ignored."""
    with pytest.raises(UnreadableInputError):
        read_export(write_csv(tmp_path / "r.csv", RECORDS), sheets=["Sheet1"])


def test_empty_csv_gives_no_sheet(tmp_path: Path) -> None:
    """An empty file holds no table: nothing to read, no error."""
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert read_export(path) == []


# --- parquet ---------------------------------------------------------------------------------


def test_parquet_kinds_follow_arrow_types(tmp_path: Path) -> None:
    """int64 IDs exact, floats as numbers, dates/timestamps "d", bools "b"; rows from 2."""
    sheet = only(read_export(register_parquet(tmp_path / "r.parquet")))
    assert sheet.format == "parquet" and sheet.header_row == 1 and sheet.sheet == ""
    assert sheet.rows.tolist() == [2, 3]  # the all-null third row is blank
    assert column(sheet, "编号") == ["001", "002"]
    assert column(sheet, "婴儿身份证号") == [CHILD_ID, "320581201501011244"]
    assert column(sheet, "婴儿身份证号", "kinds") == ["n", "n"]
    assert column(sheet, "体重") == ["3.25", "3"]
    assert column(sheet, "出生日期") == ["2025-01-02", "2025-01-03"]
    assert column(sheet, "登记时间") == ["2025-01-05 08:00:01", "2025-01-06"]
    assert column(sheet, "流动人口") == ["TRUE", "FALSE"]
    assert sheet.kinds.iloc[0].tolist() == ["s", "n", "n", "d", "d", "b"]


def test_parquet_nested_column_is_refused_by_name(tmp_path: Path) -> None:
    """A list column cannot be a flat export: error naming the column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"编号": ["1"], "子女": [["a", "b"]]}), path)
    with pytest.raises(UnreadableInputError) as caught:
        read_export(path)
    assert caught.value.location.field == "子女"


# --- files and paths -------------------------------------------------------------------------


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    """A missing file and a .docx are UnreadableInputErrors naming the file."""
    with pytest.raises(UnreadableInputError, match="not found"):
        read_export(tmp_path / "none.xlsx")
    other = tmp_path / "notes.docx"
    other.write_bytes(b"hello")
    with pytest.raises(UnreadableInputError, match="unknown file format"):
        read_export(other)


def test_expand_paths_globs_sorted_and_deduplicated(tmp_path: Path) -> None:
    """Globs (with **) and paths: sorted, each file once, Excel lock files skipped."""
    for name in ["b镇.csv", "a镇.csv", "sub/c镇.csv", "~$a镇.csv"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("编号\n1\n")
    found = expand_paths(["*.csv", "a镇.csv", "**/c*.csv"], base_dir=tmp_path)
    assert found == sorted(str(tmp_path / name) for name in ["a镇.csv", "b镇.csv", "sub/c镇.csv"])


def test_expand_paths_pattern_matching_nothing_is_named(tmp_path: Path) -> None:
    """A path or glob that matches no file is an UnreadableInputError naming it."""
    with pytest.raises(UnreadableInputError) as caught:
        expand_paths(["公安*.csv"], base_dir=tmp_path)
    assert caught.value.location.file == "公安*.csv"
