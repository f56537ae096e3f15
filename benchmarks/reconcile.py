"""Reconcile speed and memory: the full ``reconcile`` on a large sample, against a bare anti-join.

Uses (or generates, with ``fpstat.sample.generate_sample(size="large", births=N)``) a drop of
``--births`` true births (default 1,000,000: about 0.9 million records per source), then runs,
each in its own process so that its peak memory is its own (``os.wait4`` rusage):

* ``reconcile``: ``fpstat.schema.load_inputs`` + ``fpstat.reconcile.reconcile_inputs`` of the
  ``--roles`` sources (default planning, police, census, hospital) into a run directory, with
  the step timings from the manifest;
* ``floor``: DuckDB reading the same Parquet files and anti-joining the other sources' records
  against the register on mother ID + birth date: the least any record-level reconciliation
  must do (read, join, count), with no cleaning, linkage or estimation.

Prints a Markdown table (wall seconds, CPU seconds, peak memory, births, unregistered, county
estimates against the truth) and, with ``--write-readme``, rewrites the ``## Reconcile``
section of ``benchmarks/README.md`` (and nothing else in it).

    PYTHONPATH=src python benchmarks/reconcile.py [--drop DIR] [--births 1000000] [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

AS_OF = dt.date(2026, 1, 31)
ROLES = ("planning", "police", "census", "hospital")
SECTION = "## Reconcile"


def child_reconcile(drop: Path, out: Path, roles: list[str]) -> dict[str, object]:
    """Load and reconcile the drop (runs in the child process)."""
    from fpstat.reconcile import ReconcileSettings, reconcile_inputs
    from fpstat.rundir import RunDir
    from fpstat.schema import InputSpec, load_inputs

    os.environ.setdefault("FPSTAT_PSEUDONYM_KEY", "benchmark-only-key")
    start = time.perf_counter()
    loaded = load_inputs([InputSpec(path=str(drop / f"{role}.parquet"), role=role) for role in roles], as_of=AS_OF)
    read = time.perf_counter() - start
    run = RunDir(out)
    summary = reconcile_inputs(loaded, run, ReconcileSettings(as_of=AS_OF))
    records = sum(len(frame) for frame in loaded.records.values())
    return {"read": read, "timings": run.manifest.timings, "records": records,
            "births": summary.births, "unregistered": summary.unregistered}


def child_floor(drop: Path, roles: list[str]) -> dict[str, object]:
    """A bare DuckDB anti-join of the other sources against the register (the floor)."""
    import duckdb

    others = " UNION ALL ".join(
        f"SELECT mother_id, TRY_CAST(birth_date AS DATE) AS birth_date FROM read_parquet('{drop / f'{role}.parquet'}')"
        for role in roles if role != "planning"
    )
    query = f"""
        WITH register AS (SELECT mother_id, TRY_CAST(birth_date AS DATE) AS birth_date
                          FROM read_parquet('{drop / 'planning.parquet'}')),
             others AS ({others})
        SELECT count(*) FROM others o
        ANTI JOIN register r ON o.mother_id = r.mother_id AND o.birth_date = r.birth_date"""
    missing = duckdb.connect().execute(query).fetchone()[0]
    return {"unregistered_records": int(missing)}


def measure(arguments: list[str]) -> dict[str, object]:
    """Run this script as a child; its wall time, CPU time, peak RSS and printed result."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, *arguments], stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"child {arguments[:2]} failed with status {status}")
    result = json.loads(output.strip().splitlines()[-1])
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mb=usage.ru_maxrss / 1024)
    return result


def county_accuracy(run: Path, drop: Path) -> str:
    """Largest relative error of a county's estimate per period, and intervals covering the truth."""
    import pandas as pd

    estimates = pd.read_csv(run / "completeness.csv", dtype={"area_code": str}, encoding="utf-8-sig")
    truth = pd.read_csv(drop / "truth" / "totals.csv", dtype={"area_code": str}, encoding="utf-8-sig")
    merged = estimates[estimates["level"] == "county"].merge(
        truth[truth["level"] == "county"], on=["area_code", "period"])
    error = (merged["est_total"] / merged["births"] - 1).abs().max()
    covered = ((merged["ci_low"] <= merged["births"]) & (merged["births"] <= merged["ci_high"])).sum()
    return f"max county error {error:.2%}, {covered} of {len(merged)} intervals cover the truth"


def report(drop: Path, births: int, roles: list[str], full: dict, floor: dict, accuracy: str) -> str:
    import duckdb
    import pandas as pd

    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in full["timings"].items())
    lines = [
        SECTION, "",
        f"`PYTHONPATH=src python benchmarks/reconcile.py --births {births}` on {dt.date.today()}: "
        f"{full['records']:,} records of {len(roles)} sources ({', '.join(roles)}), "
        f"{births:,} true births.", "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}, pandas {pd.__version__}; load "
        f"average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}.", "",
        "| run | wall s | CPU s | peak memory MB | result |",
        "|---|---:|---:|---:|---|",
        f"| fpstat read + reconcile | {full['wall']:.0f} | {full['cpu']:.0f} | {full['peak_mb']:,.0f} | "
        f"{full['births']:,} births, {full['unregistered']:,} unregistered |",
        f"| DuckDB anti-join (floor) | {floor['wall']:.1f} | {floor['cpu']:.1f} | {floor['peak_mb']:,.0f} | "
        f"{floor['unregistered_records']:,} records without a register match |", "",
        f"Reading {full['read']:.0f} s; reconcile steps: {steps}. {accuracy}.", "",
        "Each run is its own process; peak memory is that process's maximum resident set "
        "(`os.wait4`). The floor reads the same Parquet files and anti-joins the other sources' "
        "records against the register on mother ID + birth date: no validation, no duplicates, "
        "no fuzzy matching, no estimation; its count is records, not births, and is not a result. "
        "`link` is the record linkage (`fpstat.reconcile.linkage`); `births` joins records to "
        "clusters and takes the consensus of each birth (SQL); `write` includes pseudonymising "
        "every ID (one HMAC-SHA256 per distinct ID, about two million here) for `records.parquet`.",
    ]
    return "\n".join(lines) + "\n"


def write_readme(section: str) -> None:
    path = REPO / "benchmarks" / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else text[end + 1:])
    from fpstat.rundir import write_text

    write_text(path, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, help="an existing large drop (else one is generated)")
    parser.add_argument("--births", type=int, default=1_000_000)
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--child", choices=["reconcile", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    roles = options.roles.split(",")
    if options.child == "reconcile":
        print(json.dumps(child_reconcile(options.drop, options.out, roles), default=float))
        return
    if options.child == "floor":
        print(json.dumps(child_floor(options.drop, roles)))
        return
    work = options.work_dir or Path(tempfile.mkdtemp(prefix="fpstat-bench-"))
    drop = options.drop or work / "drop"
    if not (drop / "planning.parquet").exists():
        from fpstat.sample import generate_sample

        generate_sample(drop, size="large", births=options.births)
    out = work / "run"
    floor = measure(["--child", "floor", "--drop", str(drop), "--roles", options.roles])
    full = measure(["--child", "reconcile", "--drop", str(drop), "--out", str(out), "--roles", options.roles])
    section = report(drop, options.births, roles, full, floor, county_accuracy(out, drop))
    print(section)
    if options.write_readme:
        write_readme(section)


if __name__ == "__main__":
    main()
