"""The aggregate tables: what the office reports upward, and the statistics bureau's population.

``report/人口计生统计报表.xlsx`` holds three sheets:

* 年度报表: per township x statistical year, population, births (by sex, order and policy),
  deaths, women 15-49, married women, contraceptive users, birth defects, migrant women;
  county 小计 rows and a 合计 row per year;
* 月报: per township x month, boys and girls born (births are their sum), and a 合计 row;
* 统计局人口: the statistics bureau's population per county x statistical year.

Birth figures are what the office's own register says: its accepted rows (those a correct
reader keeps), one per birth (the first entry where a birth was entered twice), by the
register's own area, date and sex. So they agree with the register everywhere except where
``truth/injected.json`` says otherwise: one township-year reported 6 % above its register,
one county's policy rates heaped just above 92 %, one row whose boys and girls do not add up
to its births. The bureau's population is within 0.6 % of the office's except in one county,
where it is 3 % higher (a denominator gap like a census finding more people than the register).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from fpstat.sample.geography import Geography, Parts
from fpstat.sample.population import PERIODS

REPORT_FILE = "report/人口计生统计报表.xlsx"
ANNUAL, MONTHLY, BUREAU = "年度报表", "月报", "统计局人口"
MISMATCH_PERCENT = 6.0
GAP_PERCENT = 3.0
HEAPING_THRESHOLD = 92.0
RELATION_SHORTFALL = 3

ANNUAL_COLUMNS = (
    ("区划代码", "code9"), ("乡镇(街道)", "name"), ("统计年度", "period_text"), ("总人口", "population"),
    ("出生人数", "births"), ("出生男", "births_male"), ("出生女", "births_female"),
    ("符合政策生育数", "births_within_policy"), ("一孩", "births_order_1"), ("二孩", "births_order_2"),
    ("多孩", "births_order_3plus"), ("死亡人数", "deaths"), ("育龄妇女数", "women_15_49"),
    ("已婚育龄妇女数", "married_women_15_49"), ("落实节育措施人数", "contraceptive_users"),
    ("出生缺陷数", "birth_defects"), ("流动育龄妇女数", "migrant_women"),
    ("流动育龄妇女建档数", "migrant_women_registered"),
)
MONTHLY_COLUMNS = (("区划代码", "code"), ("乡镇(街道)", "name"), ("月份", "period_text"),
                   ("出生男", "births_male"), ("出生女", "births_female"))
BUREAU_COLUMNS = (("区划代码", "code6"), ("地区", "name"), ("统计年度", "period_text"),
                  ("年末总人口", "population"))
_SUMMED = [name for _, name in ANNUAL_COLUMNS[3:]]


@dataclass
class ReportTables:
    """The three sheets' rows and what the truth folder needs to know about them."""

    annual: pd.DataFrame
    monthly: pd.DataFrame
    bureau: pd.DataFrame
    totals_rows: list[dict[str, Any]] = field(default_factory=list)
    injected: dict[str, Any] = field(default_factory=dict)


def register_births(planning: pd.DataFrame) -> pd.DataFrame:
    """The register as a reader keeps it: accepted rows, the first entry of each birth.

    ``planning`` holds the register's records with ``reason_code`` (null when accepted) and
    ``sequence`` (position in the register's order).
    """
    accepted = planning[planning["reason_code"].isna()]
    accepted = accepted.sort_values("sequence").drop_duplicates("birth_row")
    result = accepted[["birth_row", "area_code", "sex", "birth_date", "birth_order", "within_policy"]].copy()
    area = pa.array(result["area_code"]).cast(pa.int64()).to_numpy()
    result["township_code"] = _labels(area // 1000 * 1000, str)
    months = result["birth_date"].to_numpy(dtype="datetime64[M]")
    month_number = months.astype(np.int64) % 12 + 1
    year = months.astype(np.int64) // 12 + 1970
    result["sy"] = _labels(year + (month_number >= 10), lambda sy: f"{sy}SY")
    result["month"] = _labels(months.astype(np.int64), lambda m: f"{m // 12 + 1970}-{m % 12 + 1:02d}")
    return result


def _labels(keys: np.ndarray, label: Any) -> np.ndarray:
    """Text labels of integer keys, each distinct key formatted once (millions of rows, few keys)."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    return np.array([label(int(key)) for key in distinct], dtype=object)[inverse]


def _birth_counts(register: pd.DataFrame, period: str) -> pd.DataFrame:
    counted = register.assign(
        births=1, births_male=register["sex"].eq("M").astype(int),
        births_female=register["sex"].eq("F").astype(int),
        births_within_policy=register["within_policy"].astype(int),
        births_order_1=register["birth_order"].eq(1).astype(int),
        births_order_2=register["birth_order"].eq(2).astype(int),
        births_order_3plus=register["birth_order"].eq(3).astype(int),
    )
    columns = ["births", "births_male", "births_female", "births_within_policy",
               "births_order_1", "births_order_2", "births_order_3plus"]
    return counted.groupby(["township_code", period])[columns].sum()


def _grid(geo: Geography, periods: list[str], period: str) -> pd.DataFrame:
    towns = geo.townships[["township_code", "township_name", "county_code", "part"]]
    grid = towns.merge(pd.DataFrame({period: periods}), how="cross")
    return grid.rename(columns={"township_name": "name"})


def _annual(geo: Geography, parts: Parts, births: pd.DataFrame, register: pd.DataFrame,
            rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    table = _grid(geo, list(PERIODS), "sy")
    counts = _birth_counts(register[register["sy"].isin(PERIODS)], "sy")
    table = table.merge(counts, left_on=["township_code", "sy"], right_index=True, how="left")
    table[counts.columns] = table[counts.columns].fillna(0).astype(int)

    # Population from the true births of 2024SY and a birth rate of 6.2-8.8 per mille.
    true_sy = births["birth_date"].dt.year + (births["birth_date"].dt.month >= 10)
    true_2024 = births[true_sy == int(PERIODS[0][:4])].groupby("township_code").size()
    towns = geo.townships.set_index("township_code")
    rate = pd.Series(rng.uniform(6.2, 8.8, len(towns)) / 1000, index=towns.index)
    base = (true_2024.reindex(towns.index).fillna(1) / rate).round()
    drift = pd.Series(rng.uniform(-0.008, 0.002, len(towns)), index=towns.index)
    later = table["sy"] == PERIODS[1]
    population = table["township_code"].map(base)
    population = population.where(~later, (population * (1 + table["township_code"].map(drift))).round())
    table["population"] = population.astype(int)
    n = len(table)
    table["deaths"] = rng.poisson(table["population"] * rng.uniform(6.8, 8.2, n) / 1000)
    table["women_15_49"] = np.floor(table["population"] * rng.uniform(0.21, 0.25, n)).astype(int)
    table["married_women_15_49"] = np.floor(table["women_15_49"] * rng.uniform(0.72, 0.80, n)).astype(int)
    table["contraceptive_users"] = np.floor(table["married_women_15_49"] * rng.uniform(0.82, 0.92, n)).astype(int)
    table["birth_defects"] = rng.poisson(table["births"] * 0.004)
    migrant_share = table["part"].map({0: 0.15, 1: 0.10, 2: 0.08, 3: 0.12})
    table["migrant_women"] = np.floor(table["women_15_49"] * migrant_share * rng.uniform(0.8, 1.2, n)).astype(int)
    table["migrant_women_registered"] = np.floor(table["migrant_women"] * rng.uniform(0.86, 0.97, n)).astype(int)
    return _inject(table, parts)


def _inject(table: pd.DataFrame, parts: Parts) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Apply the report-level injections; say what they were."""
    injected: dict[str, Any] = {}
    key = (table["township_code"] == parts.mismatch_township) & (table["sy"] == PERIODS[1])
    row = table.index[key][0]
    register = int(table.at[row, "births"])
    reported = int(round(register * (1 + MISMATCH_PERCENT / 100)))
    extra = reported - register
    boys = int(round(extra * table.at[row, "births_male"] / max(register, 1)))
    for column, add in (("births", extra), ("births_male", boys), ("births_female", extra - boys),
                        ("births_within_policy", extra), ("births_order_1", extra)):
        table.at[row, column] += add
    injected["report_mismatch"] = {
        "area_code": parts.mismatch_township, "period": PERIODS[1], "sheet": ANNUAL,
        "register_births": register, "reported_births": reported,
        "percent": round(100 * extra / max(register, 1), 2),
    }
    heaped = []
    for row in table.index[table["township_code"].isin(parts.heaping_townships)]:
        births = int(table.at[row, "births"])
        in_register = int(table.at[row, "births_within_policy"])
        reported = max(in_register, math.ceil(HEAPING_THRESHOLD / 100 * births - 1e-9))
        table.at[row, "births_within_policy"] = reported
        heaped.append({
            "area_code": table.at[row, "township_code"], "period": table.at[row, "sy"],
            "births": births, "register_within_policy": in_register,
            "reported_within_policy": reported,
            "reported_rate": round(100 * reported / births, 2) if births else None,
        })
    injected["heaping"] = {
        "area_code": parts.heaping_county, "threshold": HEAPING_THRESHOLD,
        "townships": list(parts.heaping_townships), "rates": heaped,
    }
    key = (table["township_code"] == parts.relation_township) & (table["sy"] == PERIODS[0])
    row = table.index[key][0]
    table.at[row, "births_female"] = max(int(table.at[row, "births_female"]) - RELATION_SHORTFALL, 0)
    injected["relation_error"] = {
        "area_code": parts.relation_township, "period": PERIODS[0], "sheet": ANNUAL,
        "births": int(table.at[row, "births"]), "births_male": int(table.at[row, "births_male"]),
        "births_female": int(table.at[row, "births_female"]),
    }
    return table, injected


def _monthly(geo: Geography, register: pd.DataFrame) -> pd.DataFrame:
    months = sorted(pd.period_range(f"{int(PERIODS[0][:4]) - 1}-10", f"{PERIODS[1][:4]}-09", freq="M").strftime("%Y-%m"))
    table = _grid(geo, months, "month")
    counts = _birth_counts(register, "month")[["births_male", "births_female"]]
    table = table.merge(counts, left_on=["township_code", "month"], right_index=True, how="left")
    table[counts.columns] = table[counts.columns].fillna(0).astype(int)
    table["code"] = table["township_code"]
    table["period_text"] = [f"{m[:4]}年{int(m[5:])}月" for m in table["month"]]
    return table.sort_values(["township_code", "month"]).reset_index(drop=True)


def _bureau(geo: Geography, parts: Parts, annual: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    office = annual.groupby(["county_code", "sy"], as_index=False)["population"].sum()
    noise = rng.uniform(-0.006, 0.006, len(office))
    gap = office["county_code"] == parts.gap_county
    factor = np.where(gap, 1 + GAP_PERCENT / 100, 1 + noise)
    office["bureau"] = (office["population"] * factor).round().astype(int)
    names = geo.area_names()
    table = pd.DataFrame({
        "county_code": office["county_code"], "sy": office["sy"], "code6": office["county_code"].str.slice(0, 6),
        "name": office["county_code"].map(names), "period_text": office["sy"].str.slice(0, 4) + "统计年度",
        "population": office["bureau"],
    })
    injected = {
        "area_code": parts.gap_county, "percent": GAP_PERCENT, "sheet": BUREAU,
        "report_population": {r.sy: int(r.population) for r in office[gap].itertuples()},
        "bureau_population": {r.sy: int(r.bureau) for r in office[gap].itertuples()},
    }
    return table.sort_values(["sy", "county_code"]).reset_index(drop=True), injected


def report_tables(geo: Geography, parts: Parts, births: pd.DataFrame, planning: pd.DataFrame,
                  rng: np.random.Generator) -> ReportTables:
    """Figures of the three sheets, derived from the planning register, injections applied."""
    register = register_births(planning)
    annual, injected = _annual(geo, parts, births, register, rng)
    bureau, gap = _bureau(geo, parts, annual, rng)
    injected["population_gap"] = gap
    return ReportTables(annual=annual, monthly=_monthly(geo, register), bureau=bureau, injected=injected)
