"""``fpstat indicators RUN_DIR``: writes indicators.csv, JSON equals the library, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from indicators_fixtures import COUNTY, VILLAGE_A1, VILLAGE_B1, make_run, many
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401 - registers the commands
from fpstat.cli.app import app
from fpstat.indicators import compute_indicators
from fpstat.rundir import RunDir

runner = CliRunner()


def small_run(path: Path) -> RunDir:
    records = many(
        "planning",
        "A",
        12,
        sex="M",
        birth_date="2024-02-01",
        area_code=VILLAGE_A1,
        within_policy=True,
    )
    records += many(
        "planning",
        "B",
        10,
        sex="F",
        birth_date="2024-03-01",
        area_code=VILLAGE_B1,
        within_policy=False,
    )
    return make_run(path, records=records)


def report_csv(path: Path, births: int = 20) -> Path:
    path.write_text(
        "行政区划代码,地区,年度,年末总人口,出生人数,出生男,出生女,死亡人数\n"
        f"320102,某县,2024,10000,{births},11,{births - 11},8\n",
        encoding="utf-8",
    )
    return path


def test_writes_indicators_csv_and_the_manifest(tmp_path: Path) -> None:
    """The command writes indicators.csv (UTF-8 with BOM) and records the profile in the manifest."""
    small_run(tmp_path)
    outcome = runner.invoke(app, ["indicators", str(tmp_path)])
    assert outcome.exit_code == 0, outcome.output
    raw = (tmp_path / "indicators.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    frame = pd.read_csv(tmp_path / "indicators.csv", encoding="utf-8-sig", dtype=str)
    assert list(frame.columns)[:3] == ["indicator", "indicator_zh", "source"]
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["parameters"]["profile"] == "county-quality-service"
    assert "indicators.csv" in manifest["outputs"]
    assert "Not computed" in outcome.output


def test_json_equals_the_library_result(tmp_path: Path) -> None:
    """--json prints what the library returns for the same run."""
    small_run(tmp_path)
    outcome = runner.invoke(
        app, ["indicators", str(tmp_path), "--json", "--profile", "county-targets"]
    )
    assert outcome.exit_code == 0, outcome.output
    printed = json.loads(outcome.output)
    library = compute_indicators(
        RunDir(tmp_path, create=False), profile="county-targets", write=False
    )
    assert printed["rows"] == json.loads(json.dumps(library.to_dict()["rows"], ensure_ascii=False))
    assert printed["skipped"] == library.skipped
    assert printed["profile"] == "county-targets"


def test_missing_run_directory_exits_2(tmp_path: Path) -> None:
    """A run directory that does not exist is a usage error: exit 2, one line."""
    outcome = runner.invoke(app, ["indicators", str(tmp_path / "nowhere")])
    assert outcome.exit_code == 2


def test_unknown_profile_exits_2(tmp_path: Path) -> None:
    """An unknown profile name is a usage error: exit 2, nothing written."""
    small_run(tmp_path)
    outcome = runner.invoke(app, ["indicators", str(tmp_path), "--profile", "no-such-profile"])
    assert outcome.exit_code == 2
    assert not (tmp_path / "indicators.csv").exists()


def test_bad_period_exits_2(tmp_path: Path) -> None:
    """A period kind that does not exist is a usage error."""
    small_run(tmp_path)
    assert runner.invoke(app, ["indicators", str(tmp_path), "--period", "week"]).exit_code == 2


def test_report_tables_are_added_once(tmp_path: Path) -> None:
    """--report appends the table to tables.parquet; adding the same file again replaces it."""
    small_run(tmp_path / "run")
    report = report_csv(tmp_path / "报表.csv")
    for _ in range(2):
        outcome = runner.invoke(
            app, ["indicators", str(tmp_path / "run"), "--report", str(report), "--quiet"]
        )
        assert outcome.exit_code == 0, outcome.output
    tables = RunDir(tmp_path / "run", create=False).read_parquet("tables.parquet")
    assert len(tables) == 1 and tables["role"].iloc[0] == "report"
    frame = pd.read_csv(tmp_path / "run" / "indicators.csv", encoding="utf-8-sig", dtype=str)
    accuracy = frame[(frame["indicator"] == "report_accuracy") & (frame["area_code"] == COUNTY)]
    assert accuracy[["numerator", "denominator", "value"]].values.tolist() == [
        ["20", "22", "0.909091"]
    ]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert [entry["role"] for entry in manifest["inputs"]] == ["report"]


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    """Two runs over the same run directory write byte-identical indicators.csv."""
    small_run(tmp_path)
    runner.invoke(app, ["indicators", str(tmp_path), "--quiet"])
    first = (tmp_path / "indicators.csv").read_bytes()
    runner.invoke(app, ["indicators", str(tmp_path), "--quiet"])
    assert (tmp_path / "indicators.csv").read_bytes() == first


@pytest.mark.parametrize("option", ["--help"])
def test_help_has_examples(option: str) -> None:
    """The command's help shows examples."""
    outcome = runner.invoke(app, ["indicators", option])
    assert outcome.exit_code == 0 and "Examples" in outcome.output
