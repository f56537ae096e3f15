"""The registry declares every indicator of spec/indicators.md with its unit and sources."""

from __future__ import annotations

import pytest

from fpstat.indicators import REGISTRY, indicator_value

SPEC = {
    "birth_rate": "出生率",
    "death_rate": "死亡率",
    "natural_growth_rate": "自然增长率",
    "general_fertility_rate": "一般生育率",
    "srb": "出生人口性别比",
    "policy_rate": "政策符合率",
    "policy_rate_3y": "三年符合政策生育率",
    "order_share_1": "一孩率",
    "order_share_2": "二孩率",
    "order_share_3plus": "多孩率",
    "contraceptive_prevalence": "综合节育率",
    "completeness": "出生登记完整率",
    "underreport_rate": "出生漏报率",
    "sex_misreport_rate": "性别错报率",
    "duplicate_rate": "重报率",
    "registration_timeliness": "及时登记率",
    "report_accuracy": "统计报表准确率",
    "birth_defect_rate": "出生缺陷发生率",
    "migrant_registration_rate": "流动人口建档率",
}


def test_every_spec_indicator_is_declared() -> None:
    """All 19 indicators of the spec, with their Chinese names, and nothing else."""
    assert {key: value.name_zh for key, value in REGISTRY.items()} == SPEC


@pytest.mark.parametrize(
    ("indicator", "unit", "interval"),
    [
        ("birth_rate", "‰ per period, not annualised", "poisson-exact"),
        ("general_fertility_rate", "‰ per period, not annualised", "poisson-exact"),
        ("srb", "boys per 100 girls", "srb-wilson"),
        ("policy_rate", "%", "wilson"),
        ("completeness", "%", "estimator"),
        ("report_accuracy", "ratio", "none"),
        ("birth_defect_rate", "‰ of births", "poisson-exact"),
    ],
)
def test_units_and_intervals(indicator: str, unit: str, interval: str) -> None:
    """Units say whether a rate is per period; intervals follow the spec."""
    assert (REGISTRY[indicator].unit, REGISTRY[indicator].interval) == (unit, interval)


def test_sources_of_each_kind() -> None:
    """Births-based indicators come from records and tables; reconcile's from reconcile only."""
    assert REGISTRY["srb"].sources == ("records", "tables")
    assert REGISTRY["contraceptive_prevalence"].sources == ("tables",)
    assert REGISTRY["duplicate_rate"].sources == ("records",)
    assert REGISTRY["completeness"].sources == ("reconcile",)
    assert REGISTRY["policy_rate_3y"].window_years == 3


def test_values_are_scaled_counts() -> None:
    """A value is scale x numerator / denominator; under-reporting is the complement."""
    assert indicator_value(REGISTRY["srb"], 106, 100) == pytest.approx(106)
    assert indicator_value(REGISTRY["policy_rate"], 46, 50) == pytest.approx(92)
    assert indicator_value(REGISTRY["underreport_rate"], 90, 100) == pytest.approx(10)
