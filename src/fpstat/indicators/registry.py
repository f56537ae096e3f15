"""The indicator registry: every indicator fpstat computes, as a declared definition.

Each :class:`Indicator` says what it is (id, Chinese and English names), how it is computed
(numerator and denominator, and the counts they come from in each kind of source), how it is
written (unit and scale) and which interval and funnel model go with it
(``spec/indicators.md``).

Rates are **period rates, not annualised**: a birth rate for a quarter is the births of that
quarter over the population, so a quarter's rate is about a quarter of the year's. The unit
says so (``‰ per period, not annualised``). Shares (``%``), the sex ratio and the birth defect
rate (per 1000 births) have no time dimension.

Where the counts come from:

* ``record_fields``: counts made from the record-level registers (``records.parquet``; the
  planning register and, for births-based indicators, the other record sources too), each
  source labelled by its role. De-duplicated: a record that ``links.parquet`` marks as a
  duplicate counts only in ``entries`` / ``duplicate_entries``.
* ``table_fields``: counts from the normalised count tables (``tables.parquet``: report,
  population and count-form sources), labelled by their role.
* ``reconcile``: taken from what ``reconcile`` estimated (``completeness.csv``,
  ``sex_disagreements.csv``) at every level, never re-aggregated.

A denominator named :data:`POPULATION` means "the mean population of the period where the
table gives one (``population_mean``), else the year-end population (``population``)"; the
row's ``denominator_source`` says which was used. Denominators marked ``external`` come from a
count table although the numerator comes from records (births in the register over the
population that a report or the statistics bureau gives for the same area and period).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Token for "mean population, else year-end population" in a field pair.
POPULATION = "population*"

PERCENT = "%"
PER_MILLE_PERIOD = "‰ per period, not annualised"
PER_MILLE_BIRTHS = "‰ of births"
PER_100_GIRLS = "boys per 100 girls"
RATIO = "ratio"

#: Interval methods (see :mod:`fpstat.indicators.intervals`).
WILSON = "wilson"
POISSON_EXACT = "poisson-exact"
SRB_WILSON = "srb-wilson"
ESTIMATOR = "estimator"
POISSON_DIFFERENCE = "poisson-difference"
NO_INTERVAL = "none"

#: Funnel models (see :mod:`fpstat.indicators.funnel`).
BINOMIAL = "binomial"
POISSON = "poisson"
SEX_RATIO = "sex-ratio"


@dataclass(frozen=True)
class Indicator:
    """One indicator: its definition, unit, interval and the counts it is made of."""

    id: str
    name_zh: str
    name_en: str
    numerator: str
    denominator: str
    unit: str
    scale: float
    interval: str
    funnel: str | None
    #: (numerator count, denominator count) from record-level sources, or None.
    record_fields: tuple[str, str] | None = None
    #: The record numerator's denominator comes from a count table (a population).
    external_denominator: bool = False
    #: (numerator count, denominator count) from count tables, or None.
    table_fields: tuple[str, str] | None = None
    #: Count-table roles this indicator is limited to (empty: every count-table role).
    table_roles: tuple[str, ...] = ()
    #: Taken from reconcile's outputs instead of counted here.
    reconcile: bool = False
    #: Statistical years in the window (policy_rate_3y: 3); 1 for the period itself.
    window_years: int = 1
    #: ``1 - numerator/denominator`` instead of ``numerator/denominator`` (underreport_rate).
    complement: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Kinds of source this indicator can come from: records, tables, reconcile."""
        kinds = []
        if self.record_fields:
            kinds.append("records")
        if self.table_fields:
            kinds.append("tables")
        if self.reconcile:
            kinds.append("reconcile")
        return tuple(kinds)


_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "birth_rate",
        "出生率",
        "Birth rate",
        "births in the period",
        "mean population of the period (year-end where that is all)",
        PER_MILLE_PERIOD,
        1000.0,
        POISSON_EXACT,
        POISSON,
        record_fields=("births", POPULATION),
        external_denominator=True,
        table_fields=("births", POPULATION),
    ),
    Indicator(
        "death_rate",
        "死亡率",
        "Death rate",
        "deaths in the period",
        "mean population of the period (year-end where that is all)",
        PER_MILLE_PERIOD,
        1000.0,
        POISSON_EXACT,
        POISSON,
        table_fields=("deaths", POPULATION),
    ),
    Indicator(
        "natural_growth_rate",
        "自然增长率",
        "Natural growth rate",
        "births - deaths",
        "mean population of the period (year-end where that is all)",
        PER_MILLE_PERIOD,
        1000.0,
        POISSON_DIFFERENCE,
        None,
        table_fields=("natural_increase", POPULATION),
    ),
    Indicator(
        "general_fertility_rate",
        "一般生育率",
        "General fertility rate",
        "births in the period",
        "women aged 15-49",
        PER_MILLE_PERIOD,
        1000.0,
        POISSON_EXACT,
        POISSON,
        record_fields=("births", "women_15_49"),
        external_denominator=True,
        table_fields=("births", "women_15_49"),
    ),
    Indicator(
        "srb",
        "出生人口性别比",
        "Sex ratio at birth",
        "male births",
        "female births",
        PER_100_GIRLS,
        100.0,
        SRB_WILSON,
        SEX_RATIO,
        record_fields=("births_male", "births_female"),
        table_fields=("births_male", "births_female"),
    ),
    Indicator(
        "policy_rate",
        "政策符合率",
        "Births within policy",
        "births within policy",
        "births (records: births whose policy attribute is known)",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("births_within_policy", "births_policy_known"),
        table_fields=("births_within_policy", "births"),
    ),
    Indicator(
        "policy_rate_3y",
        "三年符合政策生育率",
        "Births within policy, three statistical years",
        "births within policy in the three statistical years ending with the period",
        "births in the same three statistical years",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("births_within_policy", "births_policy_known"),
        table_fields=("births_within_policy", "births"),
        window_years=3,
    ),
    Indicator(
        "order_share_1",
        "一孩率",
        "First births",
        "first births",
        "births (records: births whose order is known)",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("births_order_1", "births_order_known"),
        table_fields=("births_order_1", "births"),
    ),
    Indicator(
        "order_share_2",
        "二孩率",
        "Second births",
        "second births",
        "births (records: births whose order is known)",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("births_order_2", "births_order_known"),
        table_fields=("births_order_2", "births"),
    ),
    Indicator(
        "order_share_3plus",
        "多孩率",
        "Third and higher births",
        "births of order three or more",
        "births (records: births whose order is known)",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("births_order_3plus", "births_order_known"),
        table_fields=("births_order_3plus", "births"),
    ),
    Indicator(
        "contraceptive_prevalence",
        "综合节育率",
        "Contraceptive prevalence",
        "married women 15-49 using a contraceptive method",
        "married women 15-49",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        table_fields=("contraceptive_users", "married_women_15_49"),
    ),
    Indicator(
        "completeness",
        "出生登记完整率",
        "Birth registration completeness",
        "births in the register",
        "estimated total births (reconcile)",
        PERCENT,
        100.0,
        ESTIMATOR,
        None,
        reconcile=True,
    ),
    Indicator(
        "underreport_rate",
        "出生漏报率",
        "Birth under-reporting",
        "estimated births missing from the register",
        "estimated total births (reconcile)",
        PERCENT,
        100.0,
        ESTIMATOR,
        None,
        reconcile=True,
        complement=True,
    ),
    Indicator(
        "sex_misreport_rate",
        "性别错报率",
        "Sex misreporting",
        "linked births whose sex differs between the register and another source",
        "linked births",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        reconcile=True,
    ),
    Indicator(
        "duplicate_rate",
        "重报率",
        "Duplicate entries",
        "duplicate entries",
        "entries in the register",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("duplicate_entries", "entries"),
    ),
    Indicator(
        "registration_timeliness",
        "及时登记率",
        "Timely registration",
        "births registered within 30 days of birth (0 <= registered_on - birth_date <= 30)",
        "births with both dates",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        record_fields=("registered_timely", "registered_dated"),
    ),
    Indicator(
        "report_accuracy",
        "统计报表准确率",
        "Report accuracy",
        "births reported upward (report tables)",
        "births in the office's own register (de-duplicated, by birth date)",
        RATIO,
        1.0,
        NO_INTERVAL,
        None,
        table_fields=("births", "register_births"),
        table_roles=("report",),
    ),
    Indicator(
        "birth_defect_rate",
        "出生缺陷发生率",
        "Birth defects",
        "births with a defect",
        "births",
        PER_MILLE_BIRTHS,
        1000.0,
        POISSON_EXACT,
        POISSON,
        table_fields=("birth_defects", "births"),
    ),
    Indicator(
        "migrant_registration_rate",
        "流动人口建档率",
        "Migrant women registered",
        "migrant women with a record",
        "migrant women",
        PERCENT,
        100.0,
        WILSON,
        BINOMIAL,
        table_fields=("migrant_women_registered", "migrant_women"),
    ),
)

#: id -> Indicator, in the order indicators.csv lists them.
REGISTRY: dict[str, Indicator] = {indicator.id: indicator for indicator in _INDICATORS}
INDICATOR_ORDER: dict[str, int] = {name: index for index, name in enumerate(REGISTRY)}


def indicator_value(indicator: Indicator, numerator: float, denominator: float) -> float:
    """The value in the indicator's unit: ``scale * numerator / denominator`` (or its complement).

    >>> round(indicator_value(REGISTRY["birth_rate"], 8920, 2_730_000), 2)
    3.27
    """
    if denominator == 0:
        return float("nan")
    share = numerator / denominator
    return indicator.scale * ((1.0 - share) if indicator.complement else share)
