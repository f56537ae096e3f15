"""Sex-ratio checks: a sex ratio at birth beyond chance, and monthly ratios that swing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.frames import records_sex_counts, table_sex_counts
from fpstat.audit.inputs import AuditInputs
from fpstat.audit.registry import register
from fpstat.audit.stats import homogeneity_test, srb_intervals
from fpstat.audit.wording import area_en, area_zh, num, p_text, period_zh, source_zh


def _sex_counts(inputs: AuditInputs, *, months: bool) -> pd.DataFrame:
    """Boys and girls per source, period, level and area, from records and from count tables."""
    pieces = []
    if inputs.has("records.parquet"):
        kind = "month" if months else inputs.period_kind
        pieces.append(
            records_sex_counts(inputs.monthly_births(), kind).assign(reported=True, parts=1)
        )
    if inputs.has("tables.parquet"):
        pieces.append(table_sex_counts(inputs.tables(), months=months))
    pieces = [piece for piece in pieces if not piece.empty]
    if not pieces:
        return pd.DataFrame(
            columns=[
                "source",
                "period",
                "level",
                "area_code",
                "male",
                "female",
                "reported",
                "parts",
            ]
        )
    combined = pd.concat(pieces, ignore_index=True)
    return combined.sort_values(["source", "level", "area_code", "period"]).reset_index(drop=True)


@register(
    "srb.out_of_range",
    family="integrity",
    needs=("records.parquet|tables.parquet",),
    defaults={"low": 103.0, "high": 107.0, "confidence": 0.95},
)
def srb_out_of_range(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """The sex ratio at birth is outside ``low``-``high`` beyond chance: warning.

    Fires when the whole Wilson (1927) interval (``confidence``, default 0.95, the 95 % of
    spec/indicators.md) on p = M/(M+F), mapped by 100 p/(1-p), lies outside the range, so that small areas are not flagged for binomial noise. Default
    range 103-107 boys per 100 girls: the biologically normal SRB (United Nations, *Sex
    differentials in childhood mortality*, 2011; Chahnazarian 1988; the 103-107 band of China's
    population statistics). A warning, not an error: a high ratio may be a true fact of the
    population (sex-selective practices) rather than a data defect, and the inspector decides.
    Settings ``low`` and ``high``.
    Per source, area (every level) and period: records by the run's period kind, count tables
    for their non-monthly periods (months are ``srb.volatile``'s domain).
    """
    low, high = float(settings["low"]), float(settings["high"])
    names = inputs.area_names()
    counts = _sex_counts(inputs, months=False)
    counts = counts[(counts["male"] + counts["female"]) > 0]
    ratios, lows, highs = srb_intervals(
        counts["male"].to_numpy(), counts["female"].to_numpy(), float(settings["confidence"])
    )
    outside = (lows > high) | (highs < low)
    for row, ratio, ci_low, ci_high in zip(
        counts[outside].itertuples(), ratios[outside], lows[outside], highs[outside], strict=True
    ):
        male, female = int(row.male), int(row.female)
        side_en, side_zh = ("above", "高于") if ci_low > high else ("below", "低于")
        code, level, period, source = (
            str(row.area_code),
            str(row.level),
            str(row.period),
            str(row.source),
        )
        yield Finding(
            check="srb.out_of_range",
            severity="warning",
            area_code=code,
            level=level,
            period=period,
            source=source,
            message_en=(
                f"Sex ratio at birth {num(ratio)} (95 % CI {num(ci_low)}-{num(ci_high)}; {male} boys, "
                f"{female} girls) of {area_en(code, level, names)} in {period} ({source}) is {side_en} "
                f"the range {num(low)}-{num(high)}"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{period_zh(period)}{source_zh(source)}出生人口性别比 {num(ratio)}"
                f"（95%置信区间 {num(ci_low)}-{num(ci_high)}；男 {male}，女 {female}）{side_zh}正常范围 "
                f"{num(low)}-{num(high)}"
            ),
            evidence={
                "male": male,
                "female": female,
                "srb": ratio,
                "ci_low": ci_low,
                "ci_high": ci_high,
                "range": [low, high],
                "confidence": float(settings["confidence"]),
                "reported": bool(row.reported),
                "parts": int(row.parts),
            },
        )


@register(
    "srb.volatile",
    family="integrity",
    needs=("records.parquet|tables.parquet",),
    defaults={"p_value": 0.001, "min_months": 3},
)
def srb_volatile(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """An area's monthly sex ratios vary more than binomial variation allows: warning.

    Pearson chi-square test of homogeneity of the 2 x k table of boys and girls by month over
    all months of the drop (per source and area, every level); fires at ``p_value`` (default
    0.001, checks.md: a signal, not a test to run at 5 % on every area of a province). Under a
    constant SRB the monthly counts are binomial, so swings that noise explains (a 10-point
    monthly swing is ordinary below ~1,000 births a month) do not fire. Areas whose table does
    not meet Cochran's (1954) rule for the chi-square approximation (every expected count >= 1,
    at most 20 % below 5) are not tested: their counts are too small to tell. At least
    ``min_months`` months with births (default 3).
    """
    names = inputs.area_names()
    counts = _sex_counts(inputs, months=True)
    counts = counts[(counts["male"] + counts["female"]) > 0]
    keys = ["source", "level", "area_code"]
    counts = counts.sort_values([*keys, "period"], kind="mergesort").reset_index(drop=True)
    male, female = (
        counts["male"].to_numpy(dtype=np.int64),
        counts["female"].to_numpy(dtype=np.int64),
    )
    # One slice of rows per source and area (pandas groupby per area is too slow for a province).
    new_group = (counts[keys] != counts[keys].shift()).any(axis=1).to_numpy()
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(counts)) if len(starts) else starts
    for start, end in zip(starts, ends, strict=True):
        if end - start < settings["min_months"]:
            continue
        result = homogeneity_test(male[start:end], female[start:end])
        if result is None or not result.cochran_ok or result.p_value >= settings["p_value"]:
            continue
        series = counts.iloc[start:end]
        source, level, code = (series[key].iloc[0] for key in keys)
        ratios = 100.0 * series["male"] / series["female"].replace(0, np.nan)
        lowest, highest = ratios.idxmin(), ratios.idxmax()
        first, last = str(series["period"].iloc[0]), str(series["period"].iloc[-1])
        births = int((series["male"] + series["female"]).sum())
        level, code, source = str(level), str(code), str(source)
        yield Finding(
            check="srb.volatile",
            severity="warning",
            area_code=code,
            level=level,
            period="",
            source=source,
            message_en=(
                f"Monthly sex ratios at birth of {area_en(code, level, names)} ({source}, {first} to {last}) "
                f"vary more than chance allows: from {num(ratios[lowest])} in {series['period'][lowest]} to "
                f"{num(ratios[highest])} in {series['period'][highest]} (chi-square {num(result.chi2)}, "
                f"{result.df} df, {p_text(result.p_value)})"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{source_zh(source)}逐月出生人口性别比（{period_zh(first)}至"
                f"{period_zh(last)}）波动超出随机范围：{period_zh(str(series['period'][lowest]))} "
                f"{num(ratios[lowest])}，{period_zh(str(series['period'][highest]))} {num(ratios[highest])}"
                f"（卡方 {num(result.chi2)}，自由度 {result.df}，{p_text(result.p_value)}）"
            ),
            evidence={
                "months": len(series),
                "births": births,
                "chi2": result.chi2,
                "df": result.df,
                "p_value": result.p_value,
                "threshold": float(settings["p_value"]),
                "first_month": first,
                "last_month": last,
                "monthly": [
                    {"period": str(r.period), "male": int(r.male), "female": int(r.female)}
                    for r in series.itertuples()
                ],
            },
        )
