"""Run every registered check on a run directory and write ``findings.json``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fpstat.audit.findings import AuditResult, Finding, Skipped
from fpstat.audit.inputs import AuditInputs, MissingInput, Threshold, thresholds_from
from fpstat.audit.registry import CHECKS, SkipCheck, resolve_settings
from fpstat.errors import UnreadableInputError
from fpstat.rundir import RunDir

DEFAULT_PROFILE = "county-quality-service"
FINDINGS_FILE = "findings.json"


def _load_profile(
    profile: Any, run: RunDir
) -> tuple[tuple[Threshold, ...] | None, Mapping[str, Any] | None, str]:
    """Thresholds and check settings of the evaluation profile, and why there are none if so.

    ``profile`` may be a loaded profile (``.thresholds``, ``.check_settings``), a list of
    (indicator, kind, value) tuples, or a shipped name / TOML path for
    ``fpstat.indicators.load_profile``; ``None`` means the run's profile, else the default.
    """
    if profile is None:
        profile = run.manifest.parameters.get("profile") or DEFAULT_PROFILE
    if isinstance(profile, (str, os.PathLike)):
        try:
            from fpstat.indicators import load_profile  # type: ignore[attr-defined]
        except ImportError:
            return None, None, f"the profile loader is not available to read {profile!s}"
        profile = load_profile(profile)
    settings = getattr(profile, "check_settings", None)
    return thresholds_from(profile), settings, ""


def run_audit(
    run_dir: Path | str | RunDir,
    *,
    settings: Mapping[str, Any] | None = None,
    profile: Any = None,
    as_of: dt.date | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Run the checks of :data:`~fpstat.audit.CHECKS` on a run directory.

    ``settings`` is the config's ``[checks]`` table (validated: unknown ids and keys raise
    :class:`~fpstat.errors.ConfigError`); ``profile`` the evaluation profile whose lower bounds
    ``threshold.heaping`` tests and whose ``check_settings`` sit under ``settings``; ``as_of``
    the date coverage is judged by (default: the run's ``parameters.as_of``, else today);
    ``on_progress`` is called with each check id as it starts.
    A check whose input files are absent, or whose data cannot support it, is listed in
    ``skipped`` with the reason. Nothing is written; see :func:`write_findings`.
    """
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir, create=False)
    if not run.path.is_dir():
        raise UnreadableInputError(
            "the run directory does not exist", "运行目录不存在", file=str(run.path)
        )
    thresholds, profile_settings, profile_problem = _load_profile(profile, run)
    resolved = resolve_settings(settings, layers=(profile_settings,))
    if as_of is None:
        recorded = run.manifest.parameters.get("as_of")
        as_of = dt.date.fromisoformat(str(recorded)) if recorded else dt.date.today()
    inputs = AuditInputs(run, as_of=as_of, thresholds=thresholds)
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    ran: list[str] = []
    try:
        for check_id, spec in sorted(CHECKS.items()):
            check_settings = {
                key: value for key, value in resolved[check_id].items() if key != "enabled"
            }
            if not resolved[check_id]["enabled"]:
                skipped.append(Skipped(check_id, "disabled in the config", "已在配置中关闭"))
                continue
            missing = tuple(
                need for need in spec.needs if not any(inputs.has(name) for name in need.split("|"))
            )
            if missing:
                listed = ", ".join(need.replace("|", " or ") for need in missing)
                skipped.append(
                    Skipped(
                        check_id,
                        f"the run directory has no {listed}",
                        f"运行目录中没有 {listed.replace(' or ', ' 或 ')}",
                        missing,
                    )
                )
                continue
            if check_id == "threshold.heaping" and thresholds is None:
                skipped.append(
                    Skipped(
                        check_id, f"no evaluation profile: {profile_problem}", "没有可用的考核方案"
                    )
                )
                continue
            if on_progress is not None:
                on_progress(check_id)
            try:
                found = list(spec.function(inputs, check_settings))
            except SkipCheck as reason:
                skipped.append(Skipped(check_id, reason.reason_en, reason.reason_zh))
                continue
            except MissingInput as absent:
                skipped.append(
                    Skipped(
                        check_id,
                        f"the run directory has no {absent.name}",
                        f"运行目录中没有 {absent.name}",
                        (absent.name,),
                    )
                )
                continue
            findings.extend(found)
            ran.append(check_id)
    finally:
        inputs.close()
    return AuditResult.build(findings, skipped, ran)


def write_findings(run: RunDir, result: AuditResult) -> Path:
    """Write ``findings.json`` (``{"findings": [...], "skipped": [...]}``) into the run directory."""
    return run.write_json(FINDINGS_FILE, result.to_dict())
