"""``fpstat audit RUN_DIR``: writes findings.json, prints a summary, --json equals the library."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from audit_fixtures import TOWNSHIPS, table_frame, write_run
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401  (registers the commands)
from fpstat.audit import run_audit
from fpstat.cli.app import app

runner = CliRunner()


def sample_run(path):
    tables = table_frame(
        [
            {
                "area_code": TOWNSHIPS[0],
                "period": "2024",
                "births": 100,
                "births_male": 52,
                "births_female": 47,
            },
            {
                "area_code": TOWNSHIPS[1],
                "period": "2024",
                "births": 100,
                "births_male": 52,
                "births_female": 48,
            },
        ]
    )
    completeness = pd.DataFrame(
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
    return write_run(path, tables=tables, completeness=completeness)


def test_json_output_equals_the_library_and_the_file(tmp_path):
    """--json prints exactly findings.json, which equals run_audit's result; exit 0 although errors were found."""
    sample_run(tmp_path)
    result = runner.invoke(app, ["audit", str(tmp_path), "--json", "--as-of", "2025-06-30"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "findings.json").read_text("utf-8"))
    assert printed == run_audit(tmp_path, as_of=dt.date(2025, 6, 30)).to_dict()
    assert {f["check"] for f in printed["findings"]} == {
        "completeness.low",
        "relation.inconsistent",
    }
    assert any(item["check"] == "sex.misreported" for item in printed["skipped"])


def test_summary_table_and_quiet(tmp_path):
    """The summary names checks by severity, the top findings and the skipped checks; --quiet prints nothing."""
    sample_run(tmp_path)
    shown = runner.invoke(app, ["audit", str(tmp_path)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "completeness.low" in shown.stdout and "Top findings" in shown.stdout
    assert "Skipped checks" in shown.stdout and "findings.json" in shown.stdout
    quiet = runner.invoke(app, ["audit", str(tmp_path), "--quiet"])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert "audit" in manifest["timings"] and "findings.json" in manifest["outputs"]


def test_config_checks_table_is_applied_and_validated(tmp_path):
    """[checks] settings from --config change the result; an unknown check id exits 2 naming it."""
    sample_run(tmp_path / "run")
    config = tmp_path / "fpstat.toml"
    base = '[run]\nperiod = "year"\n\n[[inputs]]\nrole = "planning"\npath = "x.xlsx"\n\n[checks]\n'
    config.write_text(
        base
        + '"completeness.low" = { threshold = 0.5 }\n"relation.inconsistent" = { enabled = false }\n',
        "utf-8",
    )
    result = runner.invoke(app, ["audit", str(tmp_path / "run"), "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
    config.write_text(base + '"completeness.lo" = { threshold = 0.5 }\n', "utf-8")
    bad = runner.invoke(app, ["audit", str(tmp_path / "run"), "--config", str(config)])
    assert bad.exit_code == 2 and "completeness.lo" in bad.output


def test_missing_run_directory_exits_2(tmp_path):
    """A run directory that does not exist is a usage error (exit 2)."""
    result = runner.invoke(app, ["audit", str(tmp_path / "nowhere")])
    assert result.exit_code == 2


def test_help_has_an_example():
    """--help explains the command and shows an example."""
    result = runner.invoke(app, ["audit", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "fpstat audit runs/r1" in result.stdout and "--profile" in result.stdout
