"""`fpstat run` and `fpstat check` on the bundled sample drop: every output, the gate, reproducibility."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401  (registers the commands)
from fpstat.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
runner = CliRunner()
OUTPUTS = [
    "manifest.json", "rejects.csv", "links.parquet", "unregistered.csv", "counts.csv",
    "completeness.csv", "indicators.csv", "findings.json", "fpstat.log", "records.parquet",
    "tables.parquet", "sex_disagreements.csv",
]
DETERMINISTIC = [name for name in OUTPUTS if name not in ("manifest.json", "fpstat.log")]


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    """A private copy of sample_data, so runs never write into the repository."""
    target = tmp_path_factory.mktemp("drop") / "sample_data"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("runs", "truth"))
    return target


@pytest.fixture(scope="module")
def first_run(drop):
    result = runner.invoke(app, ["run", str(drop / "fpstat.toml"), "--out", str(drop / "runs" / "a"), "--json"])
    assert result.exit_code == 0, result.output
    return drop / "runs" / "a", json.loads(result.stdout)


def test_run_writes_every_output_and_accounts_for_rows(first_run):
    """Every run-directory file exists; rows read = accepted + rejected for every input."""
    run_dir, summary = first_run
    for name in OUTPUTS:
        assert (run_dir / name).exists(), name
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    assert manifest["inputs"]
    for entry in manifest["inputs"]:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_rejected"]
    assert summary["rows"]["rows_read"] == sum(e["rows_read"] for e in manifest["inputs"])
    assert manifest["parameters"]["as_of"] == "2026-01-31"
    assert set(manifest["timings"]) >= {"read", "reconcile", "indicators", "audit"}
    findings = json.loads((run_dir / "findings.json").read_text("utf-8"))["findings"]
    assert sum(summary["findings"].values()) == len(findings)


def test_same_inputs_give_byte_identical_outputs(drop, first_run):
    """A second run of the same config and as-of date writes the same bytes."""
    run_dir, _ = first_run
    again = drop / "runs" / "b"
    result = runner.invoke(app, ["run", str(drop / "fpstat.toml"), "--out", str(again), "--quiet"])
    assert result.exit_code == 0, result.output
    for name in DETERMINISTIC:
        assert (run_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_outputs_carry_no_raw_ids_or_names(first_run):
    """Default outputs are pseudonymised: no 18-character resident ID appears in any text output."""
    import re

    run_dir, _ = first_run
    resident_id = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
    for name in ["unregistered.csv", "rejects.csv", "findings.json", "fpstat.log", "counts.csv", "completeness.csv"]:
        assert not resident_id.search((run_dir / name).read_text("utf-8-sig")), name
    assert not (run_dir / "records.xlsx").exists()


def test_check_gates_on_severity_and_writes_junit(drop, first_run, tmp_path):
    """`check` exits 1 when findings reach --fail-on, 0 when a baseline accepts them all."""
    junit = tmp_path / "fpstat.xml"
    failing = runner.invoke(app, ["check", str(drop / "fpstat.toml"), "--out", str(tmp_path / "c"),
                                  "--fail-on", "warning", "--junit", str(junit), "--json"])
    assert failing.exit_code == 1, failing.output
    assert json.loads(failing.stdout)["exit_code"] == 1
    tree = ET.parse(junit)
    assert tree.getroot().iter("failure").__next__() is not None
    run_dir, _ = first_run
    baseline = runner.invoke(app, ["check", str(drop / "fpstat.toml"), "--out", str(tmp_path / "d"),
                                   "--fail-on", "info", "--baseline", str(run_dir / "findings.json"), "--quiet"])
    assert baseline.exit_code == 0, baseline.output


def test_bad_config_is_one_line_and_exit_2(drop, tmp_path):
    """An unknown key or check setting names the key and line; exit 2, no traceback."""
    text = (drop / "fpstat.toml").read_text("utf-8").replace('period = "sy"', 'peroid = "sy"')
    bad = drop / "bad.toml"
    bad.write_text(text, "utf-8")
    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "peroid" in result.output and "Traceback" not in result.output
    lines = (drop / "fpstat.toml").read_text("utf-8").splitlines()
    if "[checks]" not in lines:
        lines.append("[checks]")
    at = lines.index("[checks]") + 1
    lines.insert(at, '"srb.out_of_range" = { lwo = 103 }')
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "y")])
    assert result.exit_code == 2
    assert "lwo" in result.output and f"row {at + 1}" in result.output


def test_missing_config_is_exit_2():
    """A config path that does not exist is a usage error."""
    result = runner.invoke(app, ["run", "no/such/fpstat.toml"])
    assert result.exit_code == 2 and "no such file" in result.output
