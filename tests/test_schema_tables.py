"""One sheet -> normalised table + rejects: the promises about rows, on hand-built RawSheets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpstat.errors import MappingError, UsageError
from fpstat.io import RawSheet
from fpstat.schema import COUNT_COLUMNS, RECORD_COLUMNS, REJECT_COLUMNS, InputSpec
from fpstat.schema.load import load_sheet, sheet_period, sheet_year

AS_OF = dt.date(2025, 6, 30)
GOOD_ID = "11010519491231002X"


def raw_sheet(headers, rows, kinds=None, *, source="exports/计生出生登记.xlsx", sheet="Sheet1",
              title=(), first_row=3) -> RawSheet:
    """A RawSheet as fpstat.io would give it: text cells, kinds, Excel row numbers."""
    columns = {f"c{i}": pd.Series([row[i] for row in rows], dtype="string[pyarrow]")
               for i in range(len(headers))}
    if kinds is None:
        kinds = [["s" if value is not None else None for value in row] for row in rows]
    kind_columns = {f"c{i}": pd.Series([row[i] for row in kinds], dtype="string[pyarrow]")
                    for i in range(len(headers))}
    return RawSheet(source=source, path=Path(source), sheet=sheet, format="xlsx", encoding=None,
                    sha256="0" * 64, header_row=first_row - 1, headers=list(headers),
                    cells=pd.DataFrame(columns), kinds=pd.DataFrame(kind_columns),
                    rows=np.arange(first_row, first_row + len(rows), dtype=np.int64), title=list(title))


def load(sheet: RawSheet, role=None, mapping=None):
    """(role, kind, table, columns used, ignored headers) of one sheet."""
    loaded = load_sheet(sheet, InputSpec(path=sheet.source, role=role, mapping=mapping), as_of=AS_OF)
    return loaded.role, loaded.kind, loaded.table, loaded.columns, loaded.ignored


PLANNING = ["序号", "育龄妇女姓名", "母亲身份证号", "婴儿姓名", "性别", "出生日期", "孩次", "政策属性",
            "户籍性质", "村(居)代码", "婴儿身份证号"]


def planning_row(number="1", mother_id="110105491231002", sex="男", born="2020/7/14", order="一孩",
                 policy="政策内", migrant="本地", area="320581101", child_id=None):
    return [number, "王芳", mother_id, "李明", sex, born, order, policy, migrant, area, child_id]


def test_record_table_has_every_internal_column_with_arrow_types():
    """The normalised record table has docs/internals.md's columns and Arrow-backed dtypes."""
    role, kind, table, columns, ignored = load(raw_sheet(PLANNING, [planning_row()]))
    assert (role, kind) == ("planning", "records")
    frame = table.table
    assert tuple(frame.columns) == RECORD_COLUMNS
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in frame.dtypes)
    assert frame["birth_date"].dtype.pyarrow_dtype == pa.date32()
    assert frame["birth_order"].dtype.pyarrow_dtype == pa.int64()
    assert frame["within_policy"].dtype.pyarrow_dtype == pa.bool_()
    record = frame.iloc[0]
    assert record["mother_id"] == "11010519491231002X"
    assert record["area_code"] == "320581101000"
    assert (record["sex"], record["birth_order"], record["within_policy"], record["migrant"]) == ("M", 1, True, False)
    assert (record["source_file"], record["source_sheet"], record["source_row"]) == (
        "exports/计生出生登记.xlsx", "Sheet1", 3)
    assert columns["村(居)代码"] == "area_code" and ignored == []


def test_a_row_with_several_problems_gives_one_reject_per_field_and_counts_once():
    """Bad sex, date and ID in one row: three reject rows, one rejected row."""
    sheet = raw_sheet(PLANNING, [planning_row(), planning_row("2", "11010519491231002Y", "X", "2020-02-30")])
    _, _, table, _, _ = load(sheet)
    assert (table.rows_read, table.rows_accepted, table.rows_rejected) == (2, 1, 1)
    rejects = table.rejects
    assert list(rejects.columns) == list(REJECT_COLUMNS)
    assert sorted(zip(rejects["row"], rejects["field"], rejects["reason_code"], strict=True)) == [
        (4, "birth_date", "invalid-date"), (4, "mother_id", "id-invalid"), (4, "sex", "invalid-sex")]
    assert set(rejects["reason_zh"]) and rejects["reason_en"].notna().all()


def test_rejected_ids_are_masked_in_the_rejects():
    """A rejected ID appears masked (area and last four only), never in full."""
    _, _, table, _, _ = load(raw_sheet(PLANNING, [planning_row(mother_id="11010519491231002Y")]))
    assert table.rejects["value"].tolist() == ["110105********002Y"]


def test_missing_required_values_are_rejected_by_field():
    """A blank birth date, sex or area code is missing-value, naming the field."""
    rows = [planning_row(born=None), planning_row(sex=None), planning_row(area=None)]
    _, _, table, _, _ = load(raw_sheet(PLANNING, rows))
    assert table.rows_rejected == 3
    assert table.rejects[["row", "field", "reason_code"]].values.tolist() == [
        [3, "birth_date", "missing-value"], [4, "sex", "missing-value"], [5, "area_code", "missing-value"]]


def test_totals_rows_are_set_aside_with_one_reject():
    """A 合计 row is one totals-row reject, its other cells unchecked; rows_read counts it."""
    rows = [planning_row(), ["合  计", None, None, None, None, None, None, None, None, None, None]]
    _, _, table, _, _ = load(raw_sheet(PLANNING, rows))
    assert (table.rows_read, table.rows_accepted, table.rows_rejected) == (2, 1, 1)
    assert table.rejects[["row", "field", "value", "reason_code"]].values.tolist() == [
        [4, "record_id", "合  计", "totals-row"]]


def test_record_ids_fall_back_to_file_sheet_row():
    """Without a record number column, or with a blank one, record_id is file:sheet:row."""
    headers = ["姓名", "性别", "出生日期", "户籍地行政区划代码", "派出所"]
    rows = [["张三", "男", "2020-01-01", "320581101203", "城关派出所"]] * 2
    _, _, table, _, _ = load(raw_sheet(headers, rows, source="police.csv", sheet=""), role="police")
    assert table.table["record_id"].tolist() == ["police.csv::3", "police.csv::4"]
    _, _, table, _, _ = load(raw_sheet(PLANNING, [planning_row(number=None), planning_row(number="7")]))
    assert table.table["record_id"].tolist() == ["exports/计生出生登记.xlsx:Sheet1:3", "7"]


def test_duplicates_are_accepted():
    """The same birth twice is two accepted rows: duplicates are findings, not rejects."""
    _, _, table, _, _ = load(raw_sheet(PLANNING, [planning_row(), planning_row()]))
    assert table.rows_rejected == 0 and len(table.table) == 2


def test_child_id_birth_date_and_sex_are_decoded_for_the_inconsistency_check():
    """The child's ID gives child_id_birth_date and child_id_sex, even when they disagree."""
    _, _, table, _, _ = load(raw_sheet(PLANNING, [planning_row(child_id=GOOD_ID, born="2020-01-01")]))
    record = table.table.iloc[0]
    assert record["child_id"] == GOOD_ID
    assert record["child_id_birth_date"] == dt.date(1949, 12, 31) and record["child_id_sex"] == "F"
    assert record["birth_date"] == dt.date(2020, 1, 1) and record["sex"] == "M"


def test_ids_from_number_cells_are_precision_lost():
    """An 18-digit ID that the workbook stored as a number is rejected id-precision-lost."""
    row = planning_row(mother_id="110105194912310000")
    kinds = [["s" if v is not None else None for v in row]]
    kinds[0][2] = "n"
    _, _, table, _, _ = load(raw_sheet(PLANNING, [row], kinds))
    assert table.rejects["reason_code"].tolist() == ["id-precision-lost"]


def test_a_missing_required_column_is_a_mapping_error():
    """A record sheet with no area column cannot be used: MappingError listing the headers."""
    with pytest.raises(MappingError, match="area_code"):
        load(raw_sheet(["姓名", "性别", "出生日期"], [["张三", "男", "2020-01-01"]]), role="police")


REPORT = ["区划代码", "单位", "出生人数|男", "出生人数|女", "育龄妇女数", "已落实节育措施"]


def test_count_table_from_a_report_sheet_with_the_period_in_its_name():
    """Period from the sheet name, births = boys + girls, totals and 全县 rows set aside."""
    rows = [["320581101", "城关镇", "10", "9", "1,200", "800"],
            ["320581102", "南门镇", "5", "—", "900", "12.5"],
            [None, "全县", "15", "9", "2100", "800"],
            ["合计", None, "15", "9", "2100", "800"]]
    sheet = raw_sheet(REPORT, rows, sheet="2024年度报表", source="人口计生统计报表.xlsx")
    role, kind, table, _, _ = load(sheet)
    assert (role, kind) == ("report", "counts")
    frame = table.table
    assert tuple(frame.columns) == COUNT_COLUMNS
    assert frame[["area_code", "period", "births", "births_male", "women_15_49"]].values.tolist() == [
        ["320581101000", "2024", 19, 10, 1200]]
    assert table.rejects[["row", "field", "reason_code"]].values.tolist() == [
        [4, "contraceptive_users", "invalid-number"], [5, "area_name", "totals-row"],
        [6, "area_code", "totals-row"]]
    assert table.rows_read == 4 and table.rows_rejected == 3


def test_month_only_periods_take_the_year_from_the_title():
    """A monthly sheet writing 3月 under a 2024 title gives period 2024-03."""
    headers = ["区划代码", "月份", "出生人数"]
    sheet = raw_sheet(headers, [["320581", "3月", "4"]], title=["XX县2024年人口计生月报"], sheet="月报")
    _, _, table, _, _ = load(sheet, role="report")
    assert table.table["period"].tolist() == ["2024-03"]


def test_a_count_table_without_any_period_is_a_usage_error():
    """No period column and no period in the sheet name or title: UsageError naming the sheet."""
    sheet = raw_sheet(["区划代码", "出生人数"], [["320581", "4"]], sheet="汇总")
    with pytest.raises(UsageError, match="period") as caught:
        load(sheet, role="report")
    assert caught.value.location.sheet == "汇总"


@pytest.mark.parametrize(
    ("name", "title", "period", "year"),
    [("2024年度报表", [], "2024", 2024), ("2024统计年度", [], "2024SY", 2024),
     ("Sheet1", ["XX县2025年度出生登记台账"], "2025", 2025), ("2024年3月", [], "2024-03", 2024),
     ("2023-2024", [], None, None), ("月报", ["2024年1-12月"], "2024", 2024)],
)
def test_periods_from_sheet_names_and_titles(name, title, period, year):
    """A sheet's single named period is used; two different ones are no period at all."""
    assert sheet_period(name, title) == period
    assert sheet_year(name, title) == year


cell_values = {
    "sex": st.sampled_from(["男", "女", "1", "2", "X", None]),
    "born": st.sampled_from(["2020-01-01", "2020/2/30", "20191231", "43831", "1800-01-01", None]),
    "area": st.sampled_from(["320581101", "320581101203", "3205811", None]),
    "mother_id": st.sampled_from([GOOD_ID, "110105491231002", "3.1E+17", "110105194912310021", None]),
    "number": st.sampled_from(["1", "合计", "小 计", None]),
    "order": st.sampled_from(["一孩", "2", "0", None]),
}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.fixed_dictionaries(cell_values), min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_no_row_is_ever_lost(rows, random):
    """rows_read = accepted + rejected; each row is either in the table or in the rejects."""
    cells = [planning_row(number=r["number"], mother_id=r["mother_id"], sex=r["sex"], born=r["born"],
                          order=r["order"], area=r["area"]) for r in rows]
    _, _, table, _, _ = load(raw_sheet(PLANNING, cells))
    assert table.rows_read == len(rows) == table.rows_accepted + table.rows_rejected
    accepted = set(table.table["source_row"])
    rejected = set(table.rejects["row"])
    assert accepted.isdisjoint(rejected)
    assert accepted | rejected == set(range(3, 3 + len(rows)))
    assert len(rejected) == table.rows_rejected <= len(table.rejects)
    # Row order does not matter: shuffled rows (keeping their row numbers) give the same split.
    order = list(range(len(rows)))
    random.shuffle(order)
    shuffled = raw_sheet(PLANNING, [cells[i] for i in order])
    shuffled.rows = np.array([3 + i for i in order], dtype=np.int64)
    _, _, again, _, _ = load(shuffled)
    assert set(again.table["source_row"]) == accepted
    assert sorted(map(tuple, again.rejects[["row", "field", "reason_code"]].values.tolist())) == sorted(
        map(tuple, table.rejects[["row", "field", "reason_code"]].values.tolist()))
