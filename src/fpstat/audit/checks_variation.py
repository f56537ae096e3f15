"""Variation checks: a figure against its own past (time) and against its peers (outliers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.frames import floats, parent_of, records_sex_counts, table_hierarchy, with_levels
from fpstat.audit.inputs import AuditInputs, MissingInput
from fpstat.audit.registry import register
from fpstat.audit.stats import modified_z_scores
from fpstat.audit.wording import area_en, area_zh, figure_zh, num, pct, period_zh, source_zh
from fpstat.schema.periods import period_kind


def _previous_period(period: str, steps: int) -> str:
    """The annual period ``steps`` years before (``2024SY`` -> ``2021SY`` for 3)."""
    year = int(period[:4]) - steps
    return f"{year}SY" if period.endswith("SY") else str(year)


def _annual_series(inputs: AuditInputs, figures: list[str]) -> pd.DataFrame:
    """Annual figures per source, figure, level, area and period, from tables and registers."""
    pieces = []
    if inputs.has("tables.parquet"):
        tables = inputs.tables()
        annual = tables[tables["period"].astype(str).map(period_kind).isin(("year", "sy"))]
        present = (
            [figure for figure in figures if annual[figure].notna().any()]
            if not annual.empty
            else []
        )
        if present:
            levels = table_hierarchy(annual, present)
            long = levels.melt(
                id_vars=["role", "period", "level", "area_code"],
                value_vars=present,
                var_name="figure",
                value_name="value",
            ).dropna(subset=["value"])
            pieces.append(long.rename(columns={"role": "source"}))
    if inputs.has("records.parquet") and "births" in figures:
        kind = inputs.period_kind if inputs.period_kind in ("year", "sy") else "year"
        counts = records_sex_counts(inputs.monthly_births(), kind)
        covered = [
            inputs.covers(str(s), str(p))
            for s, p in zip(counts["source"], counts["period"], strict=True)
        ]
        counts = counts[np.array(covered, dtype=bool)]
        pieces.append(
            counts.assign(figure="births", value=counts["births"].astype(float))[
                ["source", "period", "level", "area_code", "figure", "value"]
            ]
        )
    if not pieces:
        raise MissingInput("tables.parquet")
    combined = pd.concat(pieces, ignore_index=True)
    for column in ("source", "period", "level", "area_code", "figure"):
        combined[column] = combined[column].astype(str)
    return combined


@register(
    "time.inconsistent",
    family="consistency",
    needs=("tables.parquet|records.parquet",),
    defaults={
        "threshold": 0.33,
        "preceding": 3,
        "min_preceding": 1,
        "min_mean": 100.0,
        "figures": [
            "births",
            "population",
            "deaths",
            "women_15_49",
            "married_women_15_49",
            "contraceptive_users",
            "births_within_policy",
        ],
    },
)
def time_inconsistent(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """An annual figure departs from the mean of the preceding years by more than 33 %: warning.

    WHO Data Quality Review 2017, Module 2, dimension 3 "consistency over time": the ratio of
    the current year to the mean of the up to three preceding years (``preceding``, default 3),
    flagged when it departs from 1 by more than ``threshold`` (default 0.33, the DQR's
    subnational default) in EITHER direction (DHIS2's implementation tests one side only), and
    with the preceding years strictly before the current one (t-1, t-2, t-3 by calendar, not by
    row index: DHIS2's off-by-one included the current year). Figures of the count tables (every
    level; ``figures``, default births, population, deaths, women 15-49, married women 15-49,
    contraceptive users and within-policy births) and the births of each register by the run's
    annual period, years the register covers wholly. At least ``min_preceding`` preceding years (default 1). Not judged when the
    preceding mean is below ``min_mean`` (default 100): a year's count and the mean it is
    compared with both carry Poisson noise, sd of the ratio ~ sqrt(2 / mean) (14 % at 100, 26 %
    at 30), so below ~100 expected events a 33 % swing is ordinary and says nothing about the
    data (one village in five would be flagged every year at 30).
    """
    series = _annual_series(inputs, list(settings["figures"]))
    series = series[series["figure"].isin(settings["figures"])]
    lookup = series.set_index(["source", "figure", "level", "area_code", "period"])["value"]
    lookup = lookup[~lookup.index.duplicated()].to_dict()
    names = inputs.area_names()
    for (source, figure, level, code, period), value in sorted(lookup.items()):
        earlier = {}
        for steps in range(1, int(settings["preceding"]) + 1):
            previous = _previous_period(period, steps)
            if (source, figure, level, code, previous) in lookup:
                earlier[previous] = lookup[(source, figure, level, code, previous)]
        if len(earlier) < settings["min_preceding"]:
            continue
        mean = float(np.mean(list(earlier.values())))
        if mean < settings["min_mean"] or mean <= 0:
            continue
        change = value / mean - 1.0
        if abs(change) <= settings["threshold"]:
            continue
        years_en = ", ".join(f"{p}: {num(v)}" for p, v in sorted(earlier.items()))
        yield Finding(
            check="time.inconsistent",
            severity="warning",
            area_code=code,
            level=level,
            period=period,
            source=source,
            message_en=(
                f"{figure} of {area_en(code, level, names)} in {period} ({source}) is {num(value)}, "
                f"{'+' if change > 0 else ''}{pct(change)} % against the mean {num(mean)} of the preceding "
                f"years ({years_en})"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{period_zh(period)}{source_zh(source)}{figure_zh(figure)}为 {num(value)}，"
                f"较此前各年均值 {num(mean)} 变化 {pct(change)}%"
            ),
            evidence={
                "figure": figure,
                "value": value,
                "preceding": dict(sorted(earlier.items())),
                "mean": mean,
                "ratio": value / mean,
                "threshold": float(settings["threshold"]),
            },
        )


@register(
    "outlier",
    family="consistency",
    needs=("indicators.csv",),
    defaults={
        "warning_above": 3.5,
        "error_above": 5.0,
        "min_peers": 5,
        "beyond_interval": True,
        "exclude_indicators": [
            "completeness",
            "underreport_rate",
            "duplicate_rate",
            "sex_misreport_rate",
            "srb",
            "report_accuracy",
        ],
    },
)
def outlier(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """An indicator value is an outlier among its peers (modified z-score): warning / error.

    Peers: areas of the same level and parent, same indicator, source (and denominator source)
    and period. Modified
    z-score M = 0.6745 (x - median) / MAD (Iglewicz & Hoaglin 1993, who recommend |M| > 3.5
    as the outlier label: ``warning_above``, default 3.5); when MAD = 0, the mean absolute
    deviation fallback M = (x - median) / (1.253314 MeanAD) (not DHIS2's, which recomputes the
    MAD). ``error_above``, default 5 (checks.md). At least ``min_peers`` areas (default 5,
    checks.md). Even for normal data the label is not rare with few peers: per value
    |M| > 3.5 happens 5.3 % of the time with 5 peers, 1.6 % with 10, 0.7 % with 20 (simulated);
    raise ``min_peers`` for fewer, surer findings. With ``beyond_interval`` (default true) a
    value is not flagged when its own 95 % interval contains the peer median: a small area's
    rate can be far from its peers by chance alone. ``exclude_indicators`` (default: those with
    a check of their own, completeness, underreport_rate, duplicate_rate, sex_misreport_rate,
    srb and report_accuracy) are left to those checks, whose tests suit them better.
    """
    frame = inputs.csv("indicators.csv")
    frame = frame[
        frame["area_code"].notna() & ~frame["indicator"].isin(settings["exclude_indicators"])
    ].copy()
    frame["value"] = floats(frame["value"])
    frame = frame[np.isfinite(frame["value"])]
    frame = with_levels(frame.drop(columns=["level"], errors="ignore"))
    frame["parent"] = [
        parent_of(str(c), str(lv)) for c, lv in zip(frame["area_code"], frame["level"], strict=True)
    ]
    for column in ("source", "period", "denominator_source"):
        frame[column] = frame[column].astype("string").fillna("") if column in frame else ""
    for column in ("ci_low", "ci_high"):
        frame[column] = floats(frame[column]) if column in frame else np.nan
    keys = ["indicator", "source", "denominator_source", "level", "parent", "period"]
    frame = frame.sort_values([*keys, "area_code"])
    names = inputs.area_names()
    for (indicator, source, denominator, level, _parent, period), peers in frame.groupby(
        keys, sort=True
    ):
        if len(peers) < settings["min_peers"]:
            continue
        values = peers["value"].to_numpy(dtype=float)
        scores = modified_z_scores(values)
        median = float(np.median(values))
        for index in np.flatnonzero(np.abs(scores) > settings["warning_above"]):
            row = peers.iloc[index]
            ci_low, ci_high = float(row["ci_low"]), float(row["ci_high"])
            if (
                settings["beyond_interval"]
                and not (np.isnan(ci_low) or np.isnan(ci_high))
                and ci_low <= median <= ci_high
            ):
                continue
            score = float(scores[index])
            severity = "error" if abs(score) > settings["error_above"] else "warning"
            code, level_text = str(row["area_code"]), str(level)
            yield Finding(
                check="outlier",
                severity=severity,
                area_code=code,
                level=level_text,
                period=str(period),
                source=str(source),
                message_en=(
                    f"{indicator} of {area_en(code, level_text, names)} in {period} ({source}) is {num(values[index], 2)}, "
                    f"an outlier among {len(peers)} peer areas (median {num(median, 2)}, modified z-score {num(score, 1)})"
                ),
                message_zh=(
                    f"{area_zh(code, level_text, names)}{period_zh(str(period))}{source_zh(str(source))} {indicator} 为 "
                    f"{num(values[index], 2)}，在同级 {len(peers)} 个地区中异常（中位数 {num(median, 2)}，修正 z 值 {num(score, 1)}）"
                ),
                evidence={
                    "indicator": str(indicator),
                    "denominator_source": str(denominator),
                    "value": float(values[index]),
                    "median": median,
                    "modified_z": score,
                    "peers": len(peers),
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "warning_above": float(settings["warning_above"]),
                    "error_above": float(settings["error_above"]),
                },
            )
