"""Indicators taken from what reconcile estimated: completeness and sex misreporting.

``completeness.csv`` holds, per area (every level) and period, the births each source saw
(``n_<role>``) and the estimated total births with its 95 % interval. Estimates are not
additive, so they are used at each level as reconcile wrote them, never summed here.
``sex_disagreements.csv`` holds linked planning births and those whose sex differs.
"""

from __future__ import annotations

import pandas as pd

from fpstat.indicators.areas import AreaTable
from fpstat.indicators.rollup import ALL_LEVEL, null_sum
from fpstat.schema.areas import level_of

ROW_KEYS = ["source", "level", "area_code", "period"]


def _level(code: str, written: object) -> str | None:
    """The row's level: ``all`` for the whole drop (no code), else as written, else the code's."""
    if not code.strip():
        return ALL_LEVEL
    if isinstance(written, str) and written:
        return written
    return level_of(code) if len(code) == 12 and code.isdigit() else None


def _place(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes and periods as text, ``level`` filled; rows that cannot be placed are dropped."""
    frame = frame.copy()
    codes = frame["area_code"].astype("string").fillna("").astype(str)
    written = (
        frame["level"].astype("string")
        if "level" in frame.columns
        else pd.Series(pd.NA, index=frame.index)
    )
    frame["level"] = [
        _level(code, None if pd.isna(level) else str(level))
        for code, level in zip(codes, written, strict=True)
    ]
    frame["area_code"] = codes.str.strip()
    frame["period"] = frame["period"].astype(str)
    return frame.loc[frame["level"].notna()]


def completeness_rows(
    completeness: pd.DataFrame, labels: dict[str, str], areas: AreaTable | None
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``completeness`` and ``underreport_rate`` for every source with an ``n_<role>``.

    Numerator: births the source holds; denominator: the estimated total; ``total_low`` /
    ``total_high``: the estimator's 95 % interval of the total.
    """
    notes: list[str] = []
    frame = _place(completeness)
    if areas is not None and areas.mapping:
        frame["area_code"] = areas.remap(frame["area_code"].astype("string")).fillna("").astype(str)
        clash = frame.duplicated(["level", "area_code", "period"], keep=False)
        if clash.any():
            notes.append(
                f"completeness: {int(clash.sum())} estimate(s) of areas merged by the area table "
                "are left out (estimates cannot be added; run reconcile with the area table)"
            )
            frame = frame.loc[~clash]
    roles = sorted(c[2:] for c in frame.columns if c.startswith("n_") and c != "n_observed")
    pieces = []
    for role in roles:
        piece = pd.DataFrame(
            {
                "source": labels.get(role, role),
                "level": frame["level"].astype(str),
                "area_code": frame["area_code"],
                "period": frame["period"],
                "numerator": pd.to_numeric(frame[f"n_{role}"], errors="coerce").astype("float64"),
                "denominator": pd.to_numeric(frame["est_total"], errors="coerce").astype("float64"),
                "total_low": pd.to_numeric(frame["ci_low"], errors="coerce").astype("float64"),
                "total_high": pd.to_numeric(frame["ci_high"], errors="coerce").astype("float64"),
                "denominator_source": "reconcile.est_total",
            }
        )
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame(), notes
    rows = pd.concat(pieces, ignore_index=True)
    both = pd.concat(
        [rows.assign(indicator="completeness"), rows.assign(indicator="underreport_rate")],
        ignore_index=True,
    )
    return both, notes


def sex_misreport_rows(
    disagreements: pd.DataFrame, labels: dict[str, str], areas: AreaTable | None
) -> pd.DataFrame:
    """Rows of ``sex_misreport_rate``: planning births whose sex another source contradicts."""
    frame = _place(disagreements)
    frame["linked_births"] = pd.to_numeric(frame["linked_births"], errors="coerce").astype(
        "float64"
    )
    frame["sex_disagreements"] = pd.to_numeric(frame["sex_disagreements"], errors="coerce").astype(
        "float64"
    )
    if areas is not None and areas.mapping:
        # Counts add up, so areas merged by the area table are summed.
        frame["area_code"] = areas.remap(frame["area_code"].astype("string")).fillna("").astype(str)
        frame = null_sum(
            frame, ["level", "area_code", "period"], ["linked_births", "sex_disagreements"]
        )
    return pd.DataFrame(
        {
            "indicator": "sex_misreport_rate",
            "source": labels.get("planning", "planning"),
            "level": frame["level"].astype(str),
            "area_code": frame["area_code"].astype(str),
            "period": frame["period"].astype(str),
            "numerator": frame["sex_disagreements"],
            "denominator": frame["linked_births"],
            "denominator_source": "reconcile.linked_births",
        }
    )
