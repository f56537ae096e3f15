"""Adding count tables (``--report`` / ``--population``) to a run directory.

The tables are loaded with :func:`fpstat.schema.load_inputs` and appended to the run's
``tables.parquet``; their rejected rows go to ``rejects.csv`` and their manifest entries to the
manifest's ``inputs``. Rows that an earlier run took from the same file (same role and path)
are replaced, so adding a file twice never counts it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from fpstat.rundir import RunDir

TABLES = "tables.parquet"
REJECTS = "rejects.csv"
_TABLE_ORDER = ["role", "area_code", "period", "source_file", "source_sheet", "source_row"]
_REJECT_ORDER = ["role", "file", "sheet", "row", "field", "reason_code"]


def add_count_tables(
    run: RunDir,
    *,
    reports: Sequence[str | Path] = (),
    populations: Sequence[str | Path] = (),
    as_of: dt.date | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Load ``reports`` (role ``report``) and ``populations`` (role ``population``) into the run.

    Returns notes for the command's output. Raises the schema's errors for unreadable files.
    """
    from fpstat.schema import InputSpec, load_inputs

    specs = [InputSpec(path=str(p), role="report") for p in reports]
    specs += [InputSpec(path=str(p), role="population") for p in populations]
    if not specs:
        return []
    loaded = load_inputs(specs, as_of=as_of or dt.date.today(), on_progress=on_progress)
    notes: list[str] = []
    frames = [frame for _, frame in sorted(loaded.counts.items()) if not frame.empty]
    if loaded.records:
        notes.append("record-level rows in --report/--population files are not used by indicators")
    new_keys = {(str(e.get("role")), str(e.get("path"))) for e in loaded.inputs}
    tables = [pa.Table.from_pandas(frame, preserve_index=False) for frame in frames]
    if run.exists(TABLES):
        existing = run.read_parquet(TABLES)
        keep = [
            (str(role), str(path)) not in new_keys
            for role, path in zip(existing["role"], existing["source_file"], strict=True)
        ]
        tables.insert(0, pa.Table.from_pandas(existing.loc[keep], preserve_index=False))
    if tables:
        combined = pa.concat_tables(tables, promote_options="permissive").to_pandas(
            types_mapper=pd.ArrowDtype
        )
        order = [c for c in _TABLE_ORDER if c in combined.columns]
        run.write_parquet(
            TABLES, combined.sort_values(order, kind="mergesort").reset_index(drop=True)
        )
    _append_rejects(run, loaded.rejects, new_keys)
    run.manifest.inputs = [
        entry
        for entry in run.manifest.inputs
        if (str(entry.get("role")), str(entry.get("path"))) not in new_keys
    ] + list(loaded.inputs)
    added = sum(len(frame) for frame in frames)
    notes.append(f"added {added} count-table rows from {len(loaded.inputs)} sheet(s) to {TABLES}")
    return notes


def _append_rejects(run: RunDir, rejects: pd.DataFrame, new_keys: set[tuple[str, str]]) -> None:
    if rejects.empty and not run.exists(REJECTS):
        return
    frames = [rejects.astype("string")]
    if run.exists(REJECTS):
        existing = run.read_csv(REJECTS, dtype="string")
        keep = [
            (str(role), str(path)) not in new_keys
            for role, path in zip(existing["role"], existing["file"], strict=True)
        ]
        frames.insert(0, existing.loc[keep])
    combined = pd.concat(frames, ignore_index=True)
    combined["_row"] = pd.to_numeric(combined["row"], errors="coerce")
    order = [c if c != "row" else "_row" for c in _REJECT_ORDER if c in combined.columns]
    combined = combined.sort_values(order, kind="mergesort").drop(columns="_row")
    run.write_csv(REJECTS, combined.reset_index(drop=True))
