"""The reconcile stage from loaded inputs to a run directory: :func:`reconcile_inputs`.

Link the record-level sources, turn clusters into births, compare counts, estimate
completeness, list the births missing from the register, and write (all through
:class:`fpstat.rundir.RunDir`): ``rejects.csv``, ``links.parquet``, ``records.parquet``,
``tables.parquet``, ``unregistered.csv``, ``counts.csv``, ``completeness.csv``,
``sex_disagreements.csv`` (``records.xlsx`` with ``include_records``), and the manifest
(``inputs``, ``parameters``, ``pseudonym_key_fingerprint``, ``linkage``, ``reconcile``,
``timings``). ``fpstat reconcile`` and the pipeline of ``fpstat run`` both call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine, release_freed_memory
from fpstat.engine import sql_reconcile as sql
from fpstat.errors import UsageError
from fpstat.privacy import key_fingerprint, load_pseudonym_key, pseudonyms
from fpstat.reconcile import births as births_module
from fpstat.reconcile.area_estimates import COVARIATE_LABELS
from fpstat.reconcile.completeness import CompletenessSettings, completeness_table
from fpstat.reconcile.counts import SOURCE_ROLES, compare_counts, sex_disagreements
from fpstat.reconcile.estimators import lognormal_ci
from fpstat.reconcile.linkage import LinkageSettings, link_records
from fpstat.reconcile.linkage_uncertainty import doubtful_decisions
from fpstat.reconcile.unregistered import COLUMNS as UNREGISTERED_COLUMNS
from fpstat.reconcile.unregistered import unregistered_births
from fpstat.rundir import RunDir
from fpstat.schema import LoadResult, empty_counts, empty_records
from fpstat.schema.periods import PERIOD_KINDS

ProgressCallback = Callable[..., None]
STEPS = ("link", "births", "counts", "completeness", "unregistered", "write")


@dataclass
class ReconcileSettings:
    """Options of the reconcile stage (``fpstat reconcile`` flags, the config's ``[run]``)."""

    period: str = "sy"
    include_records: bool = False
    criterion: str = "aic"
    stratify: bool = True
    memory_limit: str | None = None
    as_of: dt.date | None = None
    level: float = 0.95
    linkage: LinkageSettings = field(default_factory=LinkageSettings)

    def validate(self) -> None:
        if self.period not in PERIOD_KINDS:
            raise UsageError(
                f"period must be one of {', '.join(PERIOD_KINDS)}, not {self.period!r}",
                f"报告期须为 {'、'.join(PERIOD_KINDS)} 之一，而不是 {self.period!r}",
            )
        if self.criterion not in ("aic", "bic"):
            raise UsageError(
                f"criterion must be aic or bic, not {self.criterion!r}",
                f"模型选择准则须为 aic 或 bic，而不是 {self.criterion!r}",
            )

    def describe(self) -> dict[str, Any]:
        return {
            "period": self.period, "criterion": self.criterion, "stratify": self.stratify,
            "include_records": self.include_records, "level": self.level,
            "as_of": (self.as_of or dt.date.today()).isoformat(),
            "linkage": self.linkage.describe(),
        }


@dataclass
class ReconcileSummary:
    """What one reconcile run found, for the summary table and ``--json``."""

    run_dir: str
    period: str
    window: list[str]
    record_roles: list[str]
    count_roles: list[str]
    births: int
    unregistered: int
    rejected_rows: int
    counties: pd.DataFrame
    warnings: list[str]
    outputs: list[str]

    def to_dict(self) -> dict[str, Any]:
        counties = self.counties.astype(object).where(self.counties.notna(), None)
        return {
            "run_dir": self.run_dir, "period": self.period, "window": self.window,
            "record_roles": self.record_roles, "count_roles": self.count_roles,
            "births": self.births, "unregistered": self.unregistered,
            "rejected_rows": self.rejected_rows, "counties": counties.to_dict("records"),
            "warnings": self.warnings, "outputs": self.outputs,
        }


def _check_inputs(loaded: LoadResult) -> tuple[dict[str, pd.DataFrame], list[str]]:
    records = {role: frame for role, frame in loaded.records.items() if len(frame)}
    if "planning" not in records:
        raise UsageError(
            "no planning register records were read: reconcile needs the register (--planning)",
            "未读入计生出生登记记录：核对需要计生登记台账（--planning）",
        )
    counted = [role for role in SOURCE_ROLES if role in loaded.counts and len(loaded.counts[role])]
    if len(records) < 2 and not counted:
        raise UsageError(
            "reconcile needs at least one source besides the planning register",
            "核对至少需要计生登记以外的一个数据来源",
        )
    return records, counted


def _rejected_rows(loaded: LoadResult) -> int:
    return int(sum(int(entry.get("rows_rejected", 0)) for entry in loaded.inputs))


def _coverage(engine: Engine) -> dict[str, dict[str, float]]:
    rows = engine.arrow(sql.covariate_coverage()).to_pylist()
    return {
        row["role"]: {c: (row[c] / row["records"] if row["records"] else 0.0) for c in sql.COVARIATES}
        for row in rows
    }


def _coverage_warnings(coverage: dict[str, dict[str, float]], threshold: float) -> list[str]:
    return [
        f"covariate-not-recorded:{COVARIATE_LABELS[c]}:{role}"
        for role, shares in sorted(coverage.items()) for c in sql.COVARIATES if shares[c] < threshold
    ]


def reconcile_inputs(
    loaded: LoadResult,
    run: RunDir,
    settings: ReconcileSettings,
    *,
    engine: Engine | None = None,
    on_progress: ProgressCallback | None = None,
) -> ReconcileSummary:
    """Reconcile ``loaded`` into the run directory ``run`` and say what was found.

    Raises :class:`fpstat.errors.UsageError` when there is no planning register or nothing to
    compare it with. ``on_progress(step, done, total)`` is called as each step starts.
    """
    settings.validate()
    records, count_roles = _check_inputs(loaded)
    notify = on_progress or (lambda *args, **kwargs: None)
    owned = engine is None
    engine = engine or Engine(memory_limit=settings.memory_limit)
    key = load_pseudonym_key()
    completeness_settings = CompletenessSettings(
        criterion=settings.criterion, stratify=settings.stratify, level=settings.level  # type: ignore[arg-type]
    )

    def linkage_stage_done(stage: str, done: int, total: int) -> None:
        # Each linkage stage frees arrays of millions of rows: give them back before the next.
        release_freed_memory()
        notify(f"linking records: {stage}", 0, len(STEPS))

    try:
        release_freed_memory()  # what reading the inputs freed, before the linkage's peak
        notify("linking records", 0, len(STEPS))
        with run.timed("link"):
            linkage = link_records(records, engine=engine, settings=settings.linkage, on_progress=linkage_stage_done)
        release_freed_memory()
        notify("building births", 1, len(STEPS))
        with run.timed("births"):
            births = births_module.build_births(engine, records, linkage.links, settings.period)
            window = births_module.reconciliation_window(births)
        release_freed_memory()
        notify("comparing counts", 2, len(STEPS))
        with run.timed("counts"):
            counts = compare_counts(engine, births.roles, loaded.counts, settings.period, level=settings.level)
            sex_table = sex_disagreements(engine)
        notify("estimating completeness", 3, len(STEPS))
        with run.timed("completeness"):
            coverage = _coverage(engine)
            cells = engine.frame(sql.capture_cells(births.roles))
            doubtful = doubtful_decisions(births.table, births.roles, linkage.links, linkage.near_misses,
                                          settings.linkage.uncertainty_floor, linkage.moves)
            completeness = completeness_table(cells, births.roles, coverage, window,
                                              completeness_settings, doubtful)
        notify("listing unregistered births", 4, len(STEPS))
        with run.timed("unregistered"):
            unregistered, behind = unregistered_births(engine, births, window, key, linkage.links, records)
            private = behind if settings.include_records else None
        births_module.release(engine)  # the engine's tables are not needed for writing
        release_freed_memory()
        notify("writing the run directory", 5, len(STEPS))
        with run.timed("write"):
            outputs = _write(run, loaded, linkage.links, unregistered, counts.table, completeness,
                             sex_table, private, key)
        warnings = counts.warnings + _coverage_warnings(coverage, completeness_settings.min_covariate_share)
        run.manifest.inputs = list(loaded.inputs)
        run.manifest.parameters.update(settings.describe())
        run.manifest.extra.update({
            "pseudonym_key_fingerprint": key_fingerprint(key),
            "linkage": linkage.parameters,
            "reconcile": {"window": window, "record_roles": list(births.roles),
                          "count_roles": count_roles, "warnings": warnings,
                          "covariate_coverage": coverage},
        })
        run.log("reconcile.done", births=len(births.table), unregistered=len(unregistered),
                window=window, rejected_rows=_rejected_rows(loaded))
        run.save_manifest()
        notify("done", len(STEPS), len(STEPS))
        return ReconcileSummary(
            run_dir=str(run.path), period=settings.period, window=window,
            record_roles=list(births.roles), count_roles=count_roles, births=len(births.table),
            unregistered=len(unregistered), rejected_rows=_rejected_rows(loaded),
            counties=county_summary(completeness, unregistered, births.roles),
            warnings=warnings, outputs=outputs,
        )
    finally:
        births_module.release(engine)
        if owned:
            engine.close()


def _write(run: RunDir, loaded: LoadResult, links: pd.DataFrame, unregistered: pd.DataFrame,
           counts: pd.DataFrame, completeness: pd.DataFrame, sex_table: pd.DataFrame,
           private: pd.DataFrame | None, key: bytes) -> list[str]:
    # Parquet is encoded and compressed outside the GIL: the two large files are written in
    # the background while the IDs are hashed and the CSVs written here (3 s less at a
    # million births).
    with ThreadPoolExecutor(max_workers=1) as background:
        pending = [background.submit(run.write_parquet, "links.parquet", links)]
        records = records_table(loaded.records, key)
        pending.append(background.submit(run.write_parquet, "records.parquet", records))
        run.write_csv("rejects.csv", loaded.rejects)
        run.write_parquet("tables.parquet", tables_table(loaded.counts))
        run.write_csv("unregistered.csv", unregistered[list(UNREGISTERED_COLUMNS)])
        run.write_csv("counts.csv", counts)
        run.write_csv("completeness.csv", completeness.drop(columns=["se"]))
        run.write_csv("sex_disagreements.csv", sex_table)
        for done in pending:
            done.result()
    written = ["rejects.csv", "links.parquet", "records.parquet", "tables.parquet",
               "unregistered.csv", "counts.csv", "completeness.csv", "sex_disagreements.csv"]
    if private is not None:
        run.write_private_xlsx("records.xlsx", {"unregistered": private})
        written.append("records.xlsx")
    return written


_ID_COLUMNS = {"child_id": "child_pid", "mother_id": "mother_pid", "father_id": "father_pid"}
_NAME_COLUMNS = ("child_name", "mother_name")
_SORT = ["role", "source_file", "source_sheet", "source_row"]


def records_table(records: dict[str, pd.DataFrame], key: bytes) -> pa.Table:
    """``records.parquet``: every record-level source, IDs pseudonymised, names dropped.

    Built in Arrow (millions of rows): each distinct ID is hashed once, whatever column it
    sits in (:func:`fpstat.privacy.pseudonyms`), and the columns are mapped by lookup.
    """
    frames = [frame for frame in records.values() if len(frame)] or [empty_records()]
    table = pa.concat_tables(
        [pa.Table.from_pandas(frame, preserve_index=False) for frame in frames], promote_options="permissive"
    )
    table = table.drop_columns([name for name in _NAME_COLUMNS if name in table.column_names])
    order = pc.sort_indices(table, sort_keys=[(column, "ascending") for column in _SORT])
    # Sources are usually read in this order already; moving millions of rows costs seconds.
    if not np.array_equal(order.to_numpy(), np.arange(table.num_rows)):
        table = table.take(order)
    # One dictionary over the three ID columns: every distinct ID is found and hashed once.
    stacked = pa.concat_arrays([table.column(column).cast(pa.string()).combine_chunks() for column in _ID_COLUMNS])
    encoded = stacked.dictionary_encode()
    hashed = pa.array(pseudonyms(encoded.dictionary.to_pylist(), key), pa.string())
    hashed_ids = pc.take(hashed, encoded.indices)
    for position, (column, renamed) in enumerate(_ID_COLUMNS.items()):
        values = hashed_ids.slice(position * table.num_rows, table.num_rows)
        table = table.set_column(table.schema.get_field_index(column), renamed, values)
    return table


def tables_table(counts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``tables.parquet``: every count table with its role (empty but typed when none)."""
    frames = [frame for frame in counts.values() if len(frame)]
    if not frames:
        return empty_counts()
    combined = pd.concat(frames, ignore_index=True)
    return combined.sort_values([*_SORT, "area_code", "period"], kind="stable", ignore_index=True)


def county_summary(completeness: pd.DataFrame, unregistered: pd.DataFrame, roles: tuple[str, ...]) -> pd.DataFrame:
    """Per county over the whole window: births by source, estimated total with its 95 %
    interval (periods add up; their variances too), register completeness, births missing.

    Where a period carries identification bounds (``bounds_low``/``bounds_high``, one list not
    recording the register's covariates), the regions add up but their sampling parts are not
    in ``se``: the interval is then the sum of the periods' limits, which is conservative."""
    counties = completeness.loc[completeness["level"] == "county"]
    columns = [f"n_{role}" for role in roles] + ["n_observed", "est_total", "se"]
    if counties.empty:
        return pd.DataFrame(columns=["county_code", *columns[:-1], "ci_low", "ci_high",
                                     "completeness_planning", "unregistered"])
    grouped = counties.groupby("area_code", sort=True)
    summary = grouped[columns[:-2]].sum()
    estimable = grouped["est_total"].apply(lambda values: values.notna().all())
    summary["est_total"] = grouped["est_total"].sum().where(estimable)
    summary["se"] = np.sqrt(grouped["se"].apply(lambda values: (values**2).sum()))
    low, high = lognormal_ci(summary["n_observed"].to_numpy(float), summary["est_total"].to_numpy(float),
                             summary["se"].to_numpy(float))
    if "bounds_low" in counties:
        bounded = grouped["bounds_low"].apply(lambda values: values.notna().any()).to_numpy()
        low = np.where(bounded, grouped["ci_low"].sum().to_numpy(float), low)
        high = np.where(bounded, grouped["ci_high"].sum().to_numpy(float), high)
    summary["ci_low"], summary["ci_high"] = np.round(low, 1), np.round(high, 1)
    summary["est_total"] = summary["est_total"].round(1)
    summary["completeness_planning"] = (summary["n_planning"] / summary["est_total"]).round(4)
    missing = unregistered.groupby("county_code").size() if len(unregistered) else pd.Series(dtype=int)
    summary["unregistered"] = missing.reindex(summary.index).fillna(0).astype(int)
    summary = summary.drop(columns=["se"]).reset_index().rename(columns={"area_code": "county_code"})
    return summary
