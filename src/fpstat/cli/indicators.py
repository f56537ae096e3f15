"""``fpstat indicators``: compute the indicator registry for a run directory."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from fpstat.cli import render
from fpstat.cli.options import AsOfOption, JsonOption, QuietOption, existing_path, parse_as_of
from fpstat.indicators import DEFAULT_PROFILE, IndicatorResult, run_indicators

_REPORT_HELP = "A report-table export (统计报表) to add as role 'report' (repeat, or a glob)."
_POPULATION_HELP = (
    "A population table (统计局/普查人口) to add as role 'population' (repeat, or a glob)."
)
_PROFILE_HELP = (
    "Evaluation profile: a shipped name (county-quality-service [default], county-targets, "
    "who-dqr) or the path of a TOML file copied from one (see docs/profiles.md)."
)
_AREAS_HELP = (
    "Area table (CSV/xlsx: code, name, valid_from, valid_to, new_code) for names and 区划调整."
)
_PERIOD_HELP = "Period kind: year, sy (statistical year), quarter or month. Default: the run's."

RunDirArgument = typer.Argument(
    ..., help="A run directory written by reconcile.", metavar="RUN_DIR"
)
ReportOption = typer.Option(None, "--report", help=_REPORT_HELP, metavar="FILE")
PopulationOption = typer.Option(None, "--population", help=_POPULATION_HELP, metavar="FILE")
ProfileOption = typer.Option(DEFAULT_PROFILE, "--profile", "-p", help=_PROFILE_HELP, metavar="P")
AreasOption = typer.Option(None, "--areas", help=_AREAS_HELP, metavar="FILE")
PeriodOption = typer.Option(None, "--period", help=_PERIOD_HELP, metavar="KIND")


def indicators(
    run_dir: Path = RunDirArgument,
    report: list[str] | None = ReportOption,
    population: list[str] | None = PopulationOption,
    profile: str = ProfileOption,
    areas: Path | None = AreasOption,
    period: str | None = PeriodOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
    as_of: str | None = AsOfOption,
) -> None:
    """Compute indicators by source, area and period, with 95 % intervals, evaluation
    status and funnel limits; writes indicators.csv into RUN_DIR.

    Indicators that cannot be computed from what the run holds are listed with the reason.
    Exit code 0 when done, 2 when the run directory, a file or an option is wrong.

    Examples:

      fpstat indicators runs/r1

      fpstat indicators runs/r1 --report drop/report/人口计生统计报表.xlsx --population drop/统计局人口.xlsx

      fpstat indicators runs/r1 --profile county-targets --period sy --json
    """
    existing_path(run_dir, "RUN_DIR")
    as_of_date = parse_as_of(as_of)
    with render.step_progress(enabled=render.progress_enabled(quiet or json_out)) as on_progress:
        result = run_indicators(
            run_dir,
            reports=report or (),
            populations=population or (),
            profile=profile,
            areas=areas,
            period_kind=period,
            as_of=as_of_date,
            on_progress=on_progress,
        )
    if json_out:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
    elif not quiet:
        _show(result, run_dir)


def _show(result: IndicatorResult, run_dir: Path) -> None:
    table = result.table
    rows: list[list[Any]] = []
    for (indicator, source), group in table.groupby(["indicator", "source"], sort=False):
        statuses = Counter(s for s in group["status"] if s)
        rows.append(
            [
                indicator,
                group["indicator_zh"].iloc[0],
                source,
                len(group),
                ", ".join(f"{name} {count}" for name, count in sorted(statuses.items())),
            ]
        )
    render.show(
        render.table(
            f"Indicators / 指标 (profile {result.profile.name}, period {result.period_kind})",
            ["indicator", "指标", "source", "rows", "status"],
            rows,
            numeric=["rows"],
        )
    )
    if result.skipped:
        render.show(
            render.table(
                "Not computed / 未计算的指标",
                ["indicator", "reason"],
                ([item["indicator"], item["reason"]] for item in result.skipped),
            )
        )
    for note in result.notes:
        render.show(f"note: {note}")
    render.show(
        f"Wrote {len(table)} rows to {run_dir / 'indicators.csv'} / "
        f"已写入 {len(table)} 行至 {run_dir / 'indicators.csv'}"
    )
