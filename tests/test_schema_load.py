"""load_inputs end to end on real files: workbooks, GB18030 CSV, globs, roles, manifest entries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
import xlsxwriter

from fpstat.errors import UnreadableInputError, UsageError
from fpstat.schema import COUNT_COLUMNS, RECORD_COLUMNS, REJECT_COLUMNS, InputSpec, load_inputs
from fpstat.schema.normalise import id_check_character

AS_OF = dt.date(2025, 6, 30)


def resident_id(area: str, born: str, sequence: str) -> str:
    body = area + born + sequence
    return body + id_check_character(body)


MOTHER = resident_id("320581", "19900101", "002")
CHILD = resident_id("320581", "20240314", "011")


def planning_workbook(path: Path) -> None:
    """A register as offices export it: title row, number-cell ID, date cells, totals row."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("出生登记")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, 7, "XX县2024年度出生登记台账")
    headers = ["序号", "育龄妇女姓名", "母亲身份证号", "婴儿身份证号", "性别", "出生日期", "孩次", "村(居)代码"]
    sheet.write_row(1, 0, headers)
    sheet.write_row(2, 0, ["1", "王芳", MOTHER, CHILD, "男"])
    sheet.write_datetime(2, 5, dt.datetime(2024, 3, 14), dates)
    sheet.write_row(2, 6, ["一孩"])
    sheet.write_number(2, 7, 320581101203)
    sheet.write_row(3, 0, ["2", "李娟"])
    sheet.write_number(3, 2, 320581199001010000)  # an ID stored as a number: digits lost
    sheet.write_row(3, 3, [None, "女"])
    sheet.write_number(3, 5, 45366)  # an Excel serial in a number cell: 2024-03-15
    sheet.write_row(3, 6, ["2", "320581101"])
    sheet.write_row(5, 0, ["合计", None, None, None, None, None, None, None])  # after a blank row
    workbook.close()


def report_workbook(path: Path) -> None:
    """A report with a two-row header (出生人数 over 男/女) and the period in the sheet name."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("2024年度报表")
    sheet.merge_range(0, 0, 1, 0, "区划代码")
    sheet.merge_range(0, 1, 1, 1, "单位")
    sheet.merge_range(0, 2, 0, 3, "出生人数")
    sheet.write_row(1, 2, ["男", "女"])
    sheet.merge_range(0, 4, 1, 4, "育龄妇女数")
    sheet.write_row(2, 0, ["320581101", "城关镇"])
    sheet.write_row(2, 2, [10, 9, 1200])
    sheet.write_row(3, 0, [None, "全县"])
    sheet.write_row(3, 2, [10, 9, 1200])
    workbook.close()


def police_csv(path: Path, rows: list[str]) -> None:
    text = "公民身份号码,姓名,性别,出生日期,户籍地行政区划代码,落户日期\n" + "\n".join(rows) + "\n"
    path.write_bytes(text.encode("gb18030"))


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    planning_workbook(tmp_path / "计生出生登记台账.xlsx")
    report_workbook(tmp_path / "人口计生统计报表.xlsx")
    police = tmp_path / "police"
    police.mkdir()
    police_csv(police / "公安户籍出生登记_城关镇.csv",
               [f"{CHILD},张三,男,2024/3/14,320581101203,2024-04-01",
                f"{CHILD},张三,男,2024/3/14,320581101203,2024-04-01"])
    police_csv(police / "公安户籍出生登记_南门镇.csv",
               ["3.20581E+17,李四,2,2024年5月1日,320581102,2024-05-20",
                "110105491231002,王五,1,2030-01-01,320581102,"])
    return tmp_path


def load(drop: Path, *specs: InputSpec):
    return load_inputs(list(specs), as_of=AS_OF)


def test_a_drop_loads_with_roles_inferred_from_headers_and_names(drop):
    """Planning, police (a glob of GB18030 CSVs) and report load with the right roles and kinds."""
    result = load(drop, InputSpec("计生出生登记台账.xlsx", base_dir=drop), InputSpec("police/*.csv", base_dir=drop),
                  InputSpec(str(drop / "人口计生统计报表.xlsx")))
    assert sorted(result.records) == ["planning", "police"] and sorted(result.counts) == ["report"]
    assert [(e["role"], e["kind"], e["sheet"]) for e in result.inputs] == [
        ("planning", "records", "出生登记"), ("police", "records", ""), ("police", "records", ""),
        ("report", "counts", "2024年度报表")]
    for entry in result.inputs:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_rejected"]
        assert len(entry["sha256"]) == 64 and entry["columns"]
    police = [e for e in result.inputs if e["role"] == "police"]
    assert {e["encoding"] for e in police} == {"gb18030"}
    report = result.inputs[-1]
    assert report["sheet_period"] == "2024" and report["header_row"] == 2
    assert report["columns"]["出生人数|男"] == "births_male"


def test_normalised_tables_keep_the_internal_layout(drop):
    """Record and count tables carry every internal column, sorted by file, sheet and row."""
    result = load(drop, InputSpec(str(drop / "计生出生登记台账.xlsx")), InputSpec(str(drop / "police" / "*.csv")),
                  InputSpec(str(drop / "人口计生统计报表.xlsx")))
    planning, police, report = result.records["planning"], result.records["police"], result.counts["report"]
    assert tuple(planning.columns) == tuple(police.columns) == RECORD_COLUMNS
    assert tuple(report.columns) == COUNT_COLUMNS
    assert planning[["record_id", "mother_id", "child_id", "sex", "birth_date", "area_code", "source_row"]].values.tolist() == [
        ["1", MOTHER, CHILD, "M", dt.date(2024, 3, 14), "320581101203", 3]]
    assert police["source_row"].tolist() == [2, 3]  # the duplicate is kept: a finding, not a reject
    assert police["registered_on"].dtype.pyarrow_dtype == pa.date32()
    assert report[["area_code", "period", "births", "births_male", "births_female", "women_15_49"]].values.tolist() == [
        ["320581101000", "2024", 19, 10, 9, 1200]]


def test_rejects_name_file_sheet_row_field_and_reason(drop):
    """Every problem is one reject row with its Excel/editor row number and a stable reason."""
    result = load(drop, InputSpec(str(drop / "计生出生登记台账.xlsx")), InputSpec(str(drop / "police" / "*.csv")),
                  InputSpec(str(drop / "人口计生统计报表.xlsx")))
    assert list(result.rejects.columns) == list(REJECT_COLUMNS)
    found = [(r.role, Path(r.file).name, r.sheet, r.row, r.field, r.reason_code)
             for r in result.rejects.itertuples()]
    assert found == [
        ("planning", "计生出生登记台账.xlsx", "出生登记", 4, "mother_id", "id-precision-lost"),
        ("planning", "计生出生登记台账.xlsx", "出生登记", 6, "record_id", "totals-row"),
        ("police", "公安户籍出生登记_南门镇.csv", "", 2, "child_id", "id-precision-lost"),
        ("police", "公安户籍出生登记_南门镇.csv", "", 3, "birth_date", "date-out-of-range"),
        ("report", "人口计生统计报表.xlsx", "2024年度报表", 4, "area_name", "totals-row"),
    ]
    assert result.summary()["totals"] == {"rows_read": 9, "rows_accepted": 4, "rows_rejected": 5, "problems": 5}


def test_a_given_role_and_mapping_apply_to_every_file(drop):
    """--role and a mapping settle what the headers cannot: an odd header becomes a field."""
    odd = drop / "odd.csv"
    odd.write_text("档案号,性别,生日,户口所在地代码,户口登记时间\nA1,男,2024-01-02,320581,2024-02-01\n", encoding="utf-8")
    result = load(drop, InputSpec(str(odd), role="census", mapping={"户口登记时间": "registered_on"}))
    entry = result.inputs[0]
    assert entry["role"] == "census"
    assert entry["columns"] == {"性别": "sex", "生日": "birth_date", "户口所在地代码": "area_code",
                                "户口登记时间": "registered_on"}
    assert entry["ignored_columns"] == ["档案号"]
    assert result.records["census"]["registered_on"].tolist() == [dt.date(2024, 2, 1)]


def test_an_ambiguous_role_is_a_usage_error(drop):
    """A sheet that could come from any record source asks for --role (exit 2)."""
    plain = drop / "名单.csv"
    plain.write_text("姓名,性别,出生日期,区划代码\n张三,男,2024-01-02,320581\n", encoding="utf-8")
    with pytest.raises(UsageError, match="--role") as caught:
        load(drop, InputSpec(str(plain)))
    assert caught.value.exit_code == 2


def test_missing_files_are_unreadable_input(drop):
    """A path or glob matching nothing is UnreadableInputError naming it."""
    with pytest.raises(UnreadableInputError, match="nothing-here"):
        load(drop, InputSpec(str(drop / "nothing-here*.csv")))
