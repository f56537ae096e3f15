"""Count tables (report, population, count-form sources) brought to the run's period kind.

A table may give a period of the run's kind directly (an annual sheet for a ``year`` run), or
finer periods that add up to it (a monthly sheet). Finer rows are combined into the run's
period only when **all** of its months (or all of its quarters) are there for that area; else
the area has no figures for that period, and a note says so. A period the table gives
directly is always preferred to one built from finer rows. Coarser periods (a year for a
monthly run) cannot be split and are left out, with a note.

Combining finer periods depends on what a count measures:

* flows (births, deaths ...) are summed;
* stocks (year-end population, women 15-49, contraceptive users, migrant women ...) are the
  value at the end of the period, i.e. of its last month or quarter;
* ``population_mean`` is the mean of the sub-periods' means weighted by their days.
"""

from __future__ import annotations

import pandas as pd

from fpstat.indicators.rollup import null_sum
from fpstat.schema.periods import (
    parse_period,
    period_bounds,
    period_kind,
    period_of,
    periods_within,
)

FLOW_FIELDS: tuple[str, ...] = (
    "births",
    "births_male",
    "births_female",
    "births_within_policy",
    "deaths",
    "births_order_1",
    "births_order_2",
    "births_order_3plus",
    "birth_defects",
)
STOCK_FIELDS: tuple[str, ...] = (
    "population",
    "women_15_49",
    "married_women_15_49",
    "contraceptive_users",
    "migrant_women",
    "migrant_women_registered",
)
MEAN_FIELDS: tuple[str, ...] = ("population_mean",)
TABLE_FIELDS: tuple[str, ...] = FLOW_FIELDS + STOCK_FIELDS + MEAN_FIELDS

#: Finer period kinds that can make up each kind, preferred first.
_FINER: dict[str, tuple[str, ...]] = {
    "year": ("month", "quarter"),
    "sy": ("month", "quarter"),
    "quarter": ("month",),
    "month": (),
}
_KIND_EN = {
    "year": "calendar-year",
    "sy": "statistical-year",
    "quarter": "quarterly",
    "month": "monthly",
}


def prepare_tables(tables: pd.DataFrame, labels: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """One row per source x area x period, counts as float64 (NaN where not given).

    ``labels`` maps a table's role to the ``source`` label it gets in the output. A row given
    twice (same role, area and period) keeps its first occurrence in file/sheet/row order.
    """
    notes: list[str] = []
    frame = tables.copy()
    for column in TABLE_FIELDS:
        if column not in frame.columns:
            frame[column] = float("nan")
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    # Boys + girls where only they are given (a monthly sheet), as the data contract says.
    derivable = (
        frame["births"].isna() & frame["births_male"].notna() & frame["births_female"].notna()
    )
    frame.loc[derivable, "births"] = (
        frame.loc[derivable, "births_male"] + frame.loc[derivable, "births_female"]
    )
    frame["period"] = frame["period"].map(
        lambda text: parse_period(text) if pd.notna(text) else None
    )
    frame = frame.loc[frame["period"].notna() & frame["area_code"].notna()]
    frame["source"] = frame["role"].astype(str).map(lambda role: labels.get(role, role))
    order = [c for c in ("source_file", "source_sheet", "source_row") if c in frame.columns]
    keys = ["source", "area_code", "period"]
    frame = frame.sort_values([*keys, *order], kind="stable").astype(
        {"area_code": str, "period": str}
    )
    duplicated = frame.duplicated(keys, keep="first")
    for source, count in frame.loc[duplicated, "source"].value_counts().sort_index().items():
        notes.append(
            f"{source}: {count} area-period rows given more than once (e.g. on two sheets); "
            "each count is taken from the first row in file order that gives it"
        )
    # groupby.first takes each column's first non-missing value, in the sorted file order.
    combined = frame[[*keys, *TABLE_FIELDS]].groupby(keys, sort=True).first().reset_index()
    return combined, notes


def _combine(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Combine complete sets of sub-period rows (flows summed, stocks at the end, means by days)."""
    rows = rows.assign(
        _end=rows["period"].map(lambda p: period_bounds(p)[1]),
        _days=rows["period"].map(lambda p: (period_bounds(p)[1] - period_bounds(p)[0]).days + 1),
    )
    flows = null_sum(rows, keys, FLOW_FIELDS)
    last = rows.sort_values([*keys, "_end"]).groupby(keys, sort=True).tail(1)
    stocks = last[[*keys, *STOCK_FIELDS]]
    weighted = rows.assign(**{f: rows[f] * rows["_days"] for f in MEAN_FIELDS})
    means = null_sum(weighted, keys, [*MEAN_FIELDS, "_days"])
    for column in MEAN_FIELDS:
        means[column] = means[column] / means["_days"]
    combined = flows.merge(stocks, on=keys).merge(means.drop(columns="_days"), on=keys)
    return combined


def to_period_kind(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, list[str]]:
    """The table's rows for periods of ``kind``: given directly, or built from finer rows."""
    notes: list[str] = []
    kinds = frame["period"].map(period_kind)
    result = [frame.loc[kinds == kind]]
    have = set(zip(result[0]["source"], result[0]["area_code"], result[0]["period"], strict=True))
    keys = ["source", "area_code", "target"]
    unbuilt: list[tuple[str, pd.DataFrame]] = []
    for finer in _FINER[kind]:
        rows = frame.loc[kinds == finer].copy()
        if rows.empty:
            continue
        targets = {p: _containing(p, kind) for p in rows["period"].unique()}
        rows["target"] = rows["period"].map(targets)
        rows = rows.loc[
            [
                (s, a, t) not in have
                for s, a, t in zip(rows["source"], rows["area_code"], rows["target"], strict=True)
            ]
        ]
        if rows.empty:
            continue
        needed = {t: len(periods_within(t, finer)) for t in rows["target"].unique()}
        counts = rows.groupby(keys, sort=True).size().rename("present").reset_index()
        counts["needed"] = counts["target"].map(needed)
        complete = counts.loc[counts["present"] == counts["needed"], keys]
        incomplete = counts.loc[counts["present"] != counts["needed"]]
        if not complete.empty:
            built = _combine(rows.merge(complete, on=keys), keys)
            built = built.rename(columns={"target": "period"})
            result.append(built)
            have |= set(zip(built["source"], built["area_code"], built["period"], strict=True))
            for (source, target), group in complete.groupby(["source", "target"], sort=True):
                notes.append(
                    f"{source}: {target} built from {needed[target]} {_KIND_EN[finer]} rows "
                    f"for {len(group)} area(s)"
                )
        if not incomplete.empty:
            unbuilt.append((finer, incomplete))
    for finer, incomplete in unbuilt:
        still = incomplete.loc[
            [
                (s, a, t) not in have
                for s, a, t in zip(
                    incomplete["source"], incomplete["area_code"], incomplete["target"], strict=True
                )
            ]
        ].drop_duplicates(keys)
        if still.empty:
            continue
        # The area is there but its figures are not: a row of missing counts, so that its
        # parent's sum is missing too instead of silently leaving the area out.
        placeholder = still[keys].rename(columns={"target": "period"})
        result.append(placeholder.assign(**{f: float("nan") for f in TABLE_FIELDS}))
        have |= set(
            zip(placeholder["source"], placeholder["area_code"], placeholder["period"], strict=True)
        )
        for (source, target), group in still.groupby(["source", "target"], sort=True):
            first = group.iloc[0]
            notes.append(
                f"{source}: {target} not built for {len(group)} area(s) whose {_KIND_EN[finer]} rows "
                f"are incomplete (e.g. {first['area_code']}: {first['present']} of {first['needed']})"
            )
    coarser = frame.loc[~kinds.isin([kind, *_FINER[kind]])]
    for source, count in coarser["source"].value_counts().sort_index().items():
        notes.append(
            f"{source}: {count} row(s) of a period kind that cannot be split into "
            f"{_KIND_EN[kind]} periods are not used"
        )
    combined = pd.concat(result, ignore_index=True)
    return combined[["source", "area_code", "period", *TABLE_FIELDS]], notes


def _containing(period: str, kind: str) -> str:
    """The period of ``kind`` that contains the finer ``period``."""
    start = period_bounds(period)[0]
    return str(period_of(pd.Series([start]), kind).iloc[0])
