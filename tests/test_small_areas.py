"""Many small areas at once (batched fits) and synthetic estimates from a parent stratum."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpstat.reconcile.capture_histories import CaptureHistories, history_bits
from fpstat.reconcile.estimators import chapman
from fpstat.reconcile.loglinear import fit_model
from fpstat.reconcile.small_areas import estimate_areas, fit_areas, synthetic_estimate

LISTS = ("planning", "police", "hospital")


def simulated_areas(n_areas: int, seed: int = 3) -> np.ndarray:
    """Histories of areas with 5-300 births, seen by three lists with p = 0.8, 0.6, 0.5."""
    rng = np.random.default_rng(seed)
    bits = np.vstack([np.zeros((1, 3)), history_bits(3)])  # the unseen cell first
    seen_by = np.array([0.8, 0.6, 0.5])
    cell_probabilities = np.prod(np.where(bits == 1, seen_by, 1 - seen_by), axis=1)
    cells = rng.multinomial(rng.integers(5, 300, n_areas), cell_probabilities)
    return cells[:, 1:]


def long_table(counts: np.ndarray) -> pd.DataFrame:
    bits = history_bits(3)
    n_areas = len(counts)
    table = pd.DataFrame(
        {"township": [f"T{index:05d}" for index in range(n_areas) for _ in range(7)]}
    )
    for position, name in enumerate(LISTS):
        table[name] = np.tile(bits[:, position], n_areas)
    table["count"] = counts.ravel()
    return table


def test_batched_fit_equals_one_at_a_time() -> None:
    """Each area's N, SE and log-normal CI equal fit_model on that area alone."""
    counts = simulated_areas(60)
    batched = fit_areas(counts, "[12,3]")
    for index, row in enumerate(counts):
        single = fit_model(CaptureHistories(LISTS, row.astype(float)), "[12,3]", ci="lognormal")
        assert batched.estimable[index] == single.estimable
        if single.estimable:
            assert batched.n_hat[index] == pytest.approx(single.n_hat, rel=1e-10)
            assert batched.se[index] == pytest.approx(single.se, rel=1e-8)
            assert batched.ci_low[index] == pytest.approx(single.ci_low, rel=1e-8)
            assert batched.ci_high[index] == pytest.approx(single.ci_high, rel=1e-8)
        else:
            assert np.isnan(batched.n_hat[index])
            assert batched.warnings[index] == ";".join(w.code for w in single.warnings)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=7, max_size=7), min_size=1, max_size=6))
def test_batched_fit_equals_single_fits_on_any_counts(rows: list[list[int]]) -> None:
    """For arbitrary counts (zeros included) batched and single fits agree, flags included."""
    counts = np.array(rows, dtype=float)
    for model in ("[1,2,3]", "[12,13]"):
        batched = fit_areas(counts, model)
        for index, row in enumerate(counts):
            single = fit_model(CaptureHistories(LISTS, row), model, ci="lognormal")
            assert bool(batched.estimable[index]) == single.estimable
            if single.estimable:
                assert batched.n_hat[index] == pytest.approx(single.n_hat, rel=1e-8)


def test_degenerate_areas_are_flagged_not_fitted() -> None:
    """No records, no overlap for an interaction, a boundary pattern: NaN with the reason."""
    counts = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0],  # nothing seen
            [40, 30, 0, 25, 10, 12, 0],  # lists 1 and 2 never together
            [12, 3, 17, 0, 12, 4, 12],  # nobody seen by the hospital alone
            [60, 50, 30, 40, 20, 25, 15],
        ],
        dtype=float,
    )
    estimates = fit_areas(counts, "[12,3]")
    assert list(estimates.estimable) == [False, False, False, True]
    assert list(estimates.warnings) == ["no-records", "no-overlap", "boundary", ""]
    assert np.isnan(estimates.n_hat[:3]).all()
    assert list(estimates.n_observed) == [0, 117, 60, 240]


def test_chapman_per_area() -> None:
    """model='chapman' on two lists gives the Chapman estimate and Chao CI per area."""
    counts = np.array([[86, 73, 49], [10, 5, 0]], dtype=float)  # cells 10, 01, 11
    estimates = fit_areas(counts, "chapman")
    reference = chapman(135, 122, 49)
    assert estimates.n_hat[0] == pytest.approx(reference.n_hat)
    assert estimates.ci_low[0] == pytest.approx(reference.ci_low)
    assert not estimates.estimable[1] and estimates.warnings[1] == "no-overlap"


def test_estimate_areas_from_a_long_table() -> None:
    """A long table (area, list flags, count) gives one sorted row per area, rows in any order."""
    counts = simulated_areas(20)
    table = long_table(counts).sample(frac=1, random_state=4)
    result = estimate_areas(table, "[12,3]", by="township")
    assert list(result["township"]) == sorted(result["township"])
    assert list(result.columns) == [
        "township",
        "n_observed",
        "n_hat",
        "se",
        "ci_low",
        "ci_high",
        "estimable",
        "warnings",
    ]
    direct = fit_areas(counts, "[12,3]")
    assert result["n_hat"].to_numpy() == pytest.approx(direct.n_hat, nan_ok=True)


def test_fifty_thousand_areas_in_seconds() -> None:
    """50,000 areas x 3 lists: one model fitted to every area within seconds."""
    table = long_table(simulated_areas(50_000, seed=11))
    started = time.perf_counter()
    result = estimate_areas(table, "[12,3]", by="township")
    elapsed = time.perf_counter() - started
    assert len(result) == 50_000
    assert result["estimable"].mean() > 0.9
    assert elapsed < 20, f"took {elapsed:.1f} s"


def test_synthetic_estimate_by_hand() -> None:
    """N_small = n_small N_parent / n_parent; variance = parent part + binomial part."""
    parents = pd.DataFrame(
        {
            "sex": ["F", "M"],
            "n_observed": [800.0, 900.0],
            "n_hat": [1000.0, 1000.0],
            "se": [20.0, 10.0],
        }
    )
    small = pd.DataFrame(
        {"village": ["V1", "V2", "V3"], "sex": ["F", "M", "X"], "n_observed": [40.0, 45.0, 3.0]}
    )
    result = synthetic_estimate(small, parents, by="sex")
    assert list(result["village"]) == ["V1", "V2", "V3"]
    first = result.iloc[0]
    assert first["p_capture"] == pytest.approx(0.8)
    assert first["n_hat"] == pytest.approx(50.0)
    assert first["se"] ** 2 == pytest.approx((40 / 800) ** 2 * 400 + 50 * 0.2 / 0.8)
    assert first["n_observed"] <= first["ci_low"] <= 50.0 <= first["ci_high"]
    assert not result.iloc[2]["estimable"] and np.isnan(result.iloc[2]["n_hat"])


def test_synthetic_estimate_needs_one_rate_per_stratum() -> None:
    """Two capture rates for one stratum would be ambiguous: a UsageError."""
    from fpstat.errors import UsageError

    parents = pd.DataFrame(
        {"sex": ["F", "F"], "n_observed": [1.0, 2.0], "n_hat": [2.0, 3.0], "se": [1.0, 1.0]}
    )
    small = pd.DataFrame({"sex": ["F"], "n_observed": [1.0]})
    with pytest.raises(UsageError):
        synthetic_estimate(small, parents, by="sex")
