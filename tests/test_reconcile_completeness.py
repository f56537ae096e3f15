"""completeness.csv: stratified estimates for counties and above, synthetic ones below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpstat.reconcile.capture_histories import CaptureHistories
from fpstat.reconcile.completeness import CompletenessSettings, completeness_table, model_label
from fpstat.reconcile.model_search import choose_models
from fpstat.reconcile.multiple_systems import estimate_mse
from fpstat.schema.areas import LEVEL_NAMES, expand_to_levels

VILLAGES = ("320581101201", "320581101202", "320581102201", "320581102202")
FULL = {"sex": 1.0, "birth_order": 1.0, "within_policy": 1.0, "migrant": 1.0}


def simulate(
    births: int, capture: dict[str, tuple[float, float]], seed: int, *, period: str = "2024SY"
) -> pd.DataFrame:
    """Births with sex and order; each list sees a birth with probability (easy, hard):
    girls of order 3 are the hard ones, for every list alike (correlated heterogeneity)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "area_code": rng.choice(VILLAGES, births),
        "period": period,
        "sex": rng.choice(["M", "F"], births),
        "birth_order": rng.choice(["1", "2", "3"], births, p=[0.45, 0.35, 0.2]),
        "within_policy": None,
        "migrant": None,
    })
    hard = ((frame["sex"] == "F") & (frame["birth_order"] == "3")).to_numpy()
    history = np.zeros(births, dtype=np.int64)
    for position, (easy, difficult) in enumerate(capture.values()):
        seen = rng.random(births) < np.where(hard, difficult, easy)
        history |= seen.astype(np.int64) << position
    return frame.assign(history=history)


def cells_of(births: pd.DataFrame) -> pd.DataFrame:
    """The capture cells the SQL builds: births per area (every level), covariates, history."""
    seen = births[births["history"] > 0].assign(births=1)
    expanded = expand_to_levels(seen)
    keys = ["area_code", "level", "period", "sex", "birth_order", "within_policy", "migrant", "history"]
    cells = expanded.groupby(keys, dropna=False, as_index=False)["births"].sum()
    cells["depth"] = cells["level"].map(LEVEL_NAMES.index)
    return cells


def county(table: pd.DataFrame) -> pd.Series:
    return table[table["level"] == "county"].iloc[0]


def test_strata_remove_the_bias_an_unstratified_chapman_has():
    """With capture lower for the same births in both lists, only the stratified interval covers N."""
    births = simulate(20000, {"planning": (0.92, 0.35), "police": (0.9, 0.3)}, seed=1)
    table = completeness_table(cells_of(births), ("planning", "police"), {"planning": FULL, "police": FULL},
                               ["2024SY"], CompletenessSettings())
    row = county(table)
    assert row["ci_low"] <= 20000 <= row["ci_high"]
    assert not row["ci_low_unstratified"] <= 20000 <= row["ci_high_unstratified"]
    assert row["est_total_unstratified"] < row["est_total"]
    assert row["method"].startswith("chapman stratified sex*order (")


def test_a_covariate_one_list_lacks_is_not_a_stratum():
    """Birth order known only to the register would make an 'unknown' stratum only police sees."""
    births = simulate(4000, {"planning": (0.9, 0.6), "police": (0.9, 0.6)}, seed=2)
    coverage = {"planning": FULL, "police": {**FULL, "birth_order": 0.0}}
    row = county(completeness_table(cells_of(births), ("planning", "police"), coverage, ["2024SY"],
                                    CompletenessSettings()))
    assert row["method"].startswith("chapman stratified sex (")


def test_no_stratify_gives_the_pooled_estimate():
    """--no-stratify: the main estimate is the unstratified one and says so."""
    births = simulate(4000, {"planning": (0.9, 0.6), "police": (0.9, 0.6)}, seed=3)
    row = county(completeness_table(cells_of(births), ("planning", "police"), {"planning": FULL, "police": FULL},
                                    ["2024SY"], CompletenessSettings(stratify=False)))
    assert row["method"] == "chapman"
    assert row["est_total"] == row["est_total_unstratified"]


def test_townships_and_villages_are_synthetic_and_add_up_to_the_county():
    """Sub-county totals apply the county's stratum capture rates and sum to the county total."""
    births = simulate(6000, {"planning": (0.9, 0.5), "police": (0.85, 0.5), "hospital": (0.93, 0.7)}, seed=4)
    roles = ("planning", "police", "hospital")
    table = completeness_table(cells_of(births), roles, dict.fromkeys(roles, FULL), ["2024SY"],
                               CompletenessSettings())
    total = county(table)["est_total"]
    for level in ("township", "village"):
        rows = table[table["level"] == level]
        assert rows["est_total"].sum() == pytest.approx(total, abs=0.1 * len(rows))
        assert set(rows["method"]) == {"synthetic(county 320581 strata)"}
        assert (rows["ci_low"] <= rows["est_total"]).all() and (rows["est_total"] <= rows["ci_high"]).all()
    assert county(table)["method"].startswith("loglinear[")
    assert (table["completeness_planning"] == (table["n_planning"] / table["est_total"]).round(4)).all()


def test_a_source_that_saw_almost_nothing_is_left_out():
    """A list holding under 1 % of the births is excluded with a warning, not fitted."""
    births = simulate(5000, {"planning": (0.9, 0.6), "police": (0.9, 0.6), "census": (0.002, 0.002)}, seed=5)
    roles = ("planning", "police", "census")
    row = county(completeness_table(cells_of(births), roles, dict.fromkeys(roles, FULL), ["2024SY"],
                                    CompletenessSettings()))
    assert "source-excluded:census" in row["warnings"]
    assert row["method"].startswith("chapman")


def test_model_names_use_source_letters():
    """Rcapture's [12,3] over planning, police, census reads loglinear[PG,C]."""
    assert model_label("[12,3]", ("planning", "police", "census")) == "loglinear[PG,C]"
    assert model_label("[13,24]", ("planning", "police", "hospital", "education")) == "loglinear[PH,GE]"
    assert model_label(None, ("planning", "police")) == "chapman"


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_batched_search_chooses_what_the_single_table_search_chooses(criterion):
    """On one table the batched search picks the model estimate_mse picks (Rcapture's AIC/BIC)."""
    rng = np.random.default_rng(6)
    tables = []
    for _ in range(4):
        births = simulate(3000, {"a": (0.8, 0.4), "b": (0.7, 0.3), "c": (0.75, 0.5), "d": (0.6, 0.4)},
                          seed=int(rng.integers(1000)))
        counts = np.bincount(births["history"], minlength=16)[1:].astype(float)
        tables.append(counts)
    chosen = choose_models([counts[None, :] for counts in tables], criterion)
    for counts, (model, _) in zip(tables, chosen, strict=True):
        reference = estimate_mse(CaptureHistories(("a", "b", "c", "d"), counts), criterion=criterion,
                                 ci="lognormal")
        assert model is not None and model.name == reference.chosen
