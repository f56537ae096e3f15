"""Distinct births within each record-level source: the duplicate search the audit relies on.

Two entries of one source are the same birth (the data contract's duplicates) when

* they carry the same child ID (pseudonymised ``child_pid``);
* the linker put them in one cluster and flagged one ``is_duplicate`` (``links.parquet``). The
  linker applies the contract's second rule, same mother, birth date and sex, with what the
  audit no longer sees (child names) and with the other sources' verdict on twins entered
  half-filled (``fpstat.reconcile.duplicates``), so its decision is taken as it is;
* only when the run has no ``links.parquet``: they have the same mother, birth date and sex
  and at most one of them carries a child ID (different child IDs are twins). Without names
  this rule cannot tell such twins from a double entry, which is why the linker's word wins.

The relation is closed transitively (connected components), so the number of duplicate entries
of an area is its entries minus its distinct births, whatever the order of the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Columns that fix a deterministic order of records (so "the first entry" never depends on row order).
ORDER_COLUMNS = ("role", "record_id", "source_file", "source_sheet", "source_row")


def _anchor_edges(
    frame: pd.DataFrame, keys: list[str], members: pd.Series, preferred: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Edges from each member row to its group's anchor (the first preferred row, else the first row)."""
    complete = frame[keys].notna().all(axis=1)
    grouped = frame.loc[complete, keys + ["position"]].copy()
    if grouped.empty:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rank = grouped["position"].astype("int64")
    if preferred is not None:
        # Preferred rows sort first: the anchor is the first preferred row if any.
        rank = rank + np.where(preferred.loc[complete].to_numpy(dtype=bool), 0, len(frame))
    grouped["rank"] = rank
    anchor_rank = grouped.groupby(keys, sort=False, dropna=False)["rank"].transform("min")
    anchor_position = np.where(anchor_rank >= len(frame), anchor_rank - len(frame), anchor_rank)
    selected = members.loc[complete].to_numpy(dtype=bool)
    return (
        grouped["position"].to_numpy(dtype=np.int64)[selected],
        np.asarray(anchor_position, dtype=np.int64)[selected],
    )


def distinct_births(records: pd.DataFrame, links: pd.DataFrame | None = None) -> pd.DataFrame:
    """``records`` in a deterministic order with ``component`` (distinct birth) and ``excess``.

    ``excess`` is true for every entry of a component but its first (in :data:`ORDER_COLUMNS`
    order); the de-duplicated register is the rows where it is false.
    """
    order = [column for column in ORDER_COLUMNS if column in records.columns]
    frame = records.sort_values(order, kind="mergesort", na_position="last").reset_index(drop=True)
    frame["position"] = np.arange(len(frame), dtype=np.int64)
    linked_run = links is not None and {"role", "record_id", "cluster_id", "is_duplicate"} <= set(
        links.columns
    )
    if linked_run:
        linked = links[["role", "record_id", "cluster_id", "is_duplicate"]].drop_duplicates(
            ["role", "record_id"]
        )
        frame = frame.merge(linked, on=["role", "record_id"], how="left", sort=False)
    else:
        frame["cluster_id"] = pd.NA
        frame["is_duplicate"] = pd.NA
    frame = frame.sort_values("position", kind="mergesort").reset_index(drop=True)

    has_child = (
        frame["child_pid"].notna() if "child_pid" in frame else pd.Series(False, index=frame.index)
    )
    flagged = frame["is_duplicate"].fillna(False).astype(bool)
    edges = [
        _anchor_edges(frame, ["role", "child_pid"], has_child) if "child_pid" in frame else None,
        _anchor_edges(
            frame, ["role", "mother_pid", "birth_date", "sex"], ~has_child, preferred=has_child
        )
        if "mother_pid" in frame and not linked_run
        else None,
        _anchor_edges(frame, ["role", "cluster_id"], flagged, preferred=~flagged),
    ]
    sources = np.concatenate([edge[0] for edge in edges if edge is not None])
    targets = np.concatenate([edge[1] for edge in edges if edge is not None])
    size = len(frame)
    graph = coo_matrix(
        (np.ones(len(sources), dtype=np.int8), (sources, targets)), shape=(size, size)
    )
    _, labels = connected_components(graph, directed=False)
    # Label each component by its first position so labels do not depend on scipy internals.
    first = pd.Series(np.arange(size)).groupby(labels).transform("min").to_numpy()
    frame["component"] = first.astype(np.int64)
    frame["excess"] = frame["component"].to_numpy() != np.arange(size)
    return frame.drop(columns=["position"])
