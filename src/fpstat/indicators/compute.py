"""Compute every indicator of the registry for a run directory.

Counts are made per source, area and period (records in the engine, count tables in pandas),
rolled up the area hierarchy by summing numerators and denominators, and only then turned into
values, 95 % intervals, evaluation statuses (the profile's thresholds) and funnel limits.
Record sources and count tables are computed side by side, each row labelled with its
``source`` (``planning``, ``police``, ``report``, ``population`` ...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.errors import UsageError
from fpstat.indicators.areas import AreaTable, load_areas, most_frequent_names
from fpstat.indicators.funnel import funnel_columns
from fpstat.indicators.inputs import RunInputs, read_run_inputs
from fpstat.indicators.intervals import interval_for
from fpstat.indicators.profiles import Profile, load_profile
from fpstat.indicators.reconciled import completeness_rows, sex_misreport_rows
from fpstat.indicators.records import RECORD_COUNT_FIELDS, RecordCounter
from fpstat.indicators.registry import REGISTRY
from fpstat.indicators.result import COLUMNS, IndicatorResult, round_significant, sort_rows
from fpstat.indicators.rollup import ALL_LEVEL, rollup_additive, rollup_reported, sy_windows
from fpstat.indicators.rows import Counts, record_rows, table_rows, usable
from fpstat.indicators.tables import TABLE_FIELDS, prepare_tables, to_period_kind
from fpstat.rundir import RunDir

WINDOW_FIELDS_RECORDS = ("births_within_policy", "births_policy_known")
WINDOW_FIELDS_TABLES = ("births_within_policy", "births")
WHOLE_DROP_NAME = "全部"
INDICATORS_FILE = "indicators.csv"


def _labels(inputs: RunInputs) -> tuple[list[str], dict[str, str]]:
    """Record roles present, and the ``source`` label of every role (a count table of a role
    that also has records is labelled ``<role>-table``)."""
    record_roles: list[str] = []
    if inputs.records is not None and inputs.records.num_rows:
        record_roles = sorted(
            str(r) for r in pc.unique(inputs.records.column("role")).to_pylist() if r
        )
    labels = {role: role for role in record_roles}
    if inputs.tables is not None:
        for role in sorted(inputs.tables["role"].dropna().astype(str).unique()):
            labels[role] = f"{role}-table" if role in record_roles else role
    return record_roles, labels


def _count(
    inputs: RunInputs, engine: Engine, notes: list[str]
) -> tuple[Counts, list[tuple[str, str, int]]]:
    """Rolled-up counts of every source, and ``(code, name, how often)`` for area names."""
    record_roles, labels = _labels(inputs)
    counts = Counts(
        period_kind=inputs.period_kind,
        has_links=inputs.links is not None,
        planning_source=labels.get("planning", "planning"),
    )
    names: list[tuple[str, str, int]] = []
    if record_roles:
        names += _count_records(inputs, engine, labels, counts)
        if inputs.links is None:
            notes.append("links.parquet is absent: record counts are not de-duplicated")
    if inputs.tables is not None and not inputs.tables.empty:
        names += _count_tables(inputs.tables, inputs.period_kind, labels, counts, notes)
    return counts, names


def _count_records(
    inputs: RunInputs, engine: Engine, labels: dict[str, str], counts: Counts
) -> list[tuple[str, str, int]]:
    """Record counts in the run's periods and three-year windows, into ``counts``."""
    assert inputs.records is not None
    kind = inputs.period_kind
    counter = RecordCounter(engine, inputs.records, inputs.links)
    try:
        counts.records = rollup_additive(
            counter.counts(kind, labels), RECORD_COUNT_FIELDS, engine=engine
        )
        yearly = counts.records
        if kind != "sy":
            yearly = rollup_additive(
                counter.counts("sy", labels), RECORD_COUNT_FIELDS, engine=engine
            )
        counts.records_windows = sy_windows(
            yearly, WINDOW_FIELDS_RECORDS, 3, covered=_covered_years(yearly)
        )
        return counter.area_name_counts()
    finally:
        counter.close()


def _count_tables(
    tables: pd.DataFrame, kind: str, labels: dict[str, str], counts: Counts, notes: list[str]
) -> list[tuple[str, str, int]]:
    """Count-table figures in the run's periods, calendar years and windows, into ``counts``."""
    prepared, table_notes = prepare_tables(tables, labels)
    notes += table_notes
    by_kind, kind_notes = to_period_kind(prepared, kind)
    notes += kind_notes
    rolled = rollup_reported(by_kind, TABLE_FIELDS, notes=notes)
    rolled["natural_increase"] = rolled["births"] - rolled["deaths"]
    counts.tables = rolled
    if kind in ("month", "quarter"):
        counts.tables_years = rollup_reported(to_period_kind(prepared, "year")[0], TABLE_FIELDS)
    # Statistical years for policy_rate_3y; this auxiliary pass's notes would only repeat.
    by_sy = by_kind if kind == "sy" else to_period_kind(prepared, "sy")[0]
    counts.tables_windows = sy_windows(
        rollup_reported(by_sy, TABLE_FIELDS), WINDOW_FIELDS_TABLES, 3
    )
    counts.table_sources = {
        label: role for role, label in labels.items() if label in set(prepared["source"])
    }
    if "area_name" not in tables.columns:
        return []
    named = tables.dropna(subset=["area_code", "area_name"])
    pairs = named.groupby([named["area_code"].astype(str), named["area_name"].astype(str)]).size()
    return [(code, name, int(n)) for (code, name), n in pairs.items()]


def _covered_years(yearly: pd.DataFrame) -> dict[str, set[str]]:
    """Statistical years each record source covers: those with at least half the births of
    its fullest year, so that a stray record dated a year early does not make a year."""
    whole = yearly.loc[yearly["level"] == ALL_LEVEL]
    covered: dict[str, set[str]] = {}
    for source, group in whole.groupby("source", sort=True):
        fullest = group["entries"].max()
        covered[str(source)] = set(group.loc[group["entries"] >= 0.5 * fullest, "period"])
    return covered


def _gather(
    counts: Counts,
    inputs: RunInputs,
    areas: AreaTable | None,
    labels: dict[str, str],
    notes: list[str],
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """All indicator rows (numerators, denominators) and the indicators that got none."""
    reconciled: dict[str, pd.DataFrame] = {}
    reconcile_reasons: dict[str, str] = {}
    if inputs.completeness is not None:
        rows, completeness_notes = completeness_rows(inputs.completeness, labels, areas)
        notes += completeness_notes
        for indicator in ("completeness", "underreport_rate"):
            reconciled[indicator] = (
                rows.loc[rows["indicator"] == indicator] if not rows.empty else rows
            )
    else:
        reconcile_reasons["completeness"] = reconcile_reasons["underreport_rate"] = (
            "completeness.csv is absent"
        )
    if inputs.sex_disagreements is not None:
        reconciled["sex_misreport_rate"] = sex_misreport_rows(
            inputs.sex_disagreements, labels, areas
        )
    else:
        reconcile_reasons["sex_misreport_rate"] = "sex_disagreements.csv is absent"
    pieces: list[pd.DataFrame] = []
    skipped: list[dict[str, str]] = []
    for indicator in REGISTRY.values():
        found: list[pd.DataFrame] = []
        reasons: list[str] = []
        makers = []
        if indicator.record_fields:
            makers.append(("records", record_rows))
        if indicator.table_fields:
            makers.append(("tables", table_rows))
        for kind, maker in makers:
            rows, reason = maker(indicator, counts)
            found.append(rows)
            if reason:
                reasons.append(f"{kind}: {reason}")
        if indicator.reconcile:
            found.append(reconciled.get(indicator.id, pd.DataFrame()))
            if indicator.id in reconcile_reasons:
                reasons.append(reconcile_reasons[indicator.id])
        frames = [f for f in found if not f.empty]
        gathered = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        kept = usable(gathered)
        if kept.empty:
            if not gathered.empty:
                reasons.append("every denominator is zero or missing")
            skipped.append({"indicator": indicator.id, "reason": "; ".join(reasons) or "no data"})
        else:
            pieces.append(kept)
    if not pieces:
        return pd.DataFrame(), skipped
    rows = pd.concat(pieces, ignore_index=True)
    # Plain Python strings for the keys: Arrow-backed strings are slow in row-wise maps.
    for column in ("indicator", "source", "denominator_source", "level", "area_code", "period"):
        rows[column] = rows[column].astype(str).astype(object)
    return rows, skipped


def _values_and_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    for column in ("total_low", "total_high", "births", "deaths"):
        if column not in rows.columns:
            rows[column] = np.nan
    rows["value"] = np.nan
    rows["ci_low"] = np.nan
    rows["ci_high"] = np.nan
    for indicator_id, index in rows.groupby("indicator", sort=False).groups.items():
        indicator = REGISTRY[indicator_id]
        part = rows.loc[index]
        numerator = part["numerator"].to_numpy("float64")
        denominator = part["denominator"].to_numpy("float64")
        share = numerator / denominator
        rows.loc[index, "value"] = indicator.scale * (
            (1.0 - share) if indicator.complement else share
        )
        low, high = interval_for(
            indicator,
            numerator,
            denominator,
            total_low=part["total_low"].to_numpy("float64"),
            total_high=part["total_high"].to_numpy("float64"),
            births=part["births"].to_numpy("float64"),
            deaths=part["deaths"].to_numpy("float64"),
        )
        rows.loc[index, "ci_low"] = low
        rows.loc[index, "ci_high"] = high
    return rows


def _area_names(
    rows: pd.DataFrame, areas: AreaTable | None, pairs: list[tuple[str, str, int]]
) -> pd.Series:
    exported = most_frequent_names(pairs)
    if areas is None:
        names = rows["area_code"].map(exported)
    else:
        lookup = {
            (code, period): areas.name_for(code, period) or exported.get(code)
            for code, period in rows[["area_code", "period"]]
            .drop_duplicates()
            .itertuples(index=False)
        }
        names = pd.Series(
            [lookup[key] for key in zip(rows["area_code"], rows["period"], strict=True)],
            index=rows.index,
        )
    names = names.astype(object).where(names.notna(), "")
    return names.where(rows["level"] != ALL_LEVEL, WHOLE_DROP_NAME)


def _evaluate(rows: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    rows["threshold"] = ""
    rows["status"] = ""
    for threshold in profile.thresholds:
        mask = (rows["indicator"] == threshold.indicator) & rows["level"].isin(threshold.levels)
        if threshold.sources:
            mask &= rows["source"].isin(threshold.sources)
        if mask.any():
            rows.loc[mask, "threshold"] = threshold.describe()
            rows.loc[mask, "status"] = [threshold.status(v) for v in rows.loc[mask, "value"]]
    return rows


def compute_indicators(
    run: RunDir | str | Path,
    *,
    profile: Profile | str | Path | None = None,
    areas: AreaTable | str | Path | None = None,
    period_kind: str | None = None,
    engine: Engine | None = None,
    write: bool = True,
) -> IndicatorResult:
    """Every indicator of the registry for ``run``, by source, area (every level) and period.

    ``period_kind`` defaults to the run's (``manifest.parameters.period``); ``profile`` to
    :data:`fpstat.indicators.profiles.DEFAULT_PROFILE` (a name, a TOML path or a loaded
    :class:`Profile`); ``areas`` is an :class:`AreaTable` or the path of one. With ``write``
    (the default) the table is written to ``indicators.csv`` in the run directory; the
    manifest is left to the caller to save.
    """
    if not isinstance(run, RunDir):
        run = open_run(run)
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    if areas is not None and not isinstance(areas, AreaTable):
        areas = load_areas(areas)
    inputs = read_run_inputs(run, period_kind=period_kind, areas=areas)
    if all(
        getattr(inputs, name) is None
        for name in ("records", "tables", "completeness", "sex_disagreements")
    ):
        raise UsageError(
            "the run directory has none of records.parquet, tables.parquet, completeness.csv, "
            "sex_disagreements.csv (run reconcile first, or give --report / --population)",
            "运行目录中没有 records.parquet、tables.parquet、completeness.csv、sex_disagreements.csv "
            "（请先运行 reconcile，或给出 --report / --population）",
            file=str(run.path),
        )
    notes: list[str] = []
    owned = engine is None
    engine = engine or Engine()
    try:
        counts, name_pairs = _count(inputs, engine, notes)
    finally:
        if owned:
            engine.close()
    _, labels = _labels(inputs)
    rows, skipped = _gather(counts, inputs, areas, labels, notes)
    if rows.empty:
        result = IndicatorResult(
            pd.DataFrame(columns=list(COLUMNS)), profile, inputs.period_kind, skipped, notes
        )
        if write:
            run.write_csv(INDICATORS_FILE, result.csv_frame())
        return result
    rows = _values_and_intervals(rows)
    # Rounded before thresholds are applied, so that 46/50 is exactly 92 % and meets ">= 92".
    for column in ("numerator", "denominator", "value", "ci_low", "ci_high"):
        rows[column] = round_significant(rows[column].astype("float64"))
    rows["indicator_zh"] = rows["indicator"].map({i: d.name_zh for i, d in REGISTRY.items()})
    rows["unit"] = rows["indicator"].map({i: d.unit for i, d in REGISTRY.items()})
    rows["area_name"] = _area_names(rows, areas, name_pairs)
    rows = _evaluate(rows, profile)
    rows, fits = funnel_columns(rows)
    for column in ("funnel_low_95", "funnel_high_95", "funnel_low_998", "funnel_high_998"):
        rows[column] = round_significant(rows[column].astype("float64"))
    result = IndicatorResult(sort_rows(rows), profile, inputs.period_kind, skipped, notes, fits)
    if write:
        run.write_csv(INDICATORS_FILE, result.csv_frame())
    return result


def open_run(path: str | Path) -> RunDir:
    """An existing run directory (exit 2 when it is not there)."""
    if not Path(path).is_dir():
        raise UsageError("the run directory does not exist", "运行目录不存在", file=str(path))
    return RunDir(path, create=False)
