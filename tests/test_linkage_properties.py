"""Properties of the linkage: results depend on the records, not on their order or the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkage_fixtures import population, source

from fpstat.reconcile.linkage import link_records


@pytest.fixture(scope="module")
def sources() -> dict[str, pd.DataFrame]:
    """Three sources of 150 births with blanks, so that every kind of rule is exercised."""
    births = population(150, seed=21)
    planning, _ = source(births.iloc[:135], "planning", "P", {"child_id": 0.6, "child_name": 0.8}, seed=1)
    police, _ = source(births.iloc[10:], "police", "G", {"mother_id": 0.8}, seed=2)
    census, _ = source(births, "census", "C", {"child_id": 0.3, "mother_id": 0.3}, seed=3)
    # A duplicate entry and a sex error, so that those paths run too.
    duplicate = planning.iloc[[3]].assign(record_id="P90000", source_row=900)
    planning = pd.concat([planning, duplicate], ignore_index=True)
    police.loc[4, "sex"] = "F" if police.loc[4, "sex"] == "M" else "M"
    return {"planning": planning, "police": police, "census": census}


@pytest.fixture(scope="module")
def reference(sources: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return _sorted(link_records(sources).links)


def _sorted(links: pd.DataFrame) -> pd.DataFrame:
    return links.sort_values(["role", "record_id"]).reset_index(drop=True)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_links_do_not_depend_on_row_order(sources, reference, seed: int) -> None:
    """Shuffling the rows of every source (and the order of the sources) changes nothing,
    not even the cluster ids."""
    rng = np.random.default_rng(seed)
    roles = list(sources)
    shuffled = {
        role: sources[role].iloc[rng.permutation(len(sources[role]))].reset_index(drop=True)
        for role in (roles[i] for i in rng.permutation(len(roles)))
    }
    pd.testing.assert_frame_equal(_sorted(link_records(shuffled).links), reference)


def test_links_are_identical_across_runs(sources, reference) -> None:
    """Two runs on the same records give the same links, parameters included."""
    again = link_records(sources)
    pd.testing.assert_frame_equal(_sorted(again.links), reference)
    assert again.parameters == link_records(sources).parameters


def test_cluster_ids_are_numbered_without_gaps(reference) -> None:
    """Cluster ids run B000001, B000002, ... with no gaps."""
    numbers = sorted(int(cluster[1:]) for cluster in reference["cluster_id"].unique())
    assert numbers == list(range(1, len(numbers) + 1))


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_every_record_is_linked_once_and_one_to_one(seed: int) -> None:
    """For any generated drop: one row per record, and no birth with two primaries of a source."""
    births = population(60, seed=seed)
    planning, _ = source(births.iloc[:50], "planning", "P", {"child_id": 0.5, "mother_id": 0.8}, seed=seed)
    hospital, _ = source(births.iloc[5:], "hospital", "H", {"child_id": 0.0, "child_name": 0.1}, seed=seed + 1)
    links = link_records({"planning": planning, "hospital": hospital}).links
    assert len(links) == len(planning) + len(hospital)
    assert not links.duplicated(["role", "record_id"]).any()
    primaries = links[~links["is_duplicate"].astype(bool)]
    assert not primaries.duplicated(["cluster_id", "role"]).any()
