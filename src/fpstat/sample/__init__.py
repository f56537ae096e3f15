"""Synthetic data drops: a prefecture's exports, messy as offices make them, with the truth.

:func:`generate_sample` writes, for one invented prefecture (code 3205) and the statistical
years 2024SY and 2025SY, the record-level exports of five sources (planning register, police
hukou, census, hospital deliveries, school/nursery enrolment), the office's report tables and
the statistics bureau's population, a ``fpstat.toml`` that runs the pipeline on them, and a
``truth/`` folder saying what really happened and what was planted. ``docs/sample.md``
documents every file and column.

Same seed and options give byte-identical files: every random draw comes from a stream named
after its purpose (so changing one part does not shift the others), outputs are sorted, and
workbooks carry a fixed creation date.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpstat.errors import UsageError
from fpstat.sample.corruption import corrupt
from fpstat.sample.drop import write_drop_files
from fpstat.sample.exports import assign_record_ids, write_jobs
from fpstat.sample.flat import write_flat
from fpstat.sample.geography import SIZES, build_geography, choose_parts
from fpstat.sample.injected import injected_summary
from fpstat.sample.layouts import JOBS, with_places
from fpstat.sample.population import true_births
from fpstat.sample.recording import source_records
from fpstat.sample.report_book import write_report
from fpstat.sample.reports import REPORT_FILE, report_tables
from fpstat.sample.sources import RECORD_ROLES, capture_births
from fpstat.sample.truth import (
    births_table,
    records_table,
    rejects_table,
    sorted_records,
    totals_table,
    write_truth,
)

__all__ = ["DEFAULT_SEED", "SIZES", "SampleSummary", "generate_sample"]

DEFAULT_SEED = 20241001
MIN_BIRTHS = 500
MAX_BIRTHS = 2_000_000          # resident ID sequences: at most 500 per sex, county and day
MAX_SPREADSHEET_BIRTHS = 200_000  # beyond this, messy workbooks are impractical: use --size large
#: First record number of each source, so that numbers look like the offices' (GA000101 ...).
FIRST_NUMBER = {"planning": 1, "police": 101, "census": 1, "hospital": 10001, "education": 1}


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate_sample` wrote."""

    out_dir: Path
    size: str
    seed: int
    births: int
    files: tuple[str, ...]                   # relative to out_dir, sorted
    rows: dict[str, int]                     # data rows written per record-level source
    rejected: dict[str, int]                 # rows a correct reader rejects, per role
    duplicates: int                          # second entries in the planning register
    captured: dict[str, int] = field(default_factory=dict)  # true births each source holds

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir), "size": self.size, "seed": self.seed, "births": self.births,
            "files": list(self.files), "rows": dict(self.rows), "rejected": dict(self.rejected),
            "duplicates": self.duplicates, "captured": dict(self.captured),
        }


def _streams(seed: int) -> Callable[[str], np.random.Generator]:
    """A random generator per purpose, all derived from ``seed``."""

    def stream(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])

    return stream


def _check_options(size: str, births: int | None, seed: int) -> int:
    if size not in SIZES:
        raise UsageError(
            f"--size must be one of {', '.join(SIZES)}, not {size!r}",
            f"--size 须为 {'、'.join(SIZES)} 之一，而不是 {size!r}",
        )
    if seed < 0:
        raise UsageError("--seed must be a non-negative integer", "--seed 须为非负整数")
    count = SIZES[size].births if births is None else births
    if not MIN_BIRTHS <= count <= MAX_BIRTHS:
        raise UsageError(
            f"--births must be between {MIN_BIRTHS:,} and {MAX_BIRTHS:,}",
            f"--births 须在 {MIN_BIRTHS:,} 与 {MAX_BIRTHS:,} 之间",
        )
    if size != "large" and count > MAX_SPREADSHEET_BIRTHS:
        raise UsageError(
            f"--births above {MAX_SPREADSHEET_BIRTHS:,} needs --size large (Parquet and CSV files)",
            f"--births 超过 {MAX_SPREADSHEET_BIRTHS:,} 时须用 --size large（输出 Parquet 和 CSV 文件）",
        )
    return count


def generate_sample(
    out_dir: str | Path, size: str = "small", births: int | None = None, seed: int = DEFAULT_SEED
) -> SampleSummary:
    """Write a synthetic drop of ``size`` (``small``/``medium``/``large``) into ``out_dir``.

    ``births`` sets the number of true births (default: about 3,000 / 40,000 / 1,350,000);
    ``large`` writes one Parquet and one CSV file per source instead of messy workbooks.
    Raises :class:`fpstat.errors.UsageError` for an unknown size or an impossible count.
    """
    count = _check_options(size, births, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stream = _streams(seed)
    geo = build_geography(SIZES[size], stream("geography"))
    parts = choose_parts(geo, stream("parts"))
    population = true_births(geo, count, stream("births"))
    capture = capture_births(population, parts, stream("capture"))
    large = size == "large"

    record_files: dict[str, list[str]] = {}
    truth_rows, rows, planning = [], {}, None
    for role in RECORD_ROLES:
        records = source_records(role, population, capture, geo, parts, stream(f"records:{role}"))
        records = with_places(corrupt(records, role, stream(f"corrupt:{role}")), geo)
        if large:
            positions = write_flat(out, role, records)
            totals = pd.DataFrame(columns=["file", "sheet", "row"])
            record_files[role] = [f"{role}.parquet"]
        else:
            jobs = JOBS[role](records, geo, stream(f"layout:{role}"))
            assign_record_ids(role, jobs, FIRST_NUMBER[role])
            positions, totals = write_jobs(out, jobs)
            record_files[role] = sorted({job.file for job in jobs})
        truth_rows.append(records_table(role, records, positions, totals))
        rows[role] = len(records)
        if role == "planning":
            sequence = np.empty(len(records), dtype=np.int64)  # position in the register's order
            sequence[positions["record"].to_numpy()] = np.arange(len(positions))
            planning = records[["birth_row", "reason_code", "area_code", "sex", "birth_date",
                                "birth_order", "within_policy", "entry"]].assign(sequence=sequence)
        del records
    assert planning is not None

    tables = report_tables(geo, parts, population, planning, stream("report"))
    report_totals = write_report(out, tables, geo)
    record_truth = sorted_records(truth_rows)
    rejects = rejects_table(record_truth, report_totals)
    injected = injected_summary(
        size=size, seed=seed, geo=geo, parts=parts, births=population, capture=capture,
        planning=planning, report=tables.injected,
    )
    files = [name for role_files in record_files.values() for name in role_files]
    if large:
        files += [f"{role}.csv" for role in RECORD_ROLES]
    files += [REPORT_FILE]
    files += write_truth(out, births_table(population, capture.captured), record_truth, rejects,
                         totals_table(population, geo, planning), injected)
    files += write_drop_files(out, record_files, seed=seed, size=size, births=count)
    rejected = rejects.groupby("role").size()
    return SampleSummary(
        out_dir=out, size=size, seed=seed, births=count, files=tuple(sorted(files)), rows=rows,
        rejected={role: int(rejected.get(role, 0)) for role in (*RECORD_ROLES, "report", "population")},
        duplicates=int(planning["entry"].sum()),
        captured={role: int(capture.captured[role].sum()) for role in RECORD_ROLES},
    )
