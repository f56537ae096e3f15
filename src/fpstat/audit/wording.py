"""How findings name areas, periods, sources and figures, in English and Chinese."""

from __future__ import annotations

import math

from fpstat.schema.areas import LEVEL_ZH
from fpstat.schema.periods import period_kind

SOURCE_ZH = {
    "planning": "计生出生登记",
    "police": "公安户籍登记",
    "census": "人口普查",
    "hospital": "住院分娩记录",
    "education": "入学登记",
    "report": "统计报表",
    "population": "统计局人口数",
}
FIGURE_ZH = {
    "population": "总人口",
    "population_mean": "平均人口",
    "births": "出生人数",
    "births_male": "出生男",
    "births_female": "出生女",
    "births_within_policy": "符合政策生育数",
    "deaths": "死亡人数",
    "women_15_49": "育龄妇女数",
    "married_women_15_49": "已婚育龄妇女数",
    "contraceptive_users": "落实节育措施人数",
    "births_order_1": "一孩",
    "births_order_2": "二孩",
    "births_order_3plus": "多孩",
    "birth_defects": "出生缺陷数",
    "migrant_women": "流动育龄妇女数",
    "migrant_women_registered": "已建档流动育龄妇女数",
}


def area_en(code: str, level: str, names: dict[str, str]) -> str:
    """``township 320581101000 (虞山镇)``; ``the whole drop`` when there is no area."""
    if not code:
        return "the whole drop"
    name = names.get(code)
    return f"{level} {code}" + (f" ({name})" if name else "")


def area_zh(code: str, level: str, names: dict[str, str]) -> str:
    """``虞山镇（乡镇街道 320581101000）``, ``乡镇街道（320581101000）`` without a name."""
    if not code:
        return "全部数据"
    name = names.get(code)
    level_zh = LEVEL_ZH.get(level, level)
    return f"{name}（{level_zh} {code}）" if name else f"{level_zh}（{code}）"


def period_zh(period: str) -> str:
    """``2024年``, ``2024统计年度``, ``2024年第1季度``, ``2024年3月``."""
    if not period:
        return ""
    kind = period_kind(period)
    if kind == "year":
        return f"{period}年"
    if kind == "sy":
        return f"{period[:4]}统计年度"
    if kind == "quarter":
        return f"{period[:4]}年第{period[-1]}季度"
    return f"{period[:4]}年{int(period[5:7])}月"


def source_zh(role: str) -> str:
    return SOURCE_ZH.get(role, role)


def figure_zh(figure: str) -> str:
    return FIGURE_ZH.get(figure, figure)


def pct(share: float, digits: int = 1) -> str:
    """A share as a percentage number without the sign: 0.7134 -> ``71.3``."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "?"
    if math.isinf(share):
        return "∞"
    return f"{100.0 * share:.{digits}f}"


def num(value: float, digits: int = 1) -> str:
    """An integral figure without decimals, others with ``digits``; ``∞`` for infinity."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    if math.isinf(value):
        return "∞"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def p_text(p_value: float) -> str:
    """A p-value for messages: ``p = 0.012`` or ``p < 0.0001``."""
    return "p < 0.0001" if p_value < 1e-4 else f"p = {p_value:.4f}"
