"""Writing ``report/人口计生统计报表.xlsx``: the office's report sheets and the bureau's table.

Laid out like a report a county sends upward: a merged title, a line naming the reporting unit,
the header, township rows grouped by county each followed by a 小计 row, and a 合计 row per
statistical year. Area codes are text (9-digit township codes in the annual sheet, 12-digit in
the monthly one, 6-digit county codes in the bureau's); figures are number cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from fpstat import rundir
from fpstat.sample.exports import CREATED, TOTALS_LABEL
from fpstat.sample.geography import PREFECTURE_NAME, Geography
from fpstat.sample.population import EXPORT_DATE, PERIODS
from fpstat.sample.reports import (
    ANNUAL,
    ANNUAL_COLUMNS,
    BUREAU,
    BUREAU_COLUMNS,
    MONTHLY,
    MONTHLY_COLUMNS,
    REPORT_FILE,
    ReportTables,
)

SUBTOTAL_LABEL = "小计"
_REPORTED_ON = f"{EXPORT_DATE.year}年{EXPORT_DATE.month}月{EXPORT_DATE.day}日"


def _with_totals(rows: pd.DataFrame, columns: tuple[tuple[str, str], ...], label: str,
                 period_text: str | None) -> pd.DataFrame:
    """``rows`` followed by one totals row (label in the name column, code blank)."""
    numeric = [name for _, name in columns if name not in ("code", "code6", "code9", "name", "period_text")]
    total: dict[str, Any] = {name: int(rows[name].sum()) for name in numeric}
    total.update({"name": label, "period_text": period_text, "is_total": True})
    return pd.concat([rows.assign(is_total=False), pd.DataFrame([total])], ignore_index=True)


def annual_rows(tables: ReportTables, geo: Geography) -> pd.DataFrame:
    """The annual sheet's rows in order: per year, counties' townships + 小计, then 合计."""
    blocks = []
    annual = tables.annual.assign(code9=tables.annual["township_code"].str.slice(0, 9),
                                  period_text=tables.annual["sy"].str.slice(0, 4) + "统计年度")
    for sy in PERIODS:
        year_blocks = []
        for county in sorted(geo.counties["county_code"]):
            rows = annual[(annual["sy"] == sy) & (annual["county_code"] == county)].sort_values("township_code")
            year_blocks.append(_with_totals(rows, ANNUAL_COLUMNS, SUBTOTAL_LABEL, f"{sy[:4]}统计年度"))
        year = pd.concat(year_blocks, ignore_index=True)
        townships = year[~year["is_total"]]
        blocks.append(pd.concat([year, _with_totals(townships, ANNUAL_COLUMNS, TOTALS_LABEL,
                                                    f"{sy[:4]}统计年度").tail(1)], ignore_index=True))
    return pd.concat(blocks, ignore_index=True)


def monthly_rows(tables: ReportTables) -> pd.DataFrame:
    return _with_totals(tables.monthly, MONTHLY_COLUMNS, TOTALS_LABEL, None)


def bureau_rows(tables: ReportTables) -> pd.DataFrame:
    blocks = []
    for sy in PERIODS:
        rows = tables.bureau[tables.bureau["sy"] == sy]
        blocks.append(_with_totals(rows, BUREAU_COLUMNS, TOTALS_LABEL, f"{sy[:4]}统计年度"))
    return pd.concat(blocks, ignore_index=True)


_SHEETS = (
    (ANNUAL, ANNUAL_COLUMNS, (f"{PREFECTURE_NAME}人口和计划生育统计年报（2024—2025统计年度）",
                              f"填报单位：{PREFECTURE_NAME}卫生健康委员会　　计量单位：人　　报送日期：{_REPORTED_ON}")),
    (MONTHLY, MONTHLY_COLUMNS, (f"{PREFECTURE_NAME}出生人口月报（2023年10月—2025年9月）",)),
    (BUREAU, BUREAU_COLUMNS, (f"{PREFECTURE_NAME}统计局分县（市）年末总人口（按计生统计年度）",)),
)


def write_report(out_dir: Path, tables: ReportTables, geo: Geography) -> list[dict[str, Any]]:
    """Write the workbook; return one entry per totals row (role, file, sheet, row).

    Also fills the sheet row of the injected report rows into ``tables.injected``.
    """
    sheets = {ANNUAL: annual_rows(tables, geo), MONTHLY: monthly_rows(tables), BUREAU: bureau_rows(tables)}
    totals: list[dict[str, Any]] = []
    with rundir.atomic_path(out_dir / REPORT_FILE) as temp:
        workbook = xlsxwriter.Workbook(str(temp), {"strings_to_numbers": False, "strings_to_formulas": False})
        workbook.set_properties({"created": CREATED, "author": "", "company": ""})
        title_format = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
        header_format = workbook.add_format({"bold": True, "border": 1, "align": "center", "text_wrap": True})
        for name, columns, title in _SHEETS:
            sheet = workbook.add_worksheet(name)
            rows = sheets[name]
            for index, text in enumerate(title):
                if index == 0 and len(title) > 1:
                    sheet.merge_range(0, 0, 0, len(columns) - 1, text, title_format)
                else:
                    sheet.write_string(index, 0, text)
            header = len(title)
            for col, (text, _) in enumerate(columns):
                sheet.write_string(header, col, text, header_format)
            sheet.set_column(0, len(columns) - 1, 12)
            first = header + 1
            for offset, record in enumerate(rows.to_dict("records")):
                for col, (_, field) in enumerate(columns):
                    value = record.get(field)
                    if value is None or (isinstance(value, float) and value != value):
                        continue
                    if isinstance(value, str):
                        sheet.write_string(first + offset, col, value)
                    else:
                        sheet.write_number(first + offset, col, int(value))
            rows = rows.assign(row=range(first + 1, first + 1 + len(rows)))
            role = "population" if name == BUREAU else "report"
            totals += [{"role": role, "file": REPORT_FILE, "sheet": name, "row": int(r)}
                       for r in rows.loc[rows["is_total"], "row"]]
            sheets[name] = rows
        workbook.close()
    annual = sheets[ANNUAL]
    for key in ("report_mismatch", "relation_error"):
        entry = tables.injected[key]
        match = annual[(annual["township_code"] == entry["area_code"]) & (annual["sy"] == entry["period"])]
        entry.update({"file": REPORT_FILE, "row": int(match["row"].iloc[0])})
    return totals
