"""The pipeline behind ``fpstat run`` and ``fpstat check``: the stages in order, driven by a config.

read + validate (schema) -> reconcile -> indicators -> audit, all into one run directory with
one manifest. ``check`` is the same run followed by a gate: exit 1 when a finding is at or
above ``fail_on`` (after dropping findings already present in a baseline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpstat import __version__
from fpstat.config import RunConfig
from fpstat.rundir import RunDir

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}

Progress = Callable[..., None]


@dataclass
class PipelineResult:
    """What one run did: where it wrote, what it read, what it found."""

    run_dir: Path
    as_of: dt.date
    inputs: list[dict[str, Any]]
    reconcile: Any = None
    indicators: Any = None
    audit: Any = None
    stages_skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        return {
            key: sum(int(entry.get(key, 0)) for entry in self.inputs)
            for key in ("rows_read", "rows_accepted", "rows_rejected")
        }


def _notify(on_progress: Progress | None, step: str) -> None:
    if on_progress is not None:
        on_progress(step)


def run_pipeline(
    config: RunConfig,
    *,
    as_of: dt.date | None = None,
    out: Path | None = None,
    on_progress: Progress | None = None,
) -> PipelineResult:
    """Run every stage of the config into its run directory and return what happened."""
    from fpstat.audit import resolve_settings, run_audit, write_findings
    from fpstat.indicators import compute_indicators, load_profile
    from fpstat.reconcile import ReconcileSettings, reconcile_inputs
    from fpstat.schema import InputSpec, load_inputs

    as_of = as_of or config.as_of or dt.date.today()
    # Validate the profile and check settings before the long work starts.
    profile = load_profile(config.profile if not config.profile.endswith(".toml") else str(config.base_dir / config.profile))
    _validate_check_settings(config, resolve_settings)
    run = RunDir(out or config.out_dir(as_of))
    run.manifest.timings.clear()
    run.manifest.parameters = {
        "config": str(config.path),
        "as_of": as_of.isoformat(),
        "period": config.period,
        "profile": config.profile,
        "language": config.language,
        "engine": config.engine,
        "criterion": config.criterion,
        "stratify": config.stratify,
        "include_records": config.include_records,
        "fail_on": config.fail_on,
        "checks": config.checks,
    }
    run.log("run.start", fpstat_version=__version__, run_dir=str(run.path))

    specs = [
        InputSpec(path=entry.path, role=entry.role, sheets=entry.sheets, mapping=entry.mapping, base_dir=config.base_dir)
        for entry in config.inputs
    ]
    _notify(on_progress, "read")
    with run.timed("read"):
        loaded = load_inputs(specs, as_of=as_of)
    run.log("read.done", inputs=len(loaded.inputs), rejects=len(loaded.rejects))

    _notify(on_progress, "reconcile")
    settings = ReconcileSettings(
        period=config.period,
        include_records=config.include_records,
        criterion=config.criterion,
        stratify=config.stratify,
        memory_limit=config.memory_limit,
        as_of=as_of,
        linkage=config.linkage,
    )
    with run.timed("reconcile"):
        reconciled = reconcile_inputs(loaded, run, settings)
    run.log("reconcile.done")

    _notify(on_progress, "indicators")
    with run.timed("indicators"):
        indicators = compute_indicators(run, profile=profile, areas=config.areas)
    run.log("indicators.done")

    _notify(on_progress, "audit")
    with run.timed("audit"):
        audit = run_audit(run, settings=config.checks, profile=profile, as_of=as_of)
        write_findings(run, audit)
    run.log("audit.done", findings=len(audit.findings))
    run.save_manifest()
    return PipelineResult(
        run_dir=run.path, as_of=as_of, inputs=list(loaded.inputs),
        reconcile=reconciled, indicators=indicators, audit=audit,
    )


def _validate_check_settings(config: RunConfig, resolve: Callable[..., Any]) -> None:
    """Reject unknown check ids or settings before the long work, naming the config line."""
    from fpstat.config import check_line
    from fpstat.errors import ConfigError

    try:
        resolve(config.checks)
    except ConfigError as error:
        field_name = error.location.field or ""
        check_id = field_name.removeprefix("checks.").split(".")
        line = None
        for size in range(len(check_id), 0, -1):  # check ids contain dots themselves
            candidate = ".".join(check_id[:size])
            if candidate in config.checks:
                line = check_line(config, candidate)
                break
        raise ConfigError(
            error.message_en, error.message_zh, file=str(config.path), row=line, field=error.location.field
        ) from None


def gate(findings: list[Any], fail_on: str) -> int:
    """Exit code of ``fpstat check``: 1 when any finding is at or above ``fail_on``."""
    threshold = SEVERITY_ORDER[fail_on]
    return 1 if any(SEVERITY_ORDER[f.severity] >= threshold for f in findings) else 0
