"""The audit stage: checks that read a run directory and emit findings.

Public API::

    result = run_audit(run_dir, settings=config.checks, profile="county-quality-service")
    write_findings(RunDir(run_dir), result)          # findings.json
    severity_at_least(result.findings, "error")      # the gate of `fpstat check`
    junit_xml(result, fail_on="error")               # CI report
    apply_baseline(result, "old/findings.json")      # only what is new

The catalogue (``CHECKS``: id -> family, required files, defaults, docstring with the source of
each default) is the product spec's check catalogue (``checks.md``) in code. The checks live in
``checks_input``, ``checks_reconcile``, ``checks_sex_ratio``, ``checks_heaping``, ``checks_integrity``,
``checks_consistency`` and ``checks_variation``; their tests in ``stats``.
"""

from __future__ import annotations

# Importing the check modules registers their checks.
from fpstat.audit import (  # noqa: F401
    checks_consistency,
    checks_heaping,
    checks_input,
    checks_integrity,
    checks_reconcile,
    checks_sex_ratio,
    checks_variation,
)
from fpstat.audit.findings import SEVERITIES, AuditResult, Finding, Skipped, severity_at_least
from fpstat.audit.inputs import Threshold
from fpstat.audit.junit import apply_baseline, junit_xml
from fpstat.audit.registry import CHECKS, CheckSpec, resolve_settings
from fpstat.audit.runner import FINDINGS_FILE, run_audit, write_findings

__all__ = [
    "CHECKS",
    "FINDINGS_FILE",
    "SEVERITIES",
    "AuditResult",
    "CheckSpec",
    "Finding",
    "Skipped",
    "Threshold",
    "apply_baseline",
    "junit_xml",
    "resolve_settings",
    "run_audit",
    "severity_at_least",
    "write_findings",
]
