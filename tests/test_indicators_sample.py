"""End to end on a small synthetic drop: sample -> schema -> reconcile -> indicators, checked
against the drop's truth/ folder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401 - registers the commands
from fpstat.cli.app import app
from fpstat.config import load_config
from fpstat.reconcile import ReconcileSettings, reconcile_inputs
from fpstat.rundir import RunDir
from fpstat.sample import generate_sample
from fpstat.schema import InputSpec, load_inputs

AS_OF = dt.date(2026, 1, 31)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("e2e")
    generate_sample(root / "drop", size="small", seed=3)
    config = load_config(root / "drop" / "fpstat.toml")
    specs = [
        InputSpec(
            path=e.path, role=e.role, sheets=e.sheets, mapping=e.mapping, base_dir=config.base_dir
        )
        for e in config.inputs
    ]
    run = RunDir(root / "run")
    reconcile_inputs(
        load_inputs(specs, as_of=AS_OF), run, ReconcileSettings(period="sy", as_of=AS_OF)
    )
    outcome = CliRunner().invoke(app, ["indicators", str(root / "run"), "--quiet"])
    assert outcome.exit_code == 0, outcome.output
    table = pd.read_csv(
        root / "run" / "indicators.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    return root / "drop", root / "run", table


def test_reported_policy_rates_match_what_was_planted(drop) -> None:
    """The report's township policy rates are the reported ones the truth lists (heaping planted)."""
    drop_dir, _, table = drop
    truth = json.loads((drop_dir / "truth" / "injected.json").read_text("utf-8"))["heaping"][
        "rates"
    ]
    report = table[(table["indicator"] == "policy_rate") & (table["source"] == "report")]
    for planted in truth:
        row = report[
            (report["area_code"] == planted["area_code"]) & (report["period"] == planted["period"])
        ]
        assert len(row) == 1, planted
        assert int(row["numerator"].iloc[0]) == planted["reported_within_policy"]
        assert int(row["denominator"].iloc[0]) == planted["births"]
        assert float(row["value"].iloc[0]) == pytest.approx(planted["reported_rate"], abs=0.005)


def test_every_indicator_but_the_three_year_rate_is_computed(drop) -> None:
    """Two statistical years of data give every indicator but policy_rate_3y, all sources labelled."""
    _, _, table = drop
    assert "policy_rate_3y" not in set(table["indicator"])
    assert len(set(table["indicator"])) == 18
    assert {"planning", "police", "census", "hospital", "education", "report", "population"} >= set(
        table["source"]
    )
    assert set(table["level"]) == {"all", "province", "prefecture", "county", "township", "village"}


def test_county_rows_are_the_sum_of_their_townships(drop) -> None:
    """A county's register births equal the sum over its townships (numerators add up)."""
    _, _, table = drop
    srb = table[
        (table["indicator"] == "srb")
        & (table["source"] == "planning")
        & (table["period"] == "2025SY")
    ]
    counties = srb[srb["level"] == "county"]
    townships = srb[srb["level"] == "township"]
    for _, county in counties.iterrows():
        inside = townships[townships["area_code"].str.startswith(county["area_code"][:6])]
        assert inside["numerator"].astype(int).sum() == int(county["numerator"])
        assert inside["denominator"].astype(int).sum() == int(county["denominator"])


def test_rerunning_gives_the_same_bytes(drop) -> None:
    """Running the command again over the same run directory rewrites identical bytes."""
    _, run_dir, _ = drop
    first = (run_dir / "indicators.csv").read_bytes()
    assert CliRunner().invoke(app, ["indicators", str(run_dir), "--quiet"]).exit_code == 0
    assert (run_dir / "indicators.csv").read_bytes() == first
