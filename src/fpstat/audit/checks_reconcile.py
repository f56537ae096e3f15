"""Reconcile checks: a register less complete than it should be, and sex misreported in it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from fpstat.audit.findings import Finding
from fpstat.audit.frames import with_levels
from fpstat.audit.inputs import AuditInputs
from fpstat.audit.registry import SkipCheck, register
from fpstat.audit.stats import adjust_p_values, fisher_greater
from fpstat.audit.wording import area_en, area_zh, p_text, pct, period_zh
from fpstat.schema.periods import period_kind

REGISTER = "planning"


def _text(value: Any) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        else str(value)
    )


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``level`` from the code where a file lacks it."""
    if "level" in frame and frame["level"].notna().all():
        return frame
    return with_levels(frame.drop(columns=["level"], errors="ignore"))


@register(
    "completeness.low",
    family="reconcile",
    needs=("completeness.csv",),
    defaults={"threshold": 0.90},
)
def completeness_low(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """The planning register's completeness in an area and period is below ``threshold``.

    Completeness = births in the register / estimated total births (Chapman 1951 / multiple-
    system estimate of ``completeness.csv``). Its 95 % interval comes from the estimator's
    interval of the total: upper = n_register / ci_low, lower = n_register / ci_high (the map
    is monotone). Error when even the upper bound is below the threshold (the shortfall is not
    chance); warning when only the estimate is. Default ``threshold = 0.90`` (checks.md; the
    United Nations Demographic Yearbook codes vital statistics as complete when they cover at
    least 90 % of events, UN Principles and Recommendations for a Vital Statistics System,
    Rev. 3, 2014). A register that is truly at least 90 % complete is flagged as an error only
    when the estimator's interval misses, i.e. with at most 2.5 % probability.
    """
    frame = inputs.csv("completeness.csv")
    needed = {f"n_{REGISTER}", "est_total", "ci_low", "ci_high"}
    if not needed <= set(frame.columns):
        raise SkipCheck(
            f"completeness.csv lacks {', '.join(sorted(needed - set(frame.columns)))}",
            f"completeness.csv 缺少列 {', '.join(sorted(needed - set(frame.columns)))}",
        )
    frame = _levels(frame[frame["area_code"].notna()])
    threshold = float(settings["threshold"])
    names = inputs.area_names()
    for row in frame.to_dict("records"):
        registered = pd.to_numeric(row[f"n_{REGISTER}"], errors="coerce")
        total, low, high = (
            pd.to_numeric(row[key], errors="coerce") for key in ("est_total", "ci_low", "ci_high")
        )
        if pd.isna(registered) or pd.isna(total) or total <= 0:
            continue
        estimate = pd.to_numeric(row.get(f"completeness_{REGISTER}"), errors="coerce")
        if pd.isna(estimate):
            estimate = registered / total
        upper = registered / low if pd.notna(low) and low > 0 else np.nan
        lower = registered / high if pd.notna(high) and high > 0 else np.nan
        if pd.notna(upper) and upper < threshold:
            severity = "error"
        elif estimate < threshold:
            severity = "warning"
        else:
            continue
        code, level, period = str(row["area_code"]), str(row["level"]), _text(row.get("period"))
        interval_en = f" (95 % CI {pct(lower)}-{pct(upper)} %)" if pd.notna(upper) else ""
        interval_zh = f"（95%置信区间 {pct(lower)}%-{pct(upper)}%）" if pd.notna(upper) else ""
        in_period = f" in {period}" if period else ""
        yield Finding(
            check="completeness.low",
            severity=severity,
            area_code=code,
            level=level,
            period=period,
            source=REGISTER,
            message_en=(
                f"Register completeness {pct(estimate)} %{interval_en} of {area_en(code, level, names)}"
                f"{in_period} is below {pct(threshold, 0)} %"
            ),
            message_zh=(
                f"{area_zh(code, level, names)}{period_zh(period)}出生登记完整率 {pct(estimate)}%{interval_zh}"
                f"低于 {pct(threshold, 0)}%"
            ),
            evidence={
                "registered": float(registered),
                "est_total": float(total),
                "est_total_ci_low": float(low) if pd.notna(low) else None,
                "est_total_ci_high": float(high) if pd.notna(high) else None,
                "completeness": float(estimate),
                "ci_low": lower,
                "ci_high": upper,
                "threshold": threshold,
                "method": _text(row.get("method")),
            },
        )


@register(
    "sex.misreported",
    family="reconcile",
    needs=("sex_disagreements.csv",),
    defaults={"alpha": 0.05, "correction": "bh"},
)
def sex_misreported(inputs: AuditInputs, settings: dict[str, Any]) -> Iterator[Finding]:
    """An area's linked births disagree on sex significantly more often than elsewhere: error.

    For each area, the sex disagreements among its linked births are compared with the rest of
    the drop at the same level and period (the background rate, which thus excludes the area
    itself, so a bad area cannot hide by raising its own baseline, and is trimmed of the areas
    found significantly worse, so that a few bad areas do not hide milder ones: see
    :func:`_trimmed_tests`): one-sided Fisher exact test
    (Fisher 1935; the exact conditional form of the binomial test against the background rate,
    which also allows for the background being estimated, and tends to the binomial test when the
    rest of the drop is large). The p-values of the areas of one level and period form one family,
    adjusted by Benjamini & Hochberg (1995) by default (``correction``, "bh"; ``"bonferroni"``
    and ``"none"`` are available): BH keeps the expected share of false alarms among the flagged
    areas at ``alpha``, and when no area is really worse it keeps the chance of any finding at
    ``alpha`` too; Bonferroni would miss real problems in a province of hundreds of townships.
    Tested per period and over the whole drop (the periods of the run's kind pooled, period
    ""), each its own family. Default ``alpha = 0.05`` (the conventional level; Benjamini & Hochberg 1995 use q = 0.05).
    """
    if settings["correction"] not in ("bh", "bonferroni", "none"):
        raise SkipCheck(
            f"unknown correction {settings['correction']!r} (bh, bonferroni or none)",
            f"未知的多重检验校正 {settings['correction']!r}（bh、bonferroni 或 none）",
        )
    frame = inputs.csv("sex_disagreements.csv")
    frame = _levels(frame[frame["area_code"].notna()]).copy()
    frame["period"] = frame["period"].astype("string").fillna("") if "period" in frame else ""
    frame["linked_births"] = (
        pd.to_numeric(frame["linked_births"], errors="coerce").fillna(0).astype(np.int64)
    )
    frame["sex_disagreements"] = (
        pd.to_numeric(frame["sex_disagreements"], errors="coerce").fillna(0).astype(np.int64)
    )
    frame = _with_whole_drop(frame[frame["linked_births"] > 0], inputs.period_kind)
    frame = frame.sort_values(["level", "period", "area_code"])
    names = inputs.area_names()
    alpha = float(settings["alpha"])
    for (level, period), family in frame.groupby(["level", "period"], sort=True):
        if len(family) < 2:
            continue  # one area at this level: no background to compare with
        linked = family["linked_births"].to_numpy()
        disagree = family["sex_disagreements"].to_numpy()
        p_values, adjusted, rest_linked, rest_disagree = _trimmed_tests(
            linked, disagree, settings["correction"], alpha
        )
        for index in np.flatnonzero(adjusted < alpha):
            code = str(family["area_code"].iloc[index])
            rate = disagree[index] / linked[index]
            background = rest_disagree[index] / rest_linked[index] if rest_linked[index] else np.nan
            period_text = str(period)
            yield Finding(
                check="sex.misreported",
                severity="error",
                area_code=code,
                level=str(level),
                period=period_text,
                source=REGISTER,
                message_en=(
                    f"{disagree[index]} of {linked[index]} linked births in {area_en(code, str(level), names)}"
                    f"{' in ' + period_text if period_text else ' over all periods'} disagree on sex ({pct(rate, 2)} % vs "
                    f"{pct(background, 2)} % elsewhere; {p_text(float(adjusted[index]))} adjusted)"
                ),
                message_zh=(
                    f"{area_zh(code, str(level), names)}{period_zh(period_text) or '各期合计'}已匹配的 {linked[index]} 例出生中"
                    f"{disagree[index]} 例性别不一致（{pct(rate, 2)}%，其他地区 {pct(background, 2)}%；"
                    f"校正后 {p_text(float(adjusted[index]))}）"
                ),
                evidence={
                    "linked_births": int(linked[index]),
                    "sex_disagreements": int(disagree[index]),
                    "rate": rate,
                    "background_rate": background,
                    "background_linked_births": int(rest_linked[index]),
                    "p_value": float(p_values[index]),
                    "adjusted_p_value": float(adjusted[index]),
                    "correction": settings["correction"],
                    "alpha": alpha,
                    "areas_in_family": len(family),
                },
            )


def _with_whole_drop(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Add each area's sums over the periods of the run's kind as period "" (the whole drop).

    A clerk who enters girls as boys does so in every period; pooled, a few cases a year add
    up to evidence that no single year holds. Only when there are two periods or more.
    """
    periods = frame["period"].astype(str)
    kinds = periods.map(lambda text: period_kind(text) if text else "")
    of_kind = frame[kinds == kind]
    if of_kind["period"].nunique() < 2:
        return frame
    pooled = of_kind.groupby(["area_code", "level"], as_index=False)[
        ["linked_births", "sex_disagreements"]
    ].sum()
    return pd.concat([frame, pooled.assign(period="")], ignore_index=True)


def _trimmed_tests(
    linked: np.ndarray, disagree: np.ndarray, correction: str, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fisher tests of each area against the others, the background trimmed of flagged areas.

    First every area is tested against all the others; areas found significant are then left
    out of the background of every other area and all are tested again, until the set of
    flagged areas stops growing. When no area is worse than the rest the first round flags
    nothing (with probability 1 - alpha) and the result is the plain leave-one-out test; when
    several are, they no longer inflate the background against which milder ones are judged.
    Returns raw and adjusted p-values and each area's background counts.
    """
    flagged = np.zeros(len(linked), dtype=bool)
    while True:
        clean = ~flagged
        if clean.sum() < 2:
            clean = np.ones(len(linked), dtype=bool)
        rest_linked = (linked * clean).sum() - linked * clean
        rest_disagree = (disagree * clean).sum() - disagree * clean
        p_values = np.array(
            [
                fisher_greater(int(k), int(n), int(rk), int(rn))
                for k, n, rk, rn in zip(disagree, linked, rest_disagree, rest_linked, strict=True)
            ]
        )
        adjusted = adjust_p_values(p_values, correction)
        significant = flagged | (adjusted < alpha)
        if (significant == flagged).all():
            return p_values, adjusted, rest_linked, rest_disagree
        flagged = significant
