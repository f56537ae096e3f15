"""Numerator and denominator rows of each indicator, from rolled-up record and table counts.

Every row is one indicator x source x denominator source x level x area x period, with its
``numerator`` and ``denominator`` (and, for natural growth, ``births`` and ``deaths``).
Rows without a positive denominator are dropped: there is no rate to give.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpstat.indicators.registry import POPULATION, Indicator
from fpstat.schema.periods import period_kind

KEYS = ["source", "level", "area_code", "period"]
PLACE = ["level", "area_code", "period"]


@dataclass
class Counts:
    """Rolled-up counts (with ``level``) of the run: ``None`` where a kind of source is absent."""

    records: pd.DataFrame | None = None
    records_windows: pd.DataFrame | None = None
    tables: pd.DataFrame | None = None
    tables_windows: pd.DataFrame | None = None
    #: Calendar-year table rows, for months and quarters without their own population.
    tables_years: pd.DataFrame | None = None
    period_kind: str = "year"
    #: links.parquet was there, so duplicates are known (else duplicate_rate says nothing).
    has_links: bool = False
    planning_source: str = "planning"
    table_sources: dict[str, str] = field(default_factory=dict)  # label -> role


def denominators(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``level, area_code, period, denominator, denominator_source`` of one source's table.

    :data:`POPULATION` takes the mean population where given, else the year-end population,
    and says which in ``denominator_source`` (``report.population_mean`` or
    ``report.population_year_end``).
    """
    source = table["source"].astype(str)
    if name == POPULATION:
        mean = table["population_mean"]
        value = mean.where(mean.notna(), table["population"])
        which = np.where(mean.notna(), ".population_mean", ".population_year_end")
        label = source + which
    else:
        value = table[name]
        label = source + f".{name}"
    frame = table[PLACE].assign(denominator=value, denominator_source=label)
    return frame.loc[frame["denominator"].notna()]


def attach_denominators(
    numerators: pd.DataFrame, dens: pd.DataFrame, yearly: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Join denominators of the same area and period; a month or quarter without one takes its
    calendar year's from ``yearly`` (a period rate over the year's population), marked
    ``@<year>``."""
    merged = numerators.merge(dens, on=PLACE, how="left")
    kinds = {p: period_kind(p) for p in merged["period"].unique()}
    finer = merged["period"].map(kinds).isin(["month", "quarter"])
    need = merged["denominator"].isna() & finer
    if need.any() and yearly is not None and not yearly.empty:
        yearly = yearly.rename(columns={"period": "year"})
        fallback = merged.loc[need].drop(columns=["denominator", "denominator_source"])
        fallback = fallback.assign(year=fallback["period"].str.slice(0, 4))
        fallback = fallback.merge(yearly, on=["level", "area_code", "year"], how="left")
        fallback["denominator_source"] = fallback["denominator_source"] + "@" + fallback["year"]
        merged = pd.concat([merged.loc[~need], fallback.drop(columns="year")], ignore_index=True)
    return merged.loc[merged["denominator"].notna()]


def _plain(indicator: Indicator, frame: pd.DataFrame, num: str, den: str) -> pd.DataFrame:
    rows = frame[KEYS].assign(numerator=frame[num], denominator=frame[den])
    rows["denominator_source"] = frame["source"].astype(str) + f".{den}"
    return rows.assign(indicator=indicator.id)


def record_rows(indicator: Indicator, counts: Counts) -> tuple[pd.DataFrame, str | None]:
    """Rows from the record-level registers (with a table's denominator where external)."""
    assert indicator.record_fields is not None
    frame = counts.records_windows if indicator.window_years > 1 else counts.records
    if frame is None or frame.empty:
        if indicator.window_years > 1 and counts.records is not None:
            return pd.DataFrame(), "records cover fewer than three statistical years"
        return pd.DataFrame(), "no record-level sources in the run"
    num, den = indicator.record_fields
    if num == "duplicate_entries" and not counts.has_links:
        return pd.DataFrame(), "links.parquet is absent, so duplicates are unknown"
    if not indicator.external_denominator:
        return _plain(indicator, frame, num, den), None
    pieces = []
    for label in sorted(counts.table_sources):
        dens, yearly = _table_denominators(counts, label, den)
        if dens.empty and (yearly is None or yearly.empty):
            continue
        numerators = frame[KEYS].assign(numerator=frame[num])
        pieces.append(attach_denominators(numerators, dens, yearly))
    if not pieces:
        wanted = "a population" if den == POPULATION else den
        return pd.DataFrame(), f"no count table gives {wanted} (add --report or --population)"
    return pd.concat(pieces, ignore_index=True).assign(indicator=indicator.id), None


def table_rows(indicator: Indicator, counts: Counts) -> tuple[pd.DataFrame, str | None]:
    """Rows from the count tables, each table source over its own denominators."""
    assert indicator.table_fields is not None
    frame = counts.tables_windows if indicator.window_years > 1 else counts.tables
    if frame is None or frame.empty:
        if counts.tables is None:
            return pd.DataFrame(), "no count tables in the run (add --report or --population)"
        if indicator.window_years > 1:
            return pd.DataFrame(), "no count table gives three consecutive statistical years"
        return pd.DataFrame(), (
            f"the count tables give no {counts.period_kind} periods (nor all the months or "
            "quarters of one)"
        )
    num, den = indicator.table_fields
    labels = [
        label
        for label, role in sorted(counts.table_sources.items())
        if not indicator.table_roles or role in indicator.table_roles
    ]
    pieces = []
    for label in labels:
        table = (
            frame.loc[(frame["source"] == label) & frame[num].notna()]
            if num in frame
            else frame.iloc[0:0]
        )
        if table.empty:
            continue
        numerators = table[KEYS].assign(numerator=table[num])
        if num == "natural_increase":
            numerators = numerators.assign(births=table["births"], deaths=table["deaths"])
        if den == "register_births":
            dens, yearly = _register_births(counts), None
        elif indicator.window_years > 1:
            dens, yearly = denominators(table, den), None
        else:
            dens, yearly = _table_denominators(counts, label, den)
        if not dens.empty or (yearly is not None and not yearly.empty):
            pieces.append(attach_denominators(numerators, dens, yearly))
    if not pieces:
        if den == "register_births":
            return pd.DataFrame(), "needs report births and the planning register's records"
        return pd.DataFrame(), f"no count table gives both {num} and {den}"
    return pd.concat(pieces, ignore_index=True).assign(indicator=indicator.id), None


def _table_denominators(
    counts: Counts, label: str, name: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One table source's denominators in the run's periods, and in calendar years."""
    assert counts.tables is not None
    dens = denominators(counts.tables.loc[counts.tables["source"] == label], name)
    yearly = None
    if counts.tables_years is not None:
        yearly = denominators(counts.tables_years.loc[counts.tables_years["source"] == label], name)
    return dens, yearly


def _register_births(counts: Counts) -> pd.DataFrame:
    """The planning register's de-duplicated births per area and period (report accuracy)."""
    records = counts.records
    if records is None:
        return pd.DataFrame(columns=[*PLACE, "denominator", "denominator_source"])
    planning = records.loc[records["source"] == counts.planning_source]
    return planning[PLACE].assign(
        denominator=planning["births"], denominator_source=f"{counts.planning_source}.births"
    )


def usable(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with a numerator and a positive denominator."""
    if rows.empty:
        return rows
    keep = rows["numerator"].notna() & rows["denominator"].notna() & (rows["denominator"] > 0)
    return rows.loc[keep]
