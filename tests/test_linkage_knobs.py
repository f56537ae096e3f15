"""Linkage knobs end to end: `[linkage]` in `fpstat run` and `--match-threshold`/`--date-tolerance`
in `fpstat reconcile` reach the manifest; bad values stop before any work with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401  (registers the commands)
from fpstat.cli.app import app
from fpstat.reconcile import LinkageSettings

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
# One county of the bundled drop keeps each run to a few seconds.
PLANNING = next((SAMPLE / "planning").glob("*_320581_*.xlsx"))
POLICE = next((SAMPLE / "police").glob("*_320581_*.csv"))


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch):
    monkeypatch.setenv("FPSTAT_PSEUDONYM_KEY", "tests-only-key")


def manifest_linkage(run_dir: Path) -> tuple[dict, dict]:
    """The settings as the manifest records them: in `parameters` and in the linkage report."""
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    return manifest["parameters"]["linkage"], manifest["linkage"]["settings"]


def test_config_linkage_table_reaches_the_manifest(tmp_path):
    """`[linkage] match_threshold = 0.95` in the config is the threshold the run used and recorded."""
    config = tmp_path / "fpstat.toml"
    config.write_text(f"""[run]
out = "runs/a"
as_of = "2026-01-31"

[[inputs]]
role = "planning"
path = {json.dumps(str(PLANNING), ensure_ascii=False)}

[[inputs]]
role = "police"
path = {json.dumps(str(POLICE), ensure_ascii=False)}

[linkage]
match_threshold = 0.95
""", encoding="utf-8")
    result = runner.invoke(app, ["run", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    parameters, used = manifest_linkage(tmp_path / "runs" / "a")
    assert parameters["match_threshold"] == used["match_threshold"] == 0.95
    assert used["date_tolerance_days"] == LinkageSettings().date_tolerance_days


def test_reconcile_options_are_recorded_in_the_manifest(tmp_path):
    """`--date-tolerance 1 --match-threshold 0.97` are the settings the manifest records."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["reconcile", "--planning", str(PLANNING), "--police", str(POLICE),
                                 "--date-tolerance", "1", "--match-threshold", "0.97",
                                 "--as-of", "2026-01-31", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    parameters, used = manifest_linkage(out)
    assert parameters["date_tolerance_days"] == used["date_tolerance_days"] == 1
    assert parameters["match_threshold"] == used["match_threshold"] == 0.97


@pytest.mark.parametrize(
    ("option", "value"),
    [("--match-threshold", "1.5"), ("--match-threshold", "0"), ("--date-tolerance", "40"), ("--date-tolerance", "-1")],
)
def test_out_of_range_options_exit_2_before_reading(tmp_path, option, value):
    """An out-of-range option is one bilingual line naming it, exit 2, no traceback, nothing written."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["reconcile", "--planning", str(PLANNING), "--police", str(POLICE),
                                 option, value, "--out", str(out)])
    assert result.exit_code == 2
    assert f"error: {option} " in result.output and "is out of range" in result.output
    assert "超出允许范围" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_help_shows_the_library_defaults():
    """--help documents both options with LinkageSettings' defaults and an example."""
    result = runner.invoke(app, ["reconcile", "--help"], terminal_width=200, env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    defaults = LinkageSettings()
    assert f"[default: {defaults.match_threshold}]" in result.output
    assert f"[default: {defaults.date_tolerance_days}]" in result.output
    assert "--match-threshold 0.95" in result.output and "--date-tolerance 3" in result.output
