"""Findings for CI: a JUnit XML report, and a baseline that hides what was already known.

JUnit XML (the de-facto schema of Ant's ``junitreport``, read by GitLab, Jenkins and GitHub
actions): one ``testsuite``; one ``testcase`` per check id (passed, failed or skipped), and one
per finding (``classname`` = the check, ``name`` = area, period and source), failed when the
finding's severity is at or above ``fail_on``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpstat.audit.findings import AuditResult, Finding, severity_at_least, severity_rank
from fpstat.audit.registry import CHECKS
from fpstat.errors import UnreadableInputError


def _finding_name(finding: Finding) -> str:
    parts = [finding.area_code or "drop", finding.period, finding.source]
    subject = finding.identity()[4]
    if subject:
        parts.append(subject)
    return " ".join(part for part in parts if part)


def junit_xml(result: AuditResult, fail_on: str = "error") -> str:
    """The audit as JUnit XML; failures are the findings at or above ``fail_on``."""
    floor = severity_rank(fail_on)
    skipped = {item.check: item for item in result.skipped}
    checks = sorted(set(CHECKS) | {finding.check for finding in result.findings})
    suite = ElementTree.Element("testsuite", name="fpstat audit")
    tests = failures = skipped_count = 0
    for check_id in checks:
        family = CHECKS[check_id].family if check_id in CHECKS else "other"
        mine = [finding for finding in result.findings if finding.check == check_id]
        failing = severity_at_least(mine, fail_on)
        summary = ElementTree.SubElement(
            suite, "testcase", classname=f"fpstat.audit.{family}", name=check_id
        )
        tests += 1
        if check_id in skipped:
            ElementTree.SubElement(summary, "skipped", message=skipped[check_id].reason_en)
            skipped_count += 1
        elif failing:
            failure = ElementTree.SubElement(
                summary,
                "failure",
                type=fail_on,
                message=f"{len(failing)} finding(s) at or above {fail_on} ({len(mine)} in all)",
            )
            failure.text = "\n".join(finding.message_en for finding in failing)
            failures += 1
        elif mine:
            ElementTree.SubElement(
                summary, "system-out"
            ).text = f"{len(mine)} finding(s) below {fail_on}"
        for finding in mine:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"fpstat.audit.{check_id}", name=_finding_name(finding)
            )
            tests += 1
            detail = f"{finding.message_en}\n{finding.message_zh}\n" + json.dumps(
                finding.evidence, ensure_ascii=False, sort_keys=True
            )
            if severity_rank(finding.severity) >= floor:
                failure = ElementTree.SubElement(
                    case, "failure", type=finding.severity, message=finding.message_en
                )
                failure.text = detail
                failures += 1
            else:
                ElementTree.SubElement(case, "system-out").text = f"[{finding.severity}] {detail}"
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped_count))
    ElementTree.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(suite, encoding="unicode")
        + "\n"
    )


def _baseline_findings(
    baseline: AuditResult | Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[Finding, ...]:
    if isinstance(baseline, AuditResult):
        return baseline.findings
    if isinstance(baseline, Mapping):
        return AuditResult.from_dict(baseline).findings
    path = Path(baseline)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UnreadableInputError(
            "the baseline findings file does not exist", "基线 findings 文件不存在", file=str(path)
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise UnreadableInputError(
            "the baseline is not a findings.json file", "基线文件不是 findings.json", file=str(path)
        ) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("findings"), list):
        raise UnreadableInputError(
            'the baseline has no "findings" list', "基线文件缺少 findings 列表", file=str(path)
        )
    return AuditResult.from_dict(data).findings


def apply_baseline(
    result: AuditResult, baseline: AuditResult | Mapping[str, Any] | str | os.PathLike[str]
) -> AuditResult:
    """``result`` without the findings already in ``baseline`` (a findings.json path or its content).

    Findings match on check, area, period and source (and the indicator, figure or file where a
    check can say several things about those: :meth:`Finding.identity`), not on their figures.
    """
    known = {finding.identity() for finding in _baseline_findings(baseline)}
    return AuditResult(
        findings=tuple(finding for finding in result.findings if finding.identity() not in known),
        skipped=result.skipped,
        checks_run=result.checks_run,
    )
