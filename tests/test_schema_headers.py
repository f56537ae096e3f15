"""Header matching, column assignment, mapping files and role inference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpstat.errors import MappingError, UsageError
from fpstat.schema import infer_role, read_mapping
from fpstat.schema.headers import assign_columns, header_scorer, match_header, normalise_header
from fpstat.schema.roles import resolve_role


def field_of(header: str) -> str | None:
    names = match_header(header)[1]
    assert len(names) <= 1, names
    return next(iter(names), None)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("出生日期", "birth_date"), (" 出生日期 ", "birth_date"), ("出 生 日 期", "birth_date"),
        ("出生日期（年月日）", "birth_date"), ("公民身份号码", "child_id"), ("身份证号", "child_id"),
        ("母亲身份证号", "mother_id"), ("育龄妇女身份证号", "mother_id"), ("丈夫身份证号", "father_id"),
        ("村(居)代码", "area_code"), ("村（居）代码", "area_code"), ("户籍地行政区划代码", "area_code"),
        ("孩次", "birth_order"), ("政策属性", "within_policy"), ("户籍性质", "migrant"),
        ("落户日期", "registered_on"), ("年末总人口（人）", "population"), ("出生人数(人)", "births"),
        ("统计年度", "period"), ("已落实节育措施", "contraceptive_users"), ("*姓名", "child_name"),
        ("child_id", "child_id"), ("CHILD_ID", "child_id"), ("Date of Birth", "birth_date"),
        ("Sex", "sex"), ("ID number", "child_id"), ("ｓｅｘ", "sex"), ("women_15_49", "women_15_49"),
    ],
)
def test_aliases_match_ignoring_spaces_width_case_and_units(header, field):
    """Contract aliases and canonical names match whatever the spacing, width, case or unit."""
    assert field_of(header) == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("出生医学证明编号", "record_id"), ("儿童性别", "sex"), ("婴儿出生年月日", "birth_date"),
        ("出生地行政区划代码", "area_code"), ("现住地代码", "area_code"), ("居委会代码", "area_code"),
        ("母亲有效证件号码", "mother_id"), ("母亲的公民身份号码", "mother_id"), ("新生儿的姓名", "child_name"),
    ],
)
def test_headers_that_are_no_alias_match_by_their_ending(header, field):
    """...编号, ...性别, ...出生日期, place ...代码, 母亲...证件号码, 新生儿...姓名 match by ending."""
    assert field_of(header) == field
    assert match_header(header)[0] == 2


@pytest.mark.parametrize(
    "header", ["母亲出生日期", "母亲性别", "身份证编号", "医院代码", "民族代码", "备注", "", "母亲编号",
               "户主姓名", "户主身份证号"]
)
def test_endings_never_claim_a_parent_or_an_unrelated_column(header):
    """A parent's birth date or sex, a hospital code or a remark is no child field."""
    assert field_of(header) is None


@pytest.mark.parametrize(
    ("header", "field"),
    [("出生人数|男", "births_male"), ("出生人数|女", "births_female"), ("出生人数|合计", "births"),
     ("出生人数|小计", "births"), ("出生人数|其中：男", "births_male"), ("出生人数|一孩", "births_order_1"),
     ("出生人数|多孩", "births_order_3plus"), ("育龄妇女数|已婚", "married_women_15_49"),
     ("基本情况|行政区划代码", "area_code"), ("出生|男", "births_male"), ("母亲|姓名", "mother_name"),
     ("母亲信息|身份证号", "mother_id"), ("母亲信息|姓名", "mother_name"), ("婴儿信息|姓名", "child_name"),
     ("母亲|出生日期", None), ("户主|姓名", None), ("基本信息|出生日期", "birth_date")],
)
def test_two_row_headers_read_group_and_sub_together(header, field):
    """group|sub headers: births by sex/order, totals, a full sub-header, a parent's columns."""
    assert field_of(header) == field


@given(st.text(max_size=40))
def test_header_matching_never_raises(text):
    """Any text at all can be matched and scored without an exception."""
    match_header(text)
    header_scorer([text, None, text + "|" + text])
    normalise_header(text)


def test_header_scorer_prefers_the_header_row():
    """The header row scores above the title row and the data rows."""
    title = ["XX县2025年度出生登记台账", None, None]
    header = ["序号", "婴儿姓名", "性别", "出生日期", "村(居)代码"]
    data = ["1", "张三", "男", "2024-01-02", "320581101203"]
    assert header_scorer(header) > header_scorer(title)
    assert header_scorer(header) > header_scorer(data)
    assert header_scorer(data) == 0


def test_assignment_lists_used_and_ignored_columns():
    """Each header lands on its field; unknown headers are listed as ignored."""
    headers = ["序号", "姓名", "性别", "出生日期", "村(居)代码", "备注", ""]
    assignment = assign_columns(headers, "records")
    assert assignment.used() == {"序号": "record_id", "姓名": "child_name", "性别": "sex",
                                 "出生日期": "birth_date", "村(居)代码": "area_code"}
    assert assignment.ignored == ["备注"]


def test_a_stronger_header_beats_a_weak_one_for_the_same_field():
    """An office's own 登记编号 is the record id, not the row ordinal 序号."""
    assignment = assign_columns(["序号", "登记编号", "性别"], "records")
    assert assignment.used() == {"登记编号": "record_id", "性别": "sex"}
    assert assignment.ignored == ["序号"]


def test_two_headers_for_one_field_is_an_error_naming_both():
    """Two equally good headers for area_code: MappingError naming both headers."""
    with pytest.raises(MappingError) as caught:
        assign_columns(["出生地行政区划代码", "现住地代码", "性别"], "records", file="a.csv")
    assert "出生地行政区划代码" in str(caught.value) and "现住地代码" in str(caught.value)
    assert caught.value.exit_code == 2


def test_every_alias_names_exactly_one_field():
    """No alias of the contract is shared by two fields, so an alias alone is never ambiguous."""
    from fpstat.schema import fields as contract

    seen: dict[str, str] = {}
    for name, aliases in {**contract.ALIASES, **contract.WEAK_ALIASES}.items():
        for alias in (*aliases, name):
            key = normalise_header(alias)
            assert seen.setdefault(key, name) == name, (alias, seen[key], name)


def test_a_header_naming_two_fields_is_an_error(monkeypatch):
    """A header that matches two fields is a MappingError naming the header and both fields."""
    from fpstat.schema import headers

    monkeypatch.setattr(headers, "match_header", lambda header: (3, frozenset({"sex", "birth_date"})))
    with pytest.raises(MappingError, match="性别出生日期.*birth_date, sex"):
        headers.assign_columns(["性别出生日期"], "records")
    assert headers.assign_columns(["性别出生日期"], "records", {"性别出生日期": "sex"}).used() == {
        "性别出生日期": "sex"}


def test_explicit_mapping_settles_a_clash_and_places_unknown_headers():
    """A mapping picks one of two clashing headers, drops the other and names a new one."""
    headers = ["出生地行政区划代码", "现住地代码", "性别", "户口登记时间"]
    mapping = {"现住地代码": "area_code", "户口登记时间": "registered_on"}
    assignment = assign_columns(headers, "records", mapping)
    assert assignment.used() == {"现住地代码": "area_code", "性别": "sex", "户口登记时间": "registered_on"}
    assert assignment.ignored == ["出生地行政区划代码"]
    dropped = assign_columns(headers, "records", {"出生地行政区划代码": ""})
    assert dropped.used()["现住地代码"] == "area_code"


def test_mapping_to_an_unknown_field_is_a_usage_error():
    """A mapping target that is no contract field is refused, naming the field."""
    with pytest.raises(MappingError, match="birthday"):
        assign_columns(["出生日期"], "records", {"出生日期": "birthday"})


def test_count_and_record_tables_use_their_own_fields():
    """年度 is a period in a count table and ignored in a record table."""
    assert assign_columns(["年度", "区划代码", "出生人数"], "counts").used() == {
        "年度": "period", "区划代码": "area_code", "出生人数": "births"}
    assert "年度" in assign_columns(["年度", "区划代码", "性别"], "records").ignored


def test_mapping_files_in_toml_and_json(tmp_path):
    """A mapping file is TOML (top level or [mapping]) or JSON; anything else is a UsageError."""
    (tmp_path / "m.toml").write_text('"户口登记日期" = "registered_on"\n', encoding="utf-8")
    (tmp_path / "t.toml").write_text('[mapping]\n"户口登记日期" = "registered_on"\n', encoding="utf-8")
    (tmp_path / "m.json").write_text('{"户口登记日期": "registered_on"}', encoding="utf-8")
    expected = {"户口登记日期": "registered_on"}
    assert read_mapping(tmp_path / "m.toml") == read_mapping(tmp_path / "t.toml") == expected
    assert read_mapping(tmp_path / "m.json") == expected
    (tmp_path / "bad.toml").write_text("a = [1, 2]\n", encoding="utf-8")
    with pytest.raises(UsageError):
        read_mapping(tmp_path / "bad.toml")
    with pytest.raises(UsageError):
        read_mapping(tmp_path / "missing.toml")


PLANNING = ["序号", "育龄妇女姓名", "母亲身份证号", "婴儿姓名", "性别", "出生日期", "孩次", "政策属性",
            "户籍性质", "村(居)代码"]
POLICE = ["公民身份号码", "姓名", "性别", "出生日期", "户籍地行政区划代码", "落户日期", "派出所"]
HOSPITAL = ["住院号", "产妇姓名", "母亲身份证号", "新生儿性别", "出生日期", "分娩医院", "行政区划代码"]
CENSUS = ["普查小区", "户编号", "姓名", "性别", "出生日期", "区划代码"]
SCHOOL = ["学籍号", "姓名", "性别", "出生日期", "学校名称", "班级", "户籍地行政区划代码"]


@pytest.mark.parametrize(
    ("headers", "hint", "role"),
    [(PLANNING, "计生出生登记台账.xlsx", "planning"), (PLANNING, "", "planning"),
     (POLICE, "公安户籍出生登记.csv", "police"), (POLICE, "", "police"),
     (HOSPITAL, "住院分娩登记.xlsx", "hospital"), (HOSPITAL, "", "hospital"),
     (CENSUS, "第七次人口普查 儿童.csv", "census"), (SCHOOL, "入学登记.xlsx", "education"),
     (["区划代码", "统计年度", "出生人数", "育龄妇女数", "已落实节育措施"], "", "report"),
     (["区划代码", "年度", "年末总人口"], "", "population"),
     (["区划代码", "年度", "出生人数|男", "出生人数|女"], "公安户籍出生统计.xlsx", "police"),
     (["区划代码", "年度", "出生人数"], "计生统计报表.xlsx", "report")],
)
def test_roles_are_inferred_from_headers_and_file_names(headers, hint, role):
    """Distinguishing headers and file/title words tell the source; structure tells count roles."""
    assert infer_role(headers, hint) == role


def test_a_record_table_without_distinguishing_words_has_no_role():
    """Plain 姓名/性别/出生日期/区划代码 could be any source: no guess."""
    assert infer_role(["姓名", "性别", "出生日期", "区划代码"]) is None
    with pytest.raises(UsageError, match="--role"):
        resolve_role(["姓名", "性别", "出生日期", "区划代码"], None, hint="a.csv", file="a.csv", sheet="")


def test_equally_likely_roles_ask_for_role():
    """A sheet pointing equally to police and hospital is a UsageError naming both."""
    headers = ["姓名", "性别", "出生日期", "区划代码"]
    with pytest.raises(UsageError, match="police or hospital|hospital or police"):
        resolve_role(headers, None, hint="公安 医院", file="a.csv", sheet="")


def test_a_given_role_decides_the_kind():
    """A police count table is kind counts; the planning register can never be one."""
    counts = ["区划代码", "年度", "出生人数"]
    assert resolve_role(counts, "police", hint="", file="f", sheet="") == ("police", "counts")
    assert resolve_role(PLANNING, "police", hint="", file="f", sheet="") == ("police", "records")
    with pytest.raises(UsageError, match="report"):
        resolve_role(counts, "planning", hint="", file="f", sheet="")
    with pytest.raises(UsageError, match="unknown role"):
        resolve_role(counts, "polis", hint="", file="f", sheet="")
