"""The export forms of each source: files, sheets, title rows and columns, as offices make them.

* planning: one workbook per county (``planning/计生出生登记台账_<code>_<county>.xlsx``), one
  sheet per township named after it, each with one or two title rows (sometimes a merged title
  cell), the header, the data and, on some sheets, a blank row and a 合计 row; three county
  templates with different headers and value styles;
* police: one GBK-encoded CSV per county (``police/公安户籍出生登记_<code>_<county>.csv``),
  one of them with a title line above the header, Windows line ends;
* hospital: one UTF-8-with-BOM CSV (``hospital/住院分娩出生登记.csv``), 9-digit township codes,
  child name and ID mostly blank;
* census: one workbook with a sheet per county (``census/2025年人口变动抽样调查_儿童登记.xlsx``),
  sex as 1/2 number cells, one county's birth dates as bare Excel serial numbers;
* education: one workbook, one sheet (``education/托育机构及幼儿园入学登记.xlsx``), dates as
  real Excel date cells.

Every header is an alias of the data contract or matches one of its "ending" rules, so a
contract-following reader can place every column without a mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from fpstat.sample.geography import HEAPING, SWING, Geography
from fpstat.sample.population import EXPORT_DATE

STRING = pd.ArrowDtype(pa.string())


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    style: str


@dataclass
class SheetJob:
    """One sheet (or CSV file) to write, with its records in output order."""

    file: str                  # relative to the drop's folder
    sheet: str                 # "" for CSV
    title: tuple[str, ...]     # title rows above the header
    merge_title: bool          # first title row merged across the columns
    columns: tuple[Column, ...]
    records: pd.DataFrame      # rows in output order; index = position in the source's records
    totals: bool = False       # a 合计 row at the foot
    blank_before_totals: bool = False
    encoding: str = "utf-8"    # CSV only: "gbk" or "utf-8-sig"
    line_end: str = "\n"       # CSV only

    @property
    def header_row(self) -> int:
        return len(self.title) + 1


def C(header: str, field: str, style: str = "text") -> Column:  # noqa: N802 - a table of columns reads best short
    return Column(header, field, style)


RECORD_ID_PREFIX = {"planning": "JS", "police": "GA", "census": "PC", "hospital": "CS", "education": "JY"}

_PLANNING_TEMPLATES: dict[str, tuple[Column, ...]] = {
    "A": (
        C("编号", "record_id"), C("母亲姓名", "mother_name"), C("母亲身份证号", "mother_id", "id"),
        C("婴儿姓名", "child_name"), C("婴儿身份证号", "child_id", "id"), C("性别", "sex", "sex-zh"),
        C("出生日期", "birth_date", "date-iso"), C("孩次", "birth_order", "order-zh"),
        C("政策属性", "within_policy", "policy-zh"), C("流动人口", "migrant", "migrant-yesno"),
        C("村(居)代码", "area_code", "area12"), C("村(居)委会", "village_name"),
        C("登记日期", "registered_on", "date-iso"),
    ),
    "B": (
        C("登记编号", "record_id"), C("育龄妇女姓名", "mother_name"),
        C("育龄妇女身份证号", "mother_id", "id"), C("子女姓名", "child_name"),
        C("公民身份号码", "child_id", "id"), C("婴儿性别", "sex", "sex-zh"),
        C("婴儿出生日期", "birth_date", "date-dot"), C("生育孩次", "birth_order", "order-num"),
        C("是否符合政策", "within_policy", "policy-yesno"), C("户籍性质", "migrant", "migrant-hukou"),
        C("统计用区划代码", "area_code", "area12"), C("村（居）委会", "village_name"),
        C("申报日期", "registered_on", "date-zh"),
    ),
    "C": (
        C("记录号", "record_id"), C("姓名", "child_name"), C("身份证号码", "child_id", "id"),
        C("性别", "sex", "sex-zh"), C("出生日期", "birth_date", "date-cell"),
        C("孩次", "birth_order", "order-text"), C("母亲姓名", "mother_name"),
        C("母亲证件号码", "mother_id", "id"), C("政策内外", "within_policy", "policy-inout"),
        C("是否流动人口", "migrant", "migrant-yesno"), C("区划代码", "area_code", "area12"),
        C("村(居)委会", "village_name"), C("登记日期", "registered_on", "date-cell"),
    ),
}
POLICE_COLUMNS = (
    C("流水号", "record_id"), C("公民身份号码", "child_id", "id"), C("姓名", "child_name"),
    C("性别", "sex", "sex-zh"), C("出生日期", "birth_date", "date-slash"),
    C("母亲公民身份号码", "mother_id", "id"), C("母亲姓名", "mother_name"),
    C("户籍地行政区划代码", "area_code", "area12"), C("户籍地", "village_name"),
    C("户口登记日期", "registered_on", "date-compact"),
)
HOSPITAL_COLUMNS = (
    C("记录号", "record_id"), C("母亲姓名", "mother_name"), C("母亲身份证号", "mother_id", "id"),
    C("婴儿姓名", "child_name"), C("婴儿身份证号", "child_id", "id"), C("婴儿性别", "sex", "sex-mf"),
    C("出生时间", "birth_date", "date-compact"), C("胎次", "birth_order", "order-text"),
    C("是否流动人口", "migrant", "migrant-yesno"), C("地区代码", "area_code", "area9"),
    C("地区", "township_name"),
)
CENSUS_COLUMNS = (
    C("登记表编号", "record_id"), C("区划代码", "area_code", "area12"), C("村(居)委会", "village_name"),
    C("姓名", "child_name"), C("性别", "sex", "sex-code"), C("出生年月日", "birth_date", "date-zh"),
    C("公民身份号码", "child_id", "id"), C("母亲姓名", "mother_name"),
    C("母亲公民身份号码", "mother_id", "id"),
)
EDUCATION_COLUMNS = (
    C("学生编号", "record_id"), C("姓名", "child_name"), C("身份证号", "child_id", "id"),
    C("性别", "sex", "sex-zh"), C("出生日期", "birth_date", "date-cell"), C("母亲姓名", "mother_name"),
    C("母亲身份证号", "mother_id", "id"), C("行政区划代码", "area_code", "area12"),
    C("地区", "village_name"),
)
_EXPORTED_ON = f"{EXPORT_DATE.year}年{EXPORT_DATE.month}月{EXPORT_DATE.day}日"


def planning_template(part: int) -> str:
    return {SWING: "A", HEAPING: "B"}.get(part, "C")


def with_places(records: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    """Add village, township and county codes and names of each record's (true) area."""
    area = pa.array(records["area_code"]).cast(pa.int64()).to_numpy()
    codes, inverse = np.unique(area, return_inverse=True)
    names = geo.area_names()
    text = codes.astype(str)
    townships = (codes // 1000 * 1000).astype(str)
    columns = {
        "township_code": townships, "county_code": (codes // 10**6 * 10**6).astype(str),
        "village_name": [names.get(code) for code in text],
        "township_name": [names.get(code) for code in townships],
    }
    positions = pa.array(inverse)
    for name, values in columns.items():
        distinct = pa.array(list(values), type=pa.string())
        records[name] = pd.Series(distinct.take(positions), dtype=STRING, index=records.index)
    return records


def _sorted(records: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return records.sort_values(keys + ["birth_uid", "entry"], kind="stable")


def planning_jobs(records: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> list[SheetJob]:
    jobs = []
    ordered = _sorted(records, ["county_code", "township_code", "registered_on"])
    for county in geo.counties.itertuples():
        template = planning_template(int(county.part))
        file = f"planning/计生出生登记台账_{county.county_code[:6]}_{county.county_name}.xlsx"
        for town in geo.townships[geo.townships["county_code"] == county.county_code].itertuples():
            rows = ordered[ordered["township_code"] == town.township_code]
            if template == "B":
                title: tuple[str, ...] = (f"{town.township_name}出生登记花名册",)
            elif template == "A":
                title = (
                    f"{county.county_name}{town.township_name}计划生育出生登记台账",
                    f"填报单位：{town.township_name}计生办　　统计时段：2023年10月1日至2025年9月30日"
                    f"　　填报日期：{_EXPORTED_ON}",
                )
            else:
                title = (f"{county.county_name}{town.township_name}出生人口登记表", "单位：人")
            jobs.append(SheetJob(
                file=file, sheet=town.township_name, title=title, merge_title=template != "B",
                columns=_PLANNING_TEMPLATES[template], records=rows,
                totals=bool(rng.random() < 0.5), blank_before_totals=bool(rng.random() < 0.5),
            ))
    return jobs


def police_jobs(records: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> list[SheetJob]:
    jobs = []
    ordered = _sorted(records, ["county_code", "registered_on"])
    for county in geo.counties.itertuples():
        title = ()
        if county.part == SWING:
            title = (f"{county.county_name}公安局户籍出生登记信息（导出日期：{EXPORT_DATE.isoformat()}）",)
        jobs.append(SheetJob(
            file=f"police/公安户籍出生登记_{county.county_code[:6]}_{county.county_name}.csv",
            sheet="", title=title, merge_title=False, columns=POLICE_COLUMNS,
            records=ordered[ordered["county_code"] == county.county_code],
            encoding="gbk", line_end="\r\n",
        ))
    return jobs


def hospital_jobs(records: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> list[SheetJob]:
    return [SheetJob(
        file="hospital/住院分娩出生登记.csv", sheet="", title=(), merge_title=False,
        columns=HOSPITAL_COLUMNS, records=_sorted(records, ["birth_date"]), encoding="utf-8-sig",
    )]


def census_jobs(records: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> list[SheetJob]:
    jobs = []
    ordered = _sorted(records, ["area_code", "birth_date"])
    for county in geo.counties.itertuples():
        columns = CENSUS_COLUMNS
        if county.part == HEAPING:  # this county's enumerators typed dates as plain numbers
            columns = tuple(C(c.header, c.field, "date-serial") if c.field == "birth_date" else c for c in columns)
        jobs.append(SheetJob(
            file="census/2025年人口变动抽样调查_儿童登记.xlsx", sheet=county.county_name,
            title=("2025年全国人口变动情况抽样调查　0—2岁儿童登记表",
                   f"{county.county_name}　　标准时点：2025年11月1日零时"),
            merge_title=True, columns=columns,
            records=ordered[ordered["county_code"] == county.county_code],
            totals=bool(rng.random() < 0.5),
        ))
    return jobs


def education_jobs(records: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> list[SheetJob]:
    return [SheetJob(
        file="education/托育机构及幼儿园入学登记.xlsx", sheet="入学登记",
        title=("2025年托育机构及幼儿园入学（托）登记",), merge_title=False,
        columns=EDUCATION_COLUMNS, records=_sorted(records, ["area_code", "birth_date"]),
    )]


JOBS = {
    "planning": planning_jobs, "police": police_jobs, "census": census_jobs,
    "hospital": hospital_jobs, "education": education_jobs,
}
