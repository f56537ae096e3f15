"""Doubtful linkage decisions widen the completeness intervals (fpstat.reconcile.linkage_uncertainty)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_reconcile_completeness import FULL, cells_of, county, simulate

from fpstat.reconcile.completeness import CompletenessSettings, completeness_table
from fpstat.reconcile.linkage_uncertainty import (
    LinkageEffect,
    doubtful_decisions,
    linkage_effect,
    widened_interval,
)

ROLES = ("planning", "police")


def _births() -> pd.DataFrame:
    """Three clusters in one village: planning only, police only, and both (police linked
    with posterior 0.8)."""
    return pd.DataFrame({
        "cluster_id": ["B1", "B2", "B3"], "area_code": ["320581101201"] * 3, "period": ["2024SY"] * 3,
        "sex": ["F", "F", "M"], "birth_order": [1, 1, 2], "within_policy": [True, True, False],
        "migrant": [False, False, pd.NA],
        "in_planning": [True, False, True], "in_police": [False, True, True],
    })


def _links() -> pd.DataFrame:
    return pd.DataFrame({
        "cluster_id": ["B1", "B2", "B3", "B3"], "role": ["planning", "police", "planning", "police"],
        "rule": ["singleton", "singleton", "anchor", "probabilistic"],
        "match_probability": [np.nan, np.nan, np.nan, 0.8], "is_duplicate": [False] * 4,
    })


def test_a_refused_pair_and_a_doubtful_link_become_their_alternatives() -> None:
    """A near miss merges two cells into one; a doubtful link splits its cluster in two."""
    misses = pd.DataFrame({"cluster_id": ["B2"], "other_cluster_id": ["B1"], "probability": [0.3]})
    changes = doubtful_decisions(_births(), ROLES, _links(), misses, floor=0.01)
    merge = changes[changes["decision"] == 0]
    assert sorted(zip(merge["history"], merge["change"], strict=True)) == [(1, -1), (2, -1), (3, 1)]
    assert (merge["q"] == 0.3).all() and (merge["sex"] == "F").all()
    split = changes[changes["decision"] == 1]
    assert sorted(zip(split["history"], split["change"], strict=True)) == [(1, 1), (2, 1), (3, -1)]
    assert split["q"].to_numpy() == pytest.approx([0.2] * 3)


def test_sure_decisions_are_left_alone() -> None:
    """Links surer than 1 - floor, and no near misses, give no changes."""
    links = _links().assign(match_probability=[np.nan, np.nan, np.nan, 0.999])
    empty = pd.DataFrame({"cluster_id": [], "other_cluster_id": [], "probability": []})
    assert doubtful_decisions(_births(), ROLES, links, empty, floor=0.01).empty


def test_shift_and_variance_are_those_of_bernoulli_decisions() -> None:
    """b = sum q delta and V = sum q (1 - q) delta^2 over decisions."""
    changes = pd.DataFrame({"decision": [0, 0, 1], "q": [0.5, 0.5, 0.2], "change": [1, -1, 1],
                            "history": [1, 2, 3]})
    slopes = {1: 3.0, 2: 1.0, 3: 2.0}
    effect = linkage_effect(changes, changes["history"].map(slopes).to_numpy())
    assert effect.shift == pytest.approx(0.5 * 2.0 + 0.2 * 2.0)
    assert effect.variance == pytest.approx(0.25 * 4.0 + 0.16 * 4.0)
    assert effect.decisions == 2


def test_the_interval_holds_both_estimates_and_both_spreads() -> None:
    """Low moves by the negative shift and widens in quadrature; high only widens."""
    low, high = widened_interval(100.0, 96.0, 105.0, LinkageEffect(-3.0, 4.0, 5), level=0.95)
    z = 1.959963984540054
    assert low == pytest.approx(100.0 - 3.0 - np.sqrt(16.0 + z * z * 4.0))
    assert high == pytest.approx(100.0 + np.sqrt(25.0 + z * z * 4.0))
    assert widened_interval(100.0, 96.0, 105.0, LinkageEffect(0.0, 0.0, 0), 0.95) == (96.0, 105.0)


def test_a_refused_pair_lowers_and_widens_a_chapman_interval() -> None:
    """Merging a police-only with a planning-only birth moves Chapman as the closed form says."""
    births = simulate(4000, {"planning": (0.9, 0.9), "police": (0.85, 0.85)}, seed=3)
    births["birth_order"] = "1"
    cells = cells_of(births)
    settings = CompletenessSettings(stratify=False)
    plain = county(completeness_table(cells, ROLES, {"planning": FULL, "police": FULL}, ["2024SY"], settings))
    changes = pd.DataFrame({
        "decision": [0, 0, 0], "q": [0.5] * 3, "area_code": ["320581101201"] * 3, "period": ["2024SY"] * 3,
        "sex": ["F"] * 3, "birth_order": ["1"] * 3, "within_policy": [None] * 3, "migrant": [None] * 3,
        "history": [1, 2, 3], "change": [-1, -1, 1],
    })
    widened = county(completeness_table(cells, ROLES, {"planning": FULL, "police": FULL}, ["2024SY"],
                                        settings, changes))
    seen = births[births["history"] > 0]["history"]
    n1, n2, m = ((seen & 1) > 0).sum(), ((seen & 2) > 0).sum(), (seen == 3).sum()
    exact = (n1 + 1) * (n2 + 1) / (m + 2) - (n1 + 1) * (n2 + 1) / (m + 1)
    assert widened["linkage_shift"] == pytest.approx(0.5 * exact, rel=0.02, abs=0.01)
    assert widened["linkage_sd"] == pytest.approx(0.5 * abs(exact), rel=0.02, abs=0.01)
    assert widened["est_total"] == plain["est_total"]
    assert widened["ci_low"] < plain["ci_low"] and widened["ci_high"] >= plain["ci_high"]
    assert plain["linkage_shift"] == 0 and plain["linkage_sd"] == 0


def test_a_doubtful_move_takes_a_record_from_one_twin_to_the_other() -> None:
    """A police record that may belong to the other cluster leaves its own and joins that one."""
    moves = pd.DataFrame({"cluster_id": ["B3"], "other_cluster_id": ["B1"], "role": ["police"],
                          "probability": [0.4]})
    empty = pd.DataFrame({"cluster_id": [], "other_cluster_id": [], "probability": []})
    links = _links().assign(match_probability=[np.nan, np.nan, np.nan, 1.0])
    changes = doubtful_decisions(_births(), ROLES, links, empty, floor=0.01, moves=moves)
    assert sorted(zip(changes["history"], changes["change"], strict=True)) == [(1, -1), (1, 1), (3, -1), (3, 1)]
    assert (changes["q"] == 0.4).all()
    assert set(changes.loc[changes["change"] == 1, "sex"]) == {"M", "F"}


def test_a_duplicate_that_may_be_a_twin_adds_a_birth_of_its_source() -> None:
    """A move without another cluster: with probability q one more birth, seen by that source."""
    moves = pd.DataFrame({"cluster_id": ["B3"], "other_cluster_id": pd.Series([pd.NA], dtype="string"),
                          "role": ["police"], "probability": [0.1]})
    empty = pd.DataFrame({"cluster_id": [], "other_cluster_id": [], "probability": []})
    links = _links().assign(match_probability=[np.nan, np.nan, np.nan, 1.0])
    changes = doubtful_decisions(_births(), ROLES, links, empty, floor=0.01, moves=moves)
    assert list(zip(changes["history"], changes["change"], strict=True)) == [(2, 1)]
    assert changes["q"].tolist() == [0.1] and changes["sex"].tolist() == ["M"]
