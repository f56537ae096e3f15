"""Integrity check: reported rates heaped just above an evaluation threshold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from fpstat.audit.caliper import clustered_caliper_test, side_weights, slope_share
from fpstat.audit.findings import Finding
from fpstat.audit.frames import floats, with_levels
from fpstat.audit.inputs import AuditInputs
from fpstat.audit.registry import SkipCheck, register
from fpstat.audit.wording import area_en, area_zh, num, p_text, pct
from fpstat.schema.areas import LEVEL_NAMES, LEVEL_ZH, ancestors_series, depth
from fpstat.schema.periods import period_kind

ANNUAL_KINDS = ("year", "sy")


def _lower_bounds(inputs: AuditInputs) -> list[tuple[str, str, float, str]]:
    """(annual indicator, profile indicator, bound, kind) for every min/veto bound, de-duplicated."""
    if inputs.thresholds is None:
        raise SkipCheck("no evaluation profile is active", "未指定考核方案")
    seen: dict[tuple[str, float], tuple[str, str, float, str]] = {}
    for threshold in inputs.thresholds:
        bound = threshold.lower_bound
        if bound is None:
            continue
        # A multi-year indicator (policy_rate_3y) is judged through its annual values.
        annual = threshold.indicator.removesuffix("_3y")
        seen.setdefault((annual, bound), (annual, threshold.indicator, bound, threshold.kind))
    return [seen[key] for key in sorted(seen)]


def _annual_values(inputs: AuditInputs, settings: dict[str, Any]) -> pd.DataFrame:
    """One value per indicator, unit and annual period of ``source`` (the first denominator)."""
    frame = inputs.csv("indicators.csv")
    frame = frame[frame["source"].astype("string") == settings["source"]]
    frame = with_levels(frame[frame["area_code"].notna()])
    frame = frame[
        (frame["level"] == settings["unit_level"])
        & frame["period"].astype(str).map(period_kind).isin(ANNUAL_KINDS)
    ]
    # Rounded so that 92 computed as 91.99999999 still meets a bound of 92.
    frame = frame.assign(value=floats(frame["value"]).round(6))
    frame = frame[np.isfinite(frame["value"])]
    order = ["indicator", "area_code", "period"]
    if "denominator_source" in frame:
        frame = frame.sort_values([*order, "denominator_source"], na_position="first")
    return frame.drop_duplicates(order)


@register(
    "threshold.heaping",
    family="integrity",
    needs=("indicators.csv",),
    defaults={
        "window": 1.0,
        "min_in_window": 5,
        "alpha": 0.05,
        "source": "report",
        "unit_level": "township",
        "parent_levels": ["county", "prefecture", "province"],
    },
)
def threshold_heaping(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """Reported annual rates of a parent area's units cluster just above a lower bound: warning.

    For every lower bound (``min`` or ``veto``) of the active profile, the annual values of the
    units (``unit_level``, default townships) of each parent area (``parent_levels``: county or
    higher) within ``window`` of the bound (default 1 point, in the indicator's unit) are split
    into just above and just below, over all annual periods of the drop, and a one-sided
    caliper test (Gerber & Malhotra 2008) asks whether "just above" is over-represented against
    the share the slope of the distribution implies (:mod:`fpstat.audit.caliper`: slope from
    all units' values, units as clusters, symmetric bands; without these the test fires far
    above ``alpha`` on honest data). ``alpha`` 0.05, the conventional level (a warning, not
    proof); at least ``min_in_window`` values near the bound (default 5: fewer cannot reach
    significance) from two units or more. Values come from ``indicators.csv`` rows of
    ``source`` (default the report tables); a multi-year indicator (``policy_rate_3y``) is
    judged through its annual values (``policy_rate``). Written for the parent area.
    """
    bounds = _lower_bounds(inputs)
    frame = _annual_values(inputs, settings)
    window, names = float(settings["window"]), inputs.area_names()
    unit_level = str(settings["unit_level"])
    for annual, profile_indicator, bound, kind in bounds:
        values = frame[frame["indicator"] == annual]
        if values.empty:
            continue
        slope = slope_share(values["value"].to_numpy(), bound, window)
        above, below = side_weights(values["value"].to_numpy(), bound, window)
        weights = values[["area_code", "period"]].assign(above=above, below=below)
        weights = weights[(weights["above"] + weights["below"]) > 0]
        per_unit = weights.groupby("area_code", sort=True)[["above", "below"]].sum()
        periods = sorted(weights["period"].astype(str).unique())
        unit = (
            str(values["unit"].dropna().iloc[0])
            if "unit" in values and values["unit"].notna().any()
            else ""
        )
        for parent_level in settings["parent_levels"]:
            if parent_level not in LEVEL_NAMES or depth(parent_level) >= depth(unit_level):
                continue
            parents = ancestors_series(pd.Series(per_unit.index, dtype="string"), parent_level)
            for parent, units in per_unit.groupby(parents.to_numpy(), sort=True):
                if float((units["above"] + units["below"]).sum()) < settings["min_in_window"]:
                    continue
                test = clustered_caliper_test(
                    units["above"].to_numpy(), units["below"].to_numpy(), slope
                )
                if test is None or test.p_value >= settings["alpha"]:
                    continue
                code = str(parent)
                yield Finding(
                    check="threshold.heaping",
                    severity="warning",
                    area_code=code,
                    level=parent_level,
                    period="",
                    source=str(settings["source"]),
                    message_en=(
                        f"Annual {annual} of the {unit_level}s of {area_en(code, parent_level, names)} "
                        f"({', '.join(periods)}) heap just above the {profile_indicator} bound "
                        f"{num(bound)}{unit}: {num(test.above)} in ({num(bound)}, {num(bound + window)}] vs "
                        f"{num(test.below)} in [{num(bound - window)}, {num(bound)}) from {test.units} "
                        f"{unit_level}s, where the distribution's slope implies {pct(test.expected_share_above)} % "
                        f"above ({p_text(test.p_value)})"
                    ),
                    message_zh=(
                        f"{area_zh(code, parent_level, names)}所辖{LEVEL_ZH.get(unit_level, unit_level)}的年度 "
                        f"{annual} 集中在考核线（{profile_indicator} {num(bound)}{unit}）之上：略高于考核线 "
                        f"{num(test.above)} 个，略低于 {num(test.below)} 个（按分布斜率预期高于考核线的占 "
                        f"{pct(test.expected_share_above)}%；{p_text(test.p_value)}）"
                    ),
                    evidence={
                        "indicator": annual,
                        "threshold_indicator": profile_indicator,
                        "kind": kind,
                        "threshold": bound,
                        "window": window,
                        "above": test.above,
                        "below": test.below,
                        "units": test.units,
                        "further_above": slope.further_above,
                        "further_below": slope.further_below,
                        "expected_share_above": test.expected_share_above,
                        "statistic": test.statistic,
                        "p_value": test.p_value,
                        "alpha": float(settings["alpha"]),
                        "unit_level": unit_level,
                        "periods": periods,
                    },
                )
