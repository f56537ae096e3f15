"""``fpstat reconcile``: options, usage errors, the county summary, --json parity."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401 - registers the commands on the app
from fpstat.cli.app import app
from fpstat.rundir import RunDir
from fpstat.sample import generate_sample

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
OPTIONS = ("--planning", "--police", "--census", "--hospital", "--education", "--period", "--out",
           "--mapping", "--include-records", "--criterion", "--no-stratify", "--as-of", "--json", "--quiet")


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch):
    monkeypatch.setenv("FPSTAT_PSEUDONYM_KEY", "tests-only-key")


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    generate_sample(folder, size="small")
    return folder


def _invoke(*arguments: str):
    return runner.invoke(app, ["reconcile", *arguments])


def test_help_explains_every_option_with_an_example():
    """--help names each option and shows an example command."""
    result = runner.invoke(app, ["reconcile", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in OPTIONS:
        assert option in result.output, option
    assert "fpstat reconcile --planning" in result.output


def test_the_register_alone_is_a_usage_error(drop, tmp_path):
    """Without a second source there is nothing to reconcile: exit 2 and a one-line reason."""
    result = _invoke("--planning", str(drop / "planning" / "*.xlsx"), "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "at least one source besides --planning" in result.output


def test_unknown_period_is_a_usage_error(drop, tmp_path):
    """--period must be year, sy, quarter or month."""
    result = _invoke("--planning", str(drop / "planning" / "*.xlsx"), "--police", str(drop / "police" / "*.csv"),
                     "--period", "week", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "--period" in result.output


def test_globs_run_and_print_the_county_summary(drop, tmp_path):
    """Globs per role; exit 0 although rows were rejected; one summary row per county."""
    out = tmp_path / "run"
    result = _invoke("--planning", str(drop / "planning" / "*.xlsx"), "--police", str(drop / "police" / "*.csv"),
                     "--out", str(out), "--as-of", "2026-01-31")
    assert result.exit_code == 0, result.output
    assert "Births by county" in result.output
    for county in ("320581", "320582", "320583"):
        assert county in result.output
    # Not a terminal: the table is printed whole, not cut at 80 columns.
    assert "missing" in result.output and "┓" in result.output
    run = RunDir(out)
    assert run.read_json("manifest.json")["parameters"]["command"] == "reconcile"
    assert len(run.read_csv("rejects.csv")) > 0


def test_json_is_the_library_summary(drop, tmp_path):
    """--json prints the summary whose county figures are those of completeness.csv."""
    out = tmp_path / "run"
    result = _invoke("--planning", str(drop / "planning" / "*.xlsx"), "--police", str(drop / "police" / "*.csv"),
                     "--out", str(out), "--as-of", "2026-01-31", "--json", "--period", "year")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["period"] == "year" and summary["record_roles"] == ["planning", "police"]
    completeness = RunDir(out).read_csv("completeness.csv", dtype={"area_code": str})
    counties = completeness[completeness["level"] == "county"].groupby("area_code")["n_planning"].sum()
    assert {row["county_code"]: row["n_planning"] for row in summary["counties"]} == counties.to_dict()
    assert summary["unregistered"] == len(RunDir(out).read_csv("unregistered.csv"))


@pytest.mark.skipif(not (REPO / "sample_data" / "planning").is_dir(), reason="sample_data/ not bundled yet")
def test_bundled_sample_data_prints_its_summary_within_seconds(tmp_path):
    """fpstat reconcile on sample_data/ shows the county table in well under a minute."""
    data = REPO / "sample_data"
    roles = [role for role in ("police", "census", "hospital", "education") if (data / role).is_dir()]
    arguments = ["--planning", str(data / "planning" / "*")]
    for role in roles:
        arguments += [f"--{role}", str(data / role / "*")]
    start = time.perf_counter()
    result = _invoke(*arguments, "--out", str(tmp_path / "run"), "--as-of", "2026-01-31")
    assert result.exit_code == 0, result.output
    assert "Births by county" in result.output
    assert time.perf_counter() - start < 60
