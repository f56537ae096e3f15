"""``fpstat audit``: run the check catalogue on a run directory and write findings.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from fpstat.cli import render
from fpstat.cli.options import AsOfOption, JsonOption, QuietOption, existing_path, parse_as_of
from fpstat.rundir import RunDir, json_bytes

if TYPE_CHECKING:
    from fpstat.audit import AuditResult

_CONFIG_HELP = (
    "A config file (fpstat.toml) whose [checks] table sets check thresholds, e.g. "
    '"completeness.low" = { threshold = 0.90 }; its [run] profile and as_of are used too.'
)
_PROFILE_HELP = (
    "Evaluation profile whose lower bounds threshold.heaping tests: a shipped name "
    "(county-quality-service [default], county-targets, who-dqr) or a TOML path. "
    "Default: the config's, else the run's, else county-quality-service."
)
TOP_FINDINGS = 10
RunDirArgument = typer.Argument(
    ..., help="A run directory written by reconcile / indicators.", metavar="RUN_DIR"
)
ConfigOption = typer.Option(None, "--config", "-c", help=_CONFIG_HELP, metavar="FILE")
ProfileOption = typer.Option(None, "--profile", "-p", help=_PROFILE_HELP, metavar="P")


def audit(
    run_dir: Path = RunDirArgument,
    config: Path | None = ConfigOption,
    profile: str | None = ProfileOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
    as_of: str | None = AsOfOption,
) -> None:
    """Run the audit checks (spec/checks.md) on a run directory; writes findings.json into it.

    Checks whose input files the run lacks are skipped and listed with the reason. Exit code
    0 when the audit completed, whatever it found (`fpstat check` is the gate); 2 when the
    run directory, the config or an option is wrong.

    Examples:

      fpstat audit runs/r1

      fpstat audit runs/r1 --config fpstat.toml --profile county-targets

      fpstat audit runs/r1 --json > findings.json
    """
    from fpstat.audit import run_audit, write_findings  # local: scipy/statsmodels load slowly

    existing_path(run_dir, "RUN_DIR")
    settings: dict[str, Any] | None = None
    as_of_date = parse_as_of(as_of) if as_of else None
    if config is not None:
        from fpstat.config import load_config  # local: only needed with --config

        loaded = load_config(existing_path(config, "--config"))
        settings = loaded.checks
        profile = profile or loaded.profile
        as_of_date = as_of_date or loaded.as_of
    run = RunDir(run_dir, create=False)
    with (
        run.timed("audit"),
        render.step_progress(enabled=render.progress_enabled(quiet or json_out)) as on_progress,
    ):
        result = run_audit(
            run, settings=settings, profile=profile, as_of=as_of_date, on_progress=on_progress
        )
    write_findings(run, result)
    run.save_manifest()
    run.log(
        "audit.done", findings=len(result.findings), skipped=[item.check for item in result.skipped]
    )
    if json_out:
        typer.echo(json_bytes(result.to_dict()).decode("utf-8"), nl=False)
    elif not quiet:
        _show(result, run_dir)


def _show(result: AuditResult, run_dir: Path) -> None:
    from fpstat.audit import CHECKS, FINDINGS_FILE, SEVERITIES

    counts = result.counts()
    skipped = {item.check: item for item in result.skipped}
    rows = []
    for check_id, spec in sorted(CHECKS.items(), key=lambda item: (item[1].family, item[0])):
        found = counts.get(check_id, {})
        state = "skipped / 跳过" if check_id in skipped else ("ok" if not found else "")
        rows.append(
            [
                spec.family,
                check_id,
                *(found.get(severity, "") for severity in reversed(SEVERITIES)),
                state,
            ]
        )
    render.show(
        render.table(
            "Audit / 审核",
            ["family", "check", "error", "warning", "info", ""],
            rows,
            numeric=["error", "warning", "info"],
        )
    )
    if result.findings:
        worst_first = sorted(
            result.findings, key=lambda f: (-SEVERITIES.index(f.severity), f.sort_key())
        )
        # The worst finding of each check first, so that one busy check does not hide the rest.
        leads = list({finding.check: finding for finding in reversed(worst_first)}.values())
        leads.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.sort_key()))
        top = (leads + [f for f in worst_first if f not in leads])[:TOP_FINDINGS]
        render.show(
            render.table(
                f"Top findings / 主要问题 ({len(top)} of {len(worst_first)})",
                ["severity", "check", "message", "说明"],
                ([f.severity, f.check, f.message_en, f.message_zh] for f in top),
            )
        )
    if skipped:
        render.show(
            render.table(
                "Skipped checks / 未运行的检查",
                ["check", "reason", "原因"],
                ([item.check, item.reason_en, item.reason_zh] for item in skipped.values()),
            )
        )
    target = run_dir / FINDINGS_FILE
    render.show(
        f"Wrote {len(result.findings)} findings to {target} / 已写入 {len(result.findings)} 条审核结果至 {target}"
    )
