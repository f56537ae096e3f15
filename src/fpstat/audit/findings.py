"""Findings: what a check reports, as plain data (never an exception).

A :class:`Finding` carries a stable check id (``checks.md``), a severity, the area and period it
concerns, a message in English and Chinese, and the figures behind it (``evidence``). An audit
returns an :class:`AuditResult`: the findings in a stable order and the checks it could not run
(:class:`Skipped`, with the reason), so that the same run directory always gives the same
``findings.json``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fpstat.schema.areas import LEVEL_NAMES

#: Severities from the least to the most serious.
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
SEVERITY_ZH = {"info": "提示", "warning": "警告", "error": "错误"}

#: Significant digits kept for floats in evidence, so that output does not depend on the order
#: in which floating-point sums happened to run.
EVIDENCE_DIGITS = 6


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; expected one of {SEVERITIES}") from None


def _clean(value: Any) -> Any:
    """Evidence values as JSON-ready Python: numpy scalars unwrapped, floats rounded, NaN -> None."""
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(f"{value:.{EVIDENCE_DIGITS}g}")
    try:  # pandas NA and friends
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)


@dataclass(frozen=True)
class Finding:
    """One thing a check found, about one area, period and source (empty strings where none)."""

    check: str
    severity: str
    area_code: str
    level: str
    period: str
    source: str
    message_en: str
    message_zh: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        severity_rank(self.severity)
        object.__setattr__(self, "evidence", _clean(dict(self.evidence)))

    def sort_key(self) -> tuple[Any, ...]:
        """Check id, level from the top (drop-wide first), area, period, source, message."""
        depth = LEVEL_NAMES.index(self.level) if self.level in LEVEL_NAMES else -1
        return (self.check, depth, self.area_code, self.period, self.source, self.message_en)

    def identity(self) -> tuple[str, str, str, str, str]:
        """What makes a finding 'the same' across runs (for baselines).

        Check, area, period and source, plus the subject where one check can say several
        things about them: the indicator or figure (``outlier``, ``time.inconsistent``), or the
        file and sheet (``rows.rejected``). Figures and p-values are not part of it, so a finding
        whose numbers moved is still the known one.
        """
        subject = next(
            (
                str(self.evidence[key])
                for key in ("indicator", "figure", "file")
                if self.evidence.get(key)
            ),
            "",
        )
        if self.evidence.get("sheet"):
            subject += f"#{self.evidence['sheet']}"
        return (self.check, self.area_code, self.period, self.source, subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "area_code": self.area_code,
            "level": self.level,
            "period": self.period,
            "source": self.source,
            "message_en": self.message_en,
            "message_zh": self.message_zh,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            check=str(data["check"]),
            severity=str(data["severity"]),
            area_code=str(data.get("area_code") or ""),
            level=str(data.get("level") or ""),
            period=str(data.get("period") or ""),
            source=str(data.get("source") or ""),
            message_en=str(data.get("message_en") or ""),
            message_zh=str(data.get("message_zh") or ""),
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass(frozen=True)
class Skipped:
    """A check that did not run, and why (a missing input file, disabled in the config ...)."""

    check: str
    reason_en: str
    reason_zh: str
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "reason_en": self.reason_en,
            "reason_zh": self.reason_zh,
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Skipped:
        return cls(
            check=str(data["check"]),
            reason_en=str(data.get("reason_en", "")),
            reason_zh=str(data.get("reason_zh", "")),
            missing=tuple(data.get("missing", ())),
        )


@dataclass(frozen=True)
class AuditResult:
    """The findings of one audit in stable order, and the checks that were skipped."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    checks_run: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        findings: Iterable[Finding],
        skipped: Iterable[Skipped] = (),
        checks_run: Iterable[str] = (),
    ) -> AuditResult:
        return cls(
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            skipped=tuple(sorted(skipped, key=lambda item: item.check)),
            checks_run=tuple(sorted(checks_run)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``findings.json`` form: ``{"findings": [...], "skipped": [...]}``."""
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "skipped": [item.to_dict() for item in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditResult:
        return cls.build(
            (Finding.from_dict(item) for item in data.get("findings", [])),
            (Skipped.from_dict(item) for item in data.get("skipped", [])),
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of findings by check and severity, e.g. ``{"outlier": {"warning": 3}}``."""
        table: dict[str, dict[str, int]] = {}
        for finding in self.findings:
            by_severity = table.setdefault(finding.check, {})
            by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
        return dict(sorted(table.items()))


def severity_at_least(findings: Iterable[Finding], level: str) -> list[Finding]:
    """The findings whose severity is ``level`` or more serious (the gate of ``fpstat check``)."""
    floor = severity_rank(level)
    return [finding for finding in findings if severity_rank(finding.severity) >= floor]
