"""Issue 4 targets, scored against the truth of a medium ``fpstat sample`` drop.

One module-scoped fixture generates the drop, reads it once, and reconciles it twice: with
four record sources (planning, police, census, hospital) and with planning + police only.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fpstat.config import load_config
from fpstat.reconcile import ReconcileSettings, reconcile_inputs
from fpstat.rundir import RunDir
from fpstat.sample import generate_sample
from fpstat.schema import InputSpec, LoadResult, load_inputs

pytestmark = pytest.mark.slow
AS_OF = dt.date(2026, 1, 31)
FOUR = ("planning", "police", "census", "hospital")
TWO = ("planning", "police")


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """The drop, its truth, and the run directories of the two reconciliations."""
    import os

    os.environ.setdefault("FPSTAT_PSEUDONYM_KEY", "tests-only-key")
    drop = tmp_path_factory.mktemp("medium")
    generate_sample(drop, size="medium")
    config = load_config(drop / "fpstat.toml")
    specs = [InputSpec(path=entry.path, role=entry.role, sheets=entry.sheets, base_dir=config.base_dir)
             for entry in config.inputs if entry.role in FOUR]
    loaded = load_inputs(specs, as_of=AS_OF)
    runs = {}
    for roles in (FOUR, TWO):
        subset = LoadResult(
            records={role: frame for role, frame in loaded.records.items() if role in roles},
            rejects=loaded.rejects, inputs=[entry for entry in loaded.inputs if entry["role"] in roles],
        )
        run = RunDir(tmp_path_factory.mktemp("run"))
        reconcile_inputs(subset, run, ReconcileSettings(as_of=AS_OF))
        runs[roles] = run
    truth = {
        "records": pd.read_parquet(drop / "truth" / "records.parquet"),
        "totals": pd.read_csv(drop / "truth" / "totals.csv", dtype={"area_code": str, "period": str},
                              encoding="utf-8-sig"),
    }
    return runs, truth


def _scored_unregistered(run: RunDir, records: pd.DataFrame, roles: tuple[str, ...]) -> tuple[float, float]:
    """Precision and recall of unregistered.csv against the births the truth says are missing."""
    accepted = records[(records["status"] == "valid") & records["role"].isin(roles)]
    birth_of = dict(zip(accepted["role"] + ":" + accepted["record_id"], accepted["birth_uid"], strict=True))
    in_register = set(accepted.loc[accepted["role"] == "planning", "birth_uid"])
    expected = set(accepted["birth_uid"]) - in_register
    listed = run.read_csv("unregistered.csv", dtype=str)
    births = listed["record_ids"].str.split(";").map(lambda ids: {birth_of.get(i) for i in ids})
    single = births.map(len) == 1
    found = births[single].map(lambda b: next(iter(b)))
    correct = found[found.isin(expected) & ~found.duplicated()]
    return len(correct) / max(len(listed), 1), len(correct) / max(len(expected), 1)


def _county_errors(run: RunDir, totals: pd.DataFrame) -> pd.DataFrame:
    completeness = run.read_csv("completeness.csv", dtype={"area_code": str, "period": str})
    counties = completeness[completeness["level"] == "county"]
    true_births = totals[totals["level"] == "county"][["area_code", "period", "births"]]
    merged = counties.merge(true_births, on=["area_code", "period"], validate="one_to_one")
    merged["relative_error"] = (merged["est_total"] / merged["births"] - 1).abs()
    merged["covered"] = (merged["ci_low"] <= merged["births"]) & (merged["births"] <= merged["ci_high"])
    return merged


@pytest.mark.parametrize("roles", [FOUR, TWO], ids=["four-sources", "planning+police"])
def test_unregistered_births_are_found_with_high_precision_and_recall(medium, roles):
    """Births missing from the register: precision >= 0.98, recall >= 0.97."""
    runs, truth = medium
    precision, recall = _scored_unregistered(runs[roles], truth["records"], roles)
    assert precision >= 0.98 and recall >= 0.97, (precision, recall)


def test_county_totals_within_one_percent_with_four_sources(medium):
    """Four sources: every county's estimated births per period within 1 % of the truth."""
    runs, truth = medium
    errors = _county_errors(runs[FOUR], truth["totals"])
    assert len(errors) == 8 and (errors["relative_error"] <= 0.01).all(), errors


def test_county_totals_within_two_percent_with_planning_and_police(medium):
    """Planning + police only: every county's estimated births per period within 2 % of the truth."""
    runs, truth = medium
    errors = _county_errors(runs[TWO], truth["totals"])
    assert len(errors) == 8 and (errors["relative_error"] <= 0.02).all(), errors


def test_county_intervals_cover_the_truth_with_four_sources(medium):
    """Four sources: the 95 % intervals, widened for the linkage's doubtful decisions, hold
    the true number of births in at least 7 of the 8 county-periods.

    Eight intervals that each cover with probability 0.95 all cover only 66 % of the time, and
    at least 7 of 8 do 94 % of the time: "7 of 8" is the test a nominal 95 % interval passes.
    Without the linkage term (sampling variance only) 1 of 8 covered.
    """
    runs, truth = medium
    errors = _county_errors(runs[FOUR], truth["totals"])
    assert len(errors) == 8 and errors["covered"].sum() >= 7, errors
    assert (errors["linkage_sd"] > 0).all(), errors


def test_county_intervals_cover_the_truth_with_planning_and_police(medium):
    """Planning + police: the police export records no birth order, policy or migrant status,
    so only sex stratifies and Chapman is 0.1-0.7 % low (the births both lists miss are the
    out-of-policy, later and migrants' births). The interval holds the identification region
    of the register's own covariates (:mod:`fpstat.reconcile.unrecorded`), so it covers the
    truth in at least 7 of 8 county-periods (the same criterion as with four sources; all 8
    on this drop and on seeds 3, 5, 7 and 11), and every row names what was not recorded."""
    runs, truth = medium
    errors = _county_errors(runs[TWO], truth["totals"])
    assert len(errors) == 8 and errors["covered"].sum() >= 7, errors
    assert (errors["bounds_low"] <= errors["est_total"]).all() and (errors["est_total"] <= errors["bounds_high"]).all()
    for codes in errors["warnings"].fillna("").str.split(";"):
        assert {"covariate-not-recorded:order", "covariate-not-recorded:policy",
                "covariate-not-recorded:migrant"} <= set(codes), codes
        assert "covariate-not-recorded:sex" not in codes
    assert errors["method"].str.startswith("chapman stratified sex (").all(), errors["method"]
    four = _county_errors(runs[FOUR], truth["totals"])
    assert four["bounds_low"].isna().all()  # with four lists the log-linear models take it
