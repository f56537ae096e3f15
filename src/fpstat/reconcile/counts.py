"""Counts, not only records: the register's births against each source's, per area and period.

``counts.csv`` has one row per area (every level) x period x source: the births the source
holds (``births``, ``births_male``, ``births_female``), the planning register's births
(``register_births``), ``difference = register_births - births``, ``ratio = register_births /
births`` with a 95 % interval, and ``completeness_bound``.

Both kinds of source give the same table, built the same way, so the two views agree:

* a **record-level** source counts its de-duplicated records (within-source duplicates found by
  the linkage are left out) by **its own** area code and the period of **its own** birth date,
  exactly what the office would have written in a count table;
* a **count table** (area x period x births, boys, girls) is used as given: its periods are
  mapped onto the run's period kind (a month into its quarter, year or statistical year; a
  period that straddles two of the run's periods cannot be split and is left out, with a
  warning), subtotal rows (an area whose sub-areas are also listed) are dropped so nothing is
  counted twice, and it rolls up from its own level (a township table has no village rows);
* the register's births are its distinct births (planning clusters; duplicates left out) by
  the planning record's own area and birth date.

Rows: every area and period where the source or the register has births, at the levels the
source reaches and in the periods it covers; an area the source does not list counts 0.

The ratio's interval is the exact conditional one for two Poisson counts (Ederer & Mantel
1974): given ``a + b`` births in all, ``a`` (the register's) is binomial with ``p = ratio /
(1 + ratio)``; the Clopper-Pearson (1934) interval for ``p`` is mapped back by
``p / (1 - p)``. The two counts share births, so treating them as independent makes the
interval wider than necessary, never narrower. ``completeness_bound = min(1, ratio)``: the
true number of births is at least what the source holds (a source holds no invented births),
so the register's completeness cannot exceed ``register_births / births``.

References: Ederer, F. & Mantel, N. (1974) Confidence limits on the ratio of two Poisson
variables. Am. J. Epidemiol. 100, 165-167. Clopper, C. J. & Pearson, E. S. (1934) The use of
confidence or fiducial limits illustrated in the case of the binomial. Biometrika 26, 404-413.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import beta

from fpstat.engine import Engine
from fpstat.engine import sql_reconcile as sql
from fpstat.schema.areas import LEVEL_NAMES, ancestors_series, depth, level_of
from fpstat.schema.periods import period_bounds, period_of

REGISTER = "planning"
#: Roles whose births can be compared with the register (report/population are other checks).
SOURCE_ROLES: tuple[str, ...] = ("police", "census", "hospital", "education")
COLUMNS: tuple[str, ...] = (
    "area_code", "level", "period", "role", "births", "births_male", "births_female",
    "register_births", "difference", "ratio", "ratio_ci_low", "ratio_ci_high",
    "completeness_bound",
)
SEX_COLUMNS: tuple[str, ...] = ("area_code", "level", "period", "linked_births", "sex_disagreements")


@dataclass
class CountComparison:
    """``counts.csv`` and what could not be compared."""

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def ratio_interval(
    register: np.ndarray, source: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``register / source`` and its exact conditional interval (see the module doc).

    NaN where the source has no births (the ratio is unbounded); the lower end is 0 where the
    register has none.
    """
    a = np.asarray(register, dtype=float)
    b = np.asarray(source, dtype=float)
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, a / b, np.nan)
        p_low = np.where(a > 0, beta.ppf(alpha / 2, a, b + 1), 0.0)
        p_high = np.where(b > 0, beta.ppf(1 - alpha / 2, a + 1, b), np.nan)
        low = np.where(b > 0, p_low / (1 - p_low), np.nan)
        high = np.where(b > 0, p_high / (1 - p_high), np.nan)
    return ratio, low, high


def map_periods(periods: pd.Series, kind: str) -> pd.Series:
    """Each period's enclosing period of ``kind``; null where it straddles two (or is null)."""
    mapping: dict[str, str | None] = {}
    for period in periods.dropna().unique():
        first, last = period_bounds(str(period))
        ends = period_of(pd.Series([first, last]), kind)
        mapping[str(period)] = str(ends.iloc[0]) if ends.iloc[0] == ends.iloc[1] else None
    return periods.astype("string").map(mapping).astype("string")


def drop_subtotals(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Leave out rows of an area whose sub-areas are listed too (same role and period)."""
    if table.empty:
        return table, 0
    own_depth = table["area_code"].map(lambda code: depth(level_of(code)))
    covered = set()
    for name in LEVEL_NAMES[:-1]:
        deeper = table.loc[own_depth > depth(name)]
        ancestors = ancestors_series(deeper["area_code"], name)
        covered.update(zip(deeper["role"], deeper["period"], ancestors, strict=True))
    keys = zip(table["role"], table["period"], table["area_code"], strict=True)
    subtotal = np.array([key in covered for key in keys], dtype=bool)
    return table.loc[~subtotal].reset_index(drop=True), int(subtotal.sum())


def prepare_count_tables(
    count_tables: Mapping[str, pd.DataFrame], kind: str
) -> tuple[pd.DataFrame, list[str]]:
    """Count-table rows of the comparable roles, on the run's periods, subtotals removed."""
    warnings: list[str] = []
    pieces = []
    for role in SOURCE_ROLES:
        table = count_tables.get(role)
        if table is None or table.empty:
            continue
        rows = table.loc[table["area_code"].notna() & table["period"].notna(),
                         ["role", "area_code", "period", "births", "births_male", "births_female"]]
        rows = rows.assign(role=role, area_code=rows["area_code"].astype("string"),
                           period=rows["period"].astype("string"))
        rows, subtotals = drop_subtotals(rows.reset_index(drop=True))
        if subtotals:
            warnings.append(f"count-subtotals-dropped:{role}:{subtotals}")
        mapped = map_periods(rows["period"], kind)
        straddling = int(mapped.isna().sum())
        if straddling:
            warnings.append(f"count-periods-not-comparable:{role}:{straddling}")
        pieces.append(rows.assign(period=mapped).loc[mapped.notna()])
    if not pieces:
        return pd.DataFrame(columns=["role", "area_code", "period", "births", "births_male",
                                     "births_female"]), warnings
    combined = pd.concat(pieces, ignore_index=True)
    for column in ("births", "births_male", "births_female"):
        combined[column] = pd.to_numeric(combined[column], errors="coerce").astype("Int64")
    return combined, warnings


def _source_depths(own: pd.DataFrame) -> dict[str, int]:
    """The deepest level each role's own rows reach."""
    codes = own.drop_duplicates(["role", "area_code"])
    depths = codes["area_code"].map(lambda code: depth(level_of(code)))
    return depths.groupby(codes["role"]).max().astype(int).to_dict()


def compare_counts(
    engine: Engine,
    record_roles: tuple[str, ...],
    count_tables: Mapping[str, pd.DataFrame],
    kind: str,
    *,
    level: float = 0.95,
) -> CountComparison:
    """Build ``counts.csv`` (needs ``reconcile_members`` etc. from :func:`.births.build_births`)."""
    tables, warnings = prepare_count_tables(count_tables, kind)
    both = sorted(set(record_roles) & set(tables["role"]))
    warnings += [f"source-given-twice:{role}" for role in both]
    engine.register("reconcile_count_input", tables)
    try:
        base = sql.own_counts_from_records() if record_roles else None
        union = " UNION ALL ".join(
            part for part in (base, sql.count_table_rows() if len(tables) else None) if part
        )
        if not union:
            return CountComparison(pd.DataFrame(columns=list(COLUMNS)), warnings)
        own = engine.frame(f"SELECT * FROM ({union}) u WHERE period IS NOT NULL")
        rolled = engine.frame(sql.rollup(
            f"SELECT * FROM ({union}) u WHERE period IS NOT NULL",
            ["role", "period"], ["births", "births_male", "births_female"],
            order=["area_code", "period", "role"],
        ))
    finally:
        engine.unregister("reconcile_count_input")
    depths = _source_depths(own)
    rolled = rolled.astype({"area_code": "string", "period": "string", "role": "string",
                            "level": "string"})
    register = rolled.loc[rolled["role"] == REGISTER, ["area_code", "level", "depth", "period", "births"]]
    register = register.rename(columns={"births": "register_births"})
    pieces = []
    for role in sorted(set(rolled["role"]) - {REGISTER}):
        if role not in SOURCE_ROLES:
            continue
        mine = rolled.loc[rolled["role"] == role].drop(columns="role").assign(listed=True)
        reach = register.loc[(register["depth"] <= depths[role])
                             & register["period"].isin(set(mine["period"]))]
        merged = mine.merge(reach, on=["area_code", "level", "depth", "period"], how="outer")
        merged["role"] = role
        pieces.append(merged)
    if not pieces:
        return CountComparison(pd.DataFrame(columns=list(COLUMNS)), warnings)
    table = pd.concat(pieces, ignore_index=True)
    # An area the source does not list: it holds no births there (and no boys or girls).
    unlisted = table["listed"].isna().to_numpy()
    for column in ("births", "births_male", "births_female"):
        table[column] = table[column].astype("Int64").mask(unlisted, 0)
    table["register_births"] = table["register_births"].fillna(0).astype("Int64")
    table["difference"] = table["register_births"] - table["births"]
    ratio, low, high = ratio_interval(
        table["register_births"].to_numpy(dtype=float, na_value=np.nan),
        table["births"].to_numpy(dtype=float, na_value=np.nan),
        level,
    )
    table["ratio"] = np.round(ratio, 4)
    table["ratio_ci_low"] = np.round(low, 4)
    table["ratio_ci_high"] = np.round(high, 4)
    table["completeness_bound"] = np.round(np.minimum(1.0, ratio), 4)
    table = table.sort_values(["area_code", "period", "role"], kind="stable", ignore_index=True)
    return CountComparison(table[list(COLUMNS)], warnings)


def sex_disagreements(engine: Engine) -> pd.DataFrame:
    """``sex_disagreements.csv``: linked planning births, and those whose sex disagrees."""
    base = sql.planning_sex_checks()
    rolled = engine.frame(sql.rollup(
        base, ["period"], ["linked_births", "sex_disagreements"], order=["area_code", "period"]
    ))
    if rolled.empty:
        return pd.DataFrame(columns=list(SEX_COLUMNS))
    for column in ("linked_births", "sex_disagreements"):
        rolled[column] = rolled[column].fillna(0).astype("int64")
    return rolled[list(SEX_COLUMNS)].reset_index(drop=True)
