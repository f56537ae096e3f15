"""The audit API: catalogue, settings, skipped checks, findings.json, ordering, baseline, JUnit."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ElementTree
from types import SimpleNamespace

import pandas as pd
import pytest
from audit_fixtures import COUNTY, TOWNSHIPS, records_frame, table_frame, write_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpstat.audit import (
    CHECKS,
    AuditResult,
    Finding,
    apply_baseline,
    junit_xml,
    resolve_settings,
    run_audit,
    severity_at_least,
    write_findings,
)
from fpstat.errors import ConfigError, UnreadableInputError
from fpstat.rundir import RunDir

AS_OF = dt.date(2025, 6, 30)

#: The catalogue of spec/checks.md: id -> family.
SPEC_CHECKS = {
    "rows.rejected": "input",
    "records.duplicate": "input",
    "id.inconsistent": "input",
    "completeness.low": "reconcile",
    "sex.misreported": "reconcile",
    "srb.out_of_range": "integrity",
    "srb.volatile": "integrity",
    "report.register_mismatch": "consistency",
    "population.denominator_mismatch": "consistency",
    "relation.inconsistent": "consistency",
    "time.inconsistent": "consistency",
    "outlier": "consistency",
    "threshold.heaping": "integrity",
    "digits.preference": "integrity",
}


def test_catalogue_matches_the_spec_and_documents_defaults():
    """Every check of checks.md is registered in its family, and each docstring explains its defaults."""
    assert {check_id: spec.family for check_id, spec in CHECKS.items()} == SPEC_CHECKS
    for check_id, spec in CHECKS.items():
        assert spec.doc, check_id
        for key in spec.defaults:
            if key not in ("enabled",):
                assert f"``{key}``" in spec.doc, (check_id, key)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"completness.low": {"threshold": 0.9}}, "checks.completness.low"),
        ({"completeness.low": {"treshold": 0.9}}, "checks.completeness.low.treshold"),
        ({"completeness.low": {"threshold": "high"}}, "checks.completeness.low.threshold"),
        ({"outlier": 3.5}, "checks.outlier"),
    ],
)
def test_settings_are_validated_naming_the_key(table, field):
    """An unknown check id, unknown setting or wrong type is a ConfigError naming checks.<id>.<key>."""
    with pytest.raises(ConfigError) as caught:
        resolve_settings(table)
    assert caught.value.location.field == field


def test_settings_layers_defaults_profile_then_config():
    """Defaults < profile check settings < config; fail_on is left to `fpstat check`."""
    resolved = resolve_settings(
        {"fail_on": "warning", "srb.out_of_range": {"high": 110}},
        layers=({"srb.out_of_range": {"low": 100, "high": 108}},),
    )
    assert (
        resolved["srb.out_of_range"]["low"] == 100 and resolved["srb.out_of_range"]["high"] == 110
    )
    assert resolved["completeness.low"]["threshold"] == 0.90


def test_missing_files_and_disabled_checks_are_listed_as_skipped(tmp_path):
    """With only a completeness table, the other checks are skipped with the file they need; findings.json lists them."""
    frame = pd.DataFrame(
        [
            {
                "area_code": TOWNSHIPS[0],
                "level": "township",
                "period": "2024",
                "n_planning": 70,
                "est_total": 100,
                "ci_low": 95,
                "ci_high": 106,
            }
        ]
    )
    run = write_run(tmp_path, completeness=frame)
    result = run_audit(run, settings={"outlier": {"enabled": False}}, as_of=AS_OF)
    skipped = {item.check: item for item in result.skipped}
    assert "completeness.low" not in skipped and result.checks_run == (
        "completeness.low",
        "rows.rejected",
    )
    assert skipped["outlier"].reason_en == "disabled in the config"
    assert skipped["sex.misreported"].missing == ("sex_disagreements.csv",)
    assert skipped["srb.volatile"].missing == ("records.parquet|tables.parquet",)
    assert "records.parquet or tables.parquet" in skipped["srb.volatile"].reason_en
    write_findings(run, result)
    written = json.loads((tmp_path / "findings.json").read_text("utf-8"))
    assert set(written) == {"findings", "skipped"}
    assert written["findings"][0]["check"] == "completeness.low"
    assert set(written["findings"][0]) == {
        "check",
        "severity",
        "area_code",
        "level",
        "period",
        "source",
        "message_en",
        "message_zh",
        "evidence",
    }
    assert AuditResult.from_dict(written).findings == result.findings
    assert run.manifest.outputs["findings.json"]


def test_profile_object_thresholds_and_check_settings(tmp_path):
    """A loaded profile's check_settings apply under the config's, and its thresholds feed threshold.heaping."""
    frame = pd.DataFrame(
        [
            {
                "area_code": TOWNSHIPS[0],
                "level": "township",
                "period": "2024",
                "n_planning": 93,
                "est_total": 100,
                "ci_low": 98,
                "ci_high": 102,
            }
        ]
    )
    write_run(tmp_path, completeness=frame)
    profile = SimpleNamespace(
        thresholds=[SimpleNamespace(indicator="policy_rate", kind="min", value=95.0)],
        check_settings={"completeness.low": {"threshold": 0.95}},
    )
    assert [f.severity for f in run_audit(tmp_path, profile=profile, as_of=AS_OF).findings] == [
        "error"
    ]
    relaxed = run_audit(
        tmp_path, profile=profile, settings={"completeness.low": {"threshold": 0.9}}, as_of=AS_OF
    )
    assert relaxed.findings == ()


def test_missing_run_directory_is_an_error(tmp_path):
    """A run directory that does not exist cannot be audited (exit 2 at the command line)."""
    with pytest.raises(UnreadableInputError):
        run_audit(tmp_path / "nowhere")


def finding(
    check="outlier",
    severity="warning",
    area=TOWNSHIPS[0],
    level="township",
    period="2024",
    source="report",
    **evidence,
):
    return Finding(check, severity, area, level, period, source, "en", "zh", evidence)


def test_findings_sort_and_severity_gate():
    """Findings sort by check, level from the top, area, period and source; the gate keeps severities at or above."""
    findings = [
        finding(area=TOWNSHIPS[1]),
        finding(level="county", area=COUNTY),
        finding(check="completeness.low"),
        finding(period="2023", severity="error"),
        finding(check="rows.rejected", area="", level="", period="", severity="info"),
    ]
    result = AuditResult.build(findings)
    assert [(f.check, f.level, f.area_code, f.period) for f in result.findings] == [
        ("completeness.low", "township", TOWNSHIPS[0], "2024"),
        ("outlier", "county", COUNTY, "2024"),
        ("outlier", "township", TOWNSHIPS[0], "2023"),
        ("outlier", "township", TOWNSHIPS[1], "2024"),
        ("rows.rejected", "", "", ""),
    ]
    assert len(severity_at_least(result.findings, "warning")) == 4
    assert [f.severity for f in severity_at_least(result.findings, "error")] == ["error"]
    assert result.counts()["outlier"] == {"warning": 2, "error": 1}


def test_evidence_is_json_ready_and_rounded():
    """Numpy numbers, NaN and infinity in evidence become plain JSON values; floats keep 6 significant digits."""
    import numpy as np

    item = finding(
        value=np.float64(1 / 3),
        n=np.int64(5),
        missing=float("nan"),
        ratio=float("inf"),
        nested={"x": [np.float32(0.5)]},
    )
    assert item.evidence == {
        "value": 0.333333,
        "n": 5,
        "missing": None,
        "ratio": "inf",
        "nested": {"x": [0.5]},
    }
    json.dumps(item.to_dict())


def test_baseline_drops_known_findings_only(tmp_path):
    """Known findings (same check, area, period, source, subject) are dropped, whatever their figures; new ones stay."""
    old = AuditResult.build(
        [
            finding(indicator="birth_rate", value=30.0),
            finding(check="completeness.low", source="planning"),
        ]
    )
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(old.to_dict()), "utf-8")
    new = AuditResult.build(
        [
            finding(indicator="birth_rate", value=31.0),  # same finding, moved figures: known
            finding(indicator="srb", value=140.0),  # another indicator of the same area: new
            finding(
                check="completeness.low", source="planning", period="2025"
            ),  # another period: new
        ]
    )
    remaining = apply_baseline(new, path)
    assert [(f.evidence.get("indicator"), f.period) for f in remaining.findings] == [
        (None, "2025"),
        ("srb", "2024"),
    ]
    assert apply_baseline(new, old.to_dict()).findings == remaining.findings
    with pytest.raises(UnreadableInputError):
        apply_baseline(new, tmp_path / "missing.json")


def test_junit_xml_has_a_case_per_check_and_finding(tmp_path):
    """One testcase per check id and per finding; failures at or above fail_on; skipped checks marked."""
    result = AuditResult.build(
        [finding(severity="error"), finding(check="srb.volatile", severity="warning", period="")],
        skipped=[],
    )
    root = ElementTree.fromstring(junit_xml(result, fail_on="error"))
    cases = root.findall("testcase")
    assert len(cases) == len(CHECKS) + 2
    assert root.get("failures") == "2"  # the outlier summary and the outlier finding
    names = {case.get("name") for case in cases}
    assert set(CHECKS) <= names and f"{TOWNSHIPS[0]} 2024 report" in names
    stricter = ElementTree.fromstring(junit_xml(result, fail_on="warning"))
    assert stricter.get("failures") == "4"
    skipped = AuditResult.build([], skipped=[run_audit(tmp_path, as_of=AS_OF).skipped[0]])
    assert ElementTree.fromstring(junit_xml(skipped)).get("skipped") == "1"


def messy_run():
    """Records with duplicates and ID mismatches plus report tables that break relations."""
    rows = [
        {
            "record_id": f"r{i}",
            "child_pid": f"C{i % 40}",
            "mother_pid": f"M{i % 35}",
            "sex": "MF"[i % 2],
            "birth_date": dt.date(2024, 1 + i % 12, 1 + i % 27),
            "area_code": TOWNSHIPS[i % 3],
            "child_id_sex": "F" if i % 17 == 0 else None,
        }
        for i in range(60)
    ]
    tables = [
        {
            "area_code": TOWNSHIPS[i % 4],
            "period": f"2024-{1 + i // 4:02d}",
            "births": 30 + i,
            "births_male": 16 + i % 5,
            "births_female": 14 + i // 2,
        }
        for i in range(24)
    ]
    return records_frame(rows), table_frame(tables)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_findings_do_not_depend_on_row_order(tmp_path_factory, seed):
    """Shuffling the rows of records and tables gives the same findings, byte for byte."""
    records, tables = messy_run()
    first = run_audit(
        write_run(tmp_path_factory.mktemp("a"), records=records, tables=tables), as_of=AS_OF
    )
    shuffled = run_audit(
        write_run(
            tmp_path_factory.mktemp("b"),
            records=records.sample(frac=1, random_state=seed % 2**32).reset_index(drop=True),
            tables=tables.sample(frac=1, random_state=(seed + 1) % 2**32).reset_index(drop=True),
        ),
        as_of=AS_OF,
    )
    assert first.findings and first.to_dict() == shuffled.to_dict()


def test_write_findings_is_deterministic(tmp_path):
    """Auditing the same run twice writes the same findings.json bytes."""
    records, tables = messy_run()
    run = write_run(tmp_path, records=records, tables=tables)
    write_findings(run, run_audit(run, as_of=AS_OF))
    first = (tmp_path / "findings.json").read_bytes()
    write_findings(RunDir(tmp_path), run_audit(tmp_path, as_of=AS_OF))
    assert (tmp_path / "findings.json").read_bytes() == first
