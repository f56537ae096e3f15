"""Linkage scored against the truth of an ``fpstat sample`` drop (issue 4's "done when").

Pairwise precision and recall of the links, and precision and recall of the births missing
from the planning register (clusters without a planning record). A small drop always runs;
the medium drop (about 40,000 births, a few minutes) runs with ``FPSTAT_LINKAGE_MEDIUM=1``.
"""

from __future__ import annotations

import datetime as dt
import os
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

sample = pytest.importorskip("fpstat.sample")
schema = pytest.importorskip("fpstat.schema")
config_module = pytest.importorskip("fpstat.config")

from fpstat.reconcile.linkage import link_records  # noqa: E402

pytestmark = pytest.mark.slow
AS_OF = dt.date(2026, 1, 31)
RECORD_ROLES = ("planning", "police", "census", "hospital", "education")


def _load(drop: Path) -> dict[str, pd.DataFrame]:
    config = config_module.load_config(drop / "fpstat.toml")
    specs = [schema.InputSpec(path=entry.path, role=entry.role, sheets=entry.sheets,
                              base_dir=config.base_dir)
             for entry in config.inputs if entry.role in RECORD_ROLES]
    return schema.load_inputs(specs, as_of=AS_OF).records


def score(links: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision/recall of the links; precision/recall of births missing from planning.

    A cluster without a planning record counts as a correctly found missing birth when all its
    records belong to one true birth, that birth has no planning record, and no earlier cluster
    already found it.
    """
    accepted = truth[truth["status"] == "valid"][["role", "record_id", "birth_uid"]]
    table = links.astype({"cluster_id": str, "role": str, "record_id": str}).merge(
        accepted, on=["role", "record_id"], validate="one_to_one")
    assert len(table) == len(links) == len(accepted)

    def pairs(key: str) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for members in table.groupby(key)["role"].apply(lambda r: list(r.index)):
            labels = sorted(f"{table.at[i, 'role']}:{table.at[i, 'record_id']}" for i in members)
            found.update(combinations(labels, 2))
        return found

    linked, true = pairs("cluster_id"), pairs("birth_uid")
    in_planning = set(table.loc[table["role"] == "planning", "birth_uid"])
    missing = set(table["birth_uid"]) - in_planning
    clusters = table.groupby("cluster_id").agg(roles=("role", set), births=("birth_uid", set))
    without_planning = clusters[clusters["roles"].map(lambda roles: "planning" not in roles)]
    found: set[str] = set()
    for births in without_planning["births"]:
        birth = next(iter(births))
        if len(births) == 1 and birth in missing and birth not in found:
            found.add(birth)
    return {
        "pair_precision": len(linked & true) / max(len(linked), 1),
        "pair_recall": len(linked & true) / max(len(true), 1),
        "missing_precision": len(found) / max(len(without_planning), 1),
        "missing_recall": len(found) / max(len(missing), 1),
        "missing_found": len(without_planning),
        "missing_true": len(missing),
    }


def _scored_drop(folder: Path, size: str) -> dict[str, float]:
    os.environ.setdefault("FPSTAT_PSEUDONYM_KEY", "tests-only-key")
    sample.generate_sample(folder, size=size)
    links = link_records(_load(folder)).links
    return score(links, pd.read_parquet(folder / "truth" / "records.parquet"))


def test_small_drop_links_and_finds_the_missing_births(tmp_path: Path) -> None:
    """On a small drop (about 3,000 births): links and missing births nearly all right."""
    figures = _scored_drop(tmp_path, "small")
    assert figures["pair_precision"] >= 0.99 and figures["pair_recall"] >= 0.99, figures
    # A few hundred missing births: one error moves the share by 0.3 points, hence 0.97.
    assert figures["missing_precision"] >= 0.97 and figures["missing_recall"] >= 0.97, figures


@pytest.mark.skipif(os.environ.get("FPSTAT_LINKAGE_MEDIUM") != "1",
                    reason="medium drop takes minutes; set FPSTAT_LINKAGE_MEDIUM=1")
def test_medium_drop_meets_the_issue_targets(tmp_path: Path) -> None:
    """On a medium drop: missing births found with precision >= 0.98 and recall >= 0.97."""
    figures = _scored_drop(tmp_path, "medium")
    assert figures["missing_precision"] >= 0.98, figures
    assert figures["missing_recall"] >= 0.97, figures
    assert figures["pair_precision"] >= 0.99 and figures["pair_recall"] >= 0.99, figures
