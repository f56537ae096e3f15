"""Integrity check: digit preference in reported counts (last digits, Benford's first digits)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.frames import reported_rows
from fpstat.audit.inputs import COUNT_COLUMNS, AuditInputs
from fpstat.audit.registry import SkipCheck, register
from fpstat.audit.stats import first_digit_test, terminal_digit_test
from fpstat.audit.wording import area_en, area_zh, figure_zh, num, p_text, period_zh, source_zh
from fpstat.schema.areas import LEVEL_NAMES, ancestors_series, depth
from fpstat.schema.periods import period_kind

ANNUAL_KINDS = ("year", "sy")


def _digit_values(tables: pd.DataFrame, min_count: int, min_mean: float) -> pd.DataFrame:
    """Every reported count >= ``min_count``: role, area_code, depth, period, figure, count, and
    ``last_digit_noise``: whether its series (role, area, figure, period kind) averages at least
    ``min_mean``, so that its last digit is noise."""
    rows = reported_rows(tables)
    present = [column for column in COUNT_COLUMNS if column in rows and column != "population_mean"]
    long = rows.melt(
        id_vars=["role", "area_code", "depth", "period"],
        value_vars=present,
        var_name="figure",
        value_name="count",
    ).dropna(subset=["count"])
    long = long.assign(
        role=long["role"].astype(str),
        period=long["period"].astype(str),
        figure=long["figure"].astype(str),
        kind=long["period"].astype(str).map(period_kind),
    )
    series_mean = long.groupby(["role", "area_code", "figure", "kind"])["count"].transform("mean")
    long = long.assign(last_digit_noise=(series_mean >= min_mean).to_numpy())
    long = long[(long["count"] >= min_count) & (long["count"] == np.floor(long["count"]))]
    return long.assign(count=long["count"].astype(np.int64))


def _digit_finding(
    code: str,
    level: str,
    role: str,
    names: dict[str, str],
    test: Any,
    *,
    benford: bool,
    period: str = "",
    figure: str = "",
    evidence: dict[str, Any],
) -> Finding:
    what_en = "first digits depart from Benford's law" if benford else "last digits are not uniform"
    what_zh = "首位数字偏离本福特定律" if benford else "尾数分布不均匀"
    subject_en = f"{figure} in {period}" if benford else "counts"
    subject_zh = f"{period_zh(period)}{figure_zh(figure)}" if benford else "数"
    return Finding(
        check="digits.preference",
        severity="warning",
        area_code=code,
        level=level,
        period=period,
        source=role,
        message_en=(
            f"In {test.n} {subject_en} reported by {area_en(code, level, names)} ({role}), {what_en} "
            f"(chi-square {num(test.chi2)}, {test.df} df, {p_text(test.p_value)})"
        ),
        message_zh=(
            f"{area_zh(code, level, names)}{source_zh(role)}上报的 {test.n} 个{subject_zh}中{what_zh}"
            f"（卡方 {num(test.chi2)}，自由度 {test.df}，{p_text(test.p_value)}）"
        ),
        evidence={
            "test": "benford" if benford else "terminal",
            "values": test.n,
            "observed": list(test.observed),
            "expected_share": list(test.expected_share),
            "chi2": test.chi2,
            "df": test.df,
            "p_value": test.p_value,
            **({"figure": figure} if figure else {}),
            **evidence,
        },
    )


@register(
    "digits.preference",
    family="integrity",
    needs=("tables.parquet",),
    defaults={
        "p_value": 0.001,
        "min_values": 50,
        "min_count": 10,
        "min_mean": 30.0,
        "benford_mad": 0.015,
        "benford_min_orders": 2.0,
        "parent_levels": ["county", "prefecture", "province"],
    },
)
def digits_preference(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """Reported counts of a source in an area show digit preference: warning.

    Last digits: every count >= ``min_count`` (default 10, checks.md's two-digit counts) reported
    inside a parent area (``parent_levels``: county or higher) against the uniform distribution,
    chi-square with 9 df (digit preference, Preston, Heuveline & Guillot 2001 ch. 2; Beber &
    Scacco 2012, who show last digits, not first, are the test for counts). Only counts of
    series (one source, area, figure and period kind) averaging at least ``min_mean`` (default
    30): the last digit of a Poisson count is uniform to within 0.001 from a mean of 30 on
    (its Fourier coefficient decays like exp(-0.19 mean)), while a township's monthly boys,
    ten or so, cut at 10, have last digits that follow their size, not the writer's hand.

    First digits against Benford's law (Benford 1938): only where the law can hold. Counts of
    one unit over months cluster around its size and are not Benford-distributed (Deckert,
    Myagkov & Ordeshook 2011), so the test takes one figure in one period across the areas
    inside the parent (one value per area), and only when the middle 80 % of those values spans
    ``benford_min_orders`` orders of magnitude (default 2; Nigrini 2012 ch. 1; by Pinkham's
    1961 Fourier argument the first-digit deviation of a smooth log-spread sigma shrinks like
    exp(-2 pi^2 sigma^2), negligible at that spread). It fires only when the mean absolute
    deviation of the digit shares also exceeds ``benford_mad`` (default 0.015, Nigrini 2012
    Table 7.1 "nonconformity"), as chi-square rejects any real data set once n is large.

    Both fire at ``p_value`` (default 0.001, checks.md) with at least ``min_values`` values
    (default 50, checks.md).
    """
    values = _digit_values(inputs.tables(), int(settings["min_count"]), float(settings["min_mean"]))
    if values.empty:
        raise SkipCheck("no reported counts of 10 or more", "没有 10 及以上的报表数")
    names, alpha = inputs.area_names(), float(settings["p_value"])
    for parent_level in settings["parent_levels"]:
        if parent_level not in LEVEL_NAMES:
            continue
        inside_level = values[values["depth"] >= depth(parent_level)]
        parents = ancestors_series(inside_level["area_code"].astype("string"), parent_level).astype(
            str
        )
        inside_level = inside_level.assign(parent=parents.to_numpy())
        for (role, code), group in inside_level.groupby(["role", "parent"], sort=True):
            counts = group.loc[group["last_digit_noise"], "count"].to_numpy()
            if len(counts) >= settings["min_values"]:
                terminal = terminal_digit_test(counts)
                if terminal.p_value < alpha:
                    yield _digit_finding(
                        str(code),
                        parent_level,
                        str(role),
                        names,
                        terminal,
                        benford=False,
                        evidence={"threshold": alpha},
                    )
            below = group[group["depth"] > depth(parent_level)]
            for (figure, period), cross_section in below.groupby(["figure", "period"], sort=True):
                counts = cross_section["count"].to_numpy()
                if len(counts) < settings["min_values"]:
                    continue
                low, high = np.percentile(np.log10(counts), [10, 90])
                if high - low < settings["benford_min_orders"]:
                    continue
                first = first_digit_test(counts)
                if first.p_value < alpha and first.mad > settings["benford_mad"]:
                    yield _digit_finding(
                        str(code),
                        parent_level,
                        str(role),
                        names,
                        first,
                        benford=True,
                        period=str(period),
                        figure=str(figure),
                        evidence={
                            "threshold": alpha,
                            "mad": first.mad,
                            "mad_threshold": float(settings["benford_mad"]),
                            "orders_of_magnitude_p10_p90": float(high - low),
                        },
                    )
