"""``fpstat run`` and ``fpstat check``: the whole pipeline from a config file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from fpstat.cli import render
from fpstat.cli.options import AsOfOption, JsonOption, QuietOption, existing_path, parse_as_of
from fpstat.config import SEVERITIES, load_config
from fpstat.errors import UsageError
from fpstat.pipeline import PipelineResult, gate, run_pipeline
from fpstat.rundir import write_text

ConfigArgument = typer.Argument(..., help="The run's config file (TOML).", metavar="CONFIG.toml")
OutOverride = typer.Option(None, "--out", "-o", help="Write the run here instead of the config's [run] out.", metavar="DIR")


def _execute(config_path: Path, as_of: str | None, out: Path | None, quiet: bool) -> tuple[Any, PipelineResult]:
    existing_path(config_path, "CONFIG")
    config = load_config(config_path)
    as_of_date = parse_as_of(as_of) if as_of else None
    with render.step_progress(enabled=render.progress_enabled(quiet)) as on_progress:
        result = run_pipeline(config, as_of=as_of_date, out=out, on_progress=on_progress)
    return config, result


def _summary(result: PipelineResult, findings: list[Any], exit_code: int | None = None) -> dict[str, Any]:
    severities = Counter(f.severity for f in findings)
    checks = Counter(f.check for f in findings)
    summary: dict[str, Any] = {
        "run_dir": str(result.run_dir),
        "as_of": result.as_of.isoformat(),
        "rows": result.rows,
        "findings": {level: severities.get(level, 0) for level in SEVERITIES},
        "checks": dict(sorted(checks.items())),
    }
    if exit_code is not None:
        summary["exit_code"] = exit_code
    return summary


def _show(summary: dict[str, Any]) -> None:
    rows = summary["rows"]
    render.show(
        f"Run written to [bold]{summary['run_dir']}[/bold] (as of {summary['as_of']}): "
        f"{rows['rows_read']:,} rows read, {rows['rows_accepted']:,} accepted, {rows['rows_rejected']:,} rejected."
    )
    render.show(
        render.table(
            "Findings by check / 各检查项发现",
            ["check", "findings"],
            sorted(summary["checks"].items()),
            numeric=["findings"],
        )
    )
    counts = summary["findings"]
    render.show(f"error {counts['error']}  warning {counts['warning']}  info {counts['info']}")


def run(
    config_file: Path = ConfigArgument,
    out: Path | None = OutOverride,
    as_of: str | None = AsOfOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Run the whole pipeline (read, validate, reconcile, indicators, audit) from a config file.

    Writes one run directory (manifest.json, rejects.csv, links.parquet, unregistered.csv,
    counts.csv, completeness.csv, indicators.csv, findings.json, fpstat.log). Exits 0 when the
    run completed, whatever it found: use `fpstat check` as a gate.

    Example: `fpstat run sample_data/fpstat.toml --as-of 2026-01-31`
    """
    _, result = _execute(config_file, as_of, out, quiet)
    summary = _summary(result, result.audit.findings)
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    elif not quiet:
        _show(summary)


def check(
    config_file: Path = ConfigArgument,
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Fail (exit 1) on findings at or above this severity: info, warning or error "
        "(default: the config's [checks] fail_on, else error).", metavar="LEVEL",
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here, for CI.", metavar="FILE"),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A findings.json of an accepted earlier run: its findings do not fail the gate.",
        metavar="FILE",
    ),
    out: Path | None = OutOverride,
    as_of: str | None = AsOfOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Run the pipeline as a gate on a data drop: exit 1 when checks fail, for CI.

    Writes the same run directory as `fpstat run`, then fails when a finding (not in the
    baseline) is at or above --fail-on.

    Example: `fpstat check drop/fpstat.toml --fail-on warning --junit reports/fpstat.xml`
    """
    from fpstat.audit import apply_baseline
    from fpstat.audit.junit import junit_xml

    if fail_on is not None and fail_on not in SEVERITIES:
        raise UsageError("--fail-on must be info, warning or error", "--fail-on 须为 info、warning 或 error")
    if baseline is not None:
        existing_path(baseline, "--baseline")
    config, result = _execute(config_file, as_of, out, quiet)
    level = fail_on or config.fail_on
    audit = result.audit
    if baseline is not None:
        audit = apply_baseline(audit, json.loads(baseline.read_text(encoding="utf-8")))
    exit_code = gate(audit.findings, level)
    if junit is not None:
        write_text(junit, junit_xml(audit, level))
    summary = _summary(result, audit.findings, exit_code)
    summary["fail_on"] = level
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    elif not quiet:
        _show(summary)
        verdict = "[bold red]FAILED[/bold red]" if exit_code else "[bold green]PASSED[/bold green]"
        render.show(f"Gate (fail on {level}): {verdict}")
    raise typer.Exit(exit_code)
