"""The data contract: roles, the fields of record and count tables, and the headers that name them.

Canonical names are English snake_case (``docs/internals.md``); every field also lists the
Chinese headers that real exports use (``spec/data-contract.md``) and a few English ones. The
canonical name itself always matches. How a header is compared with these lists (spaces,
full-width forms, case, bracketed units, endings) is :mod:`fpstat.schema.headers`.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

#: Record-level sources, one row per birth or child. ``planning`` is the register under audit.
RECORD_ROLES: tuple[str, ...] = ("planning", "police", "census", "hospital", "education")
#: Aggregate sources, one row per area x period.
COUNT_ROLES: tuple[str, ...] = ("report", "population")
ROLES: tuple[str, ...] = RECORD_ROLES + COUNT_ROLES
ROLE_ZH: dict[str, str] = {
    "planning": "计生部门出生登记",
    "police": "公安户籍",
    "census": "人口普查/抽样调查",
    "hospital": "住院分娩/出生医学证明",
    "education": "入学登记",
    "report": "统计报表",
    "population": "统计局人口",
}

#: Fields of a birth record, in the column order of the normalised record table.
RECORD_FIELDS: tuple[str, ...] = (
    "record_id", "child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
    "father_id", "area_code", "area_name", "birth_order", "within_policy", "registered_on",
    "migrant",
)
#: Fields of an aggregate (count) table, in column order.
COUNT_FIELDS: tuple[str, ...] = (
    "area_code", "area_name", "period", "population", "population_mean", "births",
    "births_male", "births_female", "births_within_policy", "deaths", "women_15_49",
    "married_women_15_49", "contraceptive_users", "births_order_1", "births_order_2",
    "births_order_3plus", "birth_defects", "migrant_women", "migrant_women_registered",
)
REQUIRED_RECORD_FIELDS: tuple[str, ...] = ("birth_date", "sex", "area_code")
REQUIRED_COUNT_FIELDS: tuple[str, ...] = ("area_code", "period")
ID_FIELDS: tuple[str, ...] = ("child_id", "mother_id", "father_id")
DATE_FIELDS: tuple[str, ...] = ("birth_date", "registered_on")
NUMBER_FIELDS: tuple[str, ...] = tuple(
    name for name in COUNT_FIELDS if name not in ("area_code", "area_name", "period")
)
#: Count columns only an office's own report tables carry (they tell a report from other counts).
REPORT_ONLY_FIELDS: frozenset[str] = frozenset({
    "births_within_policy", "women_15_49", "married_women_15_49", "contraceptive_users",
    "births_order_1", "births_order_2", "births_order_3plus", "birth_defects",
    "migrant_women", "migrant_women_registered",
})
BIRTH_COUNT_FIELDS: frozenset[str] = frozenset({"births", "births_male", "births_female"})
POPULATION_FIELDS: frozenset[str] = frozenset({"population", "population_mean"})
ALL_FIELDS: tuple[str, ...] = RECORD_FIELDS + tuple(f for f in COUNT_FIELDS if f not in RECORD_FIELDS)

#: Headers seen in exports, per field (compared after normalisation, see ``headers``).
ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("编号", "记录号", "流水号", "登记编号", "记录编号", "record id", "record no"),
    "child_id": (
        "公民身份号码", "身份证号", "身份证号码", "证件号码", "婴儿身份证号", "婴儿公民身份号码",
        "子女身份证号", "新生儿身份证号", "id number", "id no", "resident id", "citizen id",
        "national id",
    ),
    "child_name": ("姓名", "婴儿姓名", "子女姓名", "孩子姓名", "新生儿姓名", "name", "child name"),
    "sex": ("性别", "婴儿性别", "新生儿性别", "子女性别", "gender"),
    "birth_date": (
        "出生日期", "出生时间", "生日", "出生年月日", "婴儿出生日期", "分娩日期", "分娩时间",
        "date of birth", "birth date", "dob", "birthday",
    ),
    "mother_id": (
        "母亲身份证号", "母亲公民身份号码", "母亲证件号码", "育龄妇女身份证号", "母亲身份证号码",
        "育龄妇女公民身份号码", "产妇身份证号", "mother id", "mother id number",
    ),
    "mother_name": ("母亲姓名", "育龄妇女姓名", "妻子姓名", "产妇姓名", "mother name"),
    "father_id": (
        "父亲身份证号", "丈夫身份证号", "父亲公民身份号码", "丈夫公民身份号码", "父亲证件号码",
        "father id", "father id number",
    ),
    "area_code": (
        "行政区划代码", "统计用区划代码", "区划代码", "地区代码", "村(居)代码", "户籍地行政区划代码",
        "area code", "admin code", "division code",
    ),
    "area_name": (
        "地区", "单位", "村(居)委会", "乡镇(街道)", "户籍地", "地区名称", "单位名称", "区划名称",
        "行政区划名称", "乡镇", "乡镇街道", "村居委会", "area", "area name", "region",
    ),
    "birth_order": ("孩次", "生育孩次", "胎次", "birth order", "parity"),
    "within_policy": ("政策属性", "是否符合政策", "政策内外", "符合政策", "within policy", "policy"),
    "registered_on": (
        "登记日期", "落户日期", "申报日期", "户口登记日期", "registration date", "registered on",
        "registered",
    ),
    "migrant": ("流动人口", "是否流动人口", "户籍性质", "migrant", "floating population"),
    "period": (
        "统计年度", "年度", "年份", "报告期", "月份", "季度", "统计期", "统计月份", "年月", "时期",
        "period", "year", "month", "quarter",
    ),
    "population": ("总人口", "年末总人口", "户籍人口", "人口数", "年末人口", "total population"),
    "population_mean": ("年平均人口", "平均人口", "年均人口", "mean population"),
    "births": ("出生人数", "出生数", "出生人口", "出生总数", "出生合计", "出生人数合计"),
    "births_male": ("出生男", "出生男孩", "男孩出生数", "出生人数男", "出生男婴", "男婴出生数"),
    "births_female": ("出生女", "出生女孩", "女孩出生数", "出生人数女", "出生女婴", "女婴出生数"),
    "births_within_policy": (
        "符合政策生育数", "政策内出生", "政策内出生数", "符合政策出生数", "符合政策出生人数",
    ),
    "deaths": ("死亡人数", "死亡数", "死亡人口"),
    "women_15_49": ("育龄妇女数", "育龄妇女人数", "15-49岁育龄妇女数", "15-49岁妇女数"),
    "married_women_15_49": ("已婚育龄妇女数", "已婚育龄妇女人数", "已婚育龄妇女"),
    "contraceptive_users": (
        "落实节育措施人数", "已落实节育措施", "落实节育措施", "已落实节育措施人数", "采取节育措施人数",
    ),
    "births_order_1": ("一孩", "一孩出生数", "一孩出生", "一孩数"),
    "births_order_2": ("二孩", "二孩出生数", "二孩出生", "二孩数"),
    "births_order_3plus": ("多孩", "三孩及以上", "三孩及以上出生数", "多孩出生数", "三孩"),
    "birth_defects": ("出生缺陷数", "出生缺陷", "出生缺陷儿数", "缺陷儿数"),
    "migrant_women": ("流动育龄妇女数", "流入育龄妇女数", "流动人口育龄妇女数"),
    "migrant_women_registered": (
        "流动育龄妇女建档数", "已建档流动育龄妇女数", "流动人口建档数", "已建档流动育龄妇女",
    ),
}

#: Aliases that name a field only when nothing better does: a ``序号`` column is usually a
#: row ordinal, so a real ``...编号`` column beats it (see ``headers.assign_columns``).
WEAK_ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("序号", "no", "id"),
}

#: Words (in headers, file, sheet and title text) that point to one role. Planning's are the
#: register's own columns; a police file says 公安/户籍, a hospital's 住院分娩, and so on.
ROLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "planning": ("计生", "计划生育", "育龄妇女", "政策属性", "孩次", "planning"),
    "police": ("公安", "户籍", "户口", "派出所", "落户", "police", "hukou"),
    "census": ("普查", "调查", "census", "survey"),
    "hospital": ("医院", "住院", "分娩", "出生医学证明", "助产", "产妇", "hospital", "delivery"),
    "education": ("学校", "入学", "学籍", "幼儿园", "班级", "年级", "school", "enrol"),
    "report": ("报表", "月报", "季报", "年报", "report"),
    "population": ("统计局", "人口统计", "population"),
}


def _arrow_type(field: str) -> pa.DataType:
    if field in ("birth_date", "registered_on", "child_id_birth_date"):
        return pa.date32()
    if field == "birth_order" or field in NUMBER_FIELDS or field == "source_row":
        return pa.int64()
    if field in ("within_policy", "migrant"):
        return pa.bool_()
    return pa.string()


#: Columns of the normalised record table (docs/internals.md), plus the birth date and sex
#: decoded from ``child_id`` for the ``id.inconsistent`` check.
RECORD_COLUMNS: tuple[str, ...] = (
    ("role",) + RECORD_FIELDS
    + ("child_id_birth_date", "child_id_sex", "source_file", "source_sheet", "source_row")
)
COUNT_COLUMNS: tuple[str, ...] = ("role",) + COUNT_FIELDS + ("source_file", "source_sheet", "source_row")
REJECT_COLUMNS: tuple[str, ...] = (
    "role", "file", "sheet", "row", "field", "value", "reason_code", "reason_en", "reason_zh",
)

RECORD_SCHEMA = pa.schema([(name, _arrow_type(name)) for name in RECORD_COLUMNS])
COUNT_SCHEMA = pa.schema([(name, _arrow_type(name)) for name in COUNT_COLUMNS])
REJECT_SCHEMA = pa.schema(
    [(name, pa.int64() if name == "row" else pa.string()) for name in REJECT_COLUMNS]
)


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """A pandas DataFrame with Arrow-backed dtypes (the form every stage passes on)."""
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def empty_records() -> pd.DataFrame:
    """A normalised record table with no rows and every column typed."""
    return frame_from_arrow(RECORD_SCHEMA.empty_table())


def empty_counts() -> pd.DataFrame:
    """A normalised count table with no rows and every column typed."""
    return frame_from_arrow(COUNT_SCHEMA.empty_table())


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows."""
    return frame_from_arrow(REJECT_SCHEMA.empty_table())


def fields_of_kind(kind: str) -> tuple[str, ...]:
    """The contract fields of ``"records"`` or ``"counts"`` tables."""
    return RECORD_FIELDS if kind == "records" else COUNT_FIELDS
