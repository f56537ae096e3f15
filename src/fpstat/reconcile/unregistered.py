"""Births missing from the planning register: ``unregistered.csv`` and ``records.xlsx``.

A birth is unregistered when its cluster holds no planning record: other sources saw it, the
register did not. What is *not* an unregistered birth is settled by the linkage: a second
entry of the same birth in the register is a duplicate (no new birth), a register record with
the wrong sex still links to the birth (a sex error, counted in ``sex_disagreements.csv``).
Only births of the reconciliation window are listed (:func:`.births.reconciliation_window`).

``unregistered.csv`` carries no names and no raw IDs: the child's and mother's IDs (chosen
among the birth's records by the same vote as the other fields) appear as keyed-hash pseudonyms (:func:`fpstat.privacy.pseudonymise`, HMAC-SHA256), the same ones as in
``records.parquet``. Rows are sorted by area, period, birth date and record ids. With
``--include-records`` the records behind each row, with names and IDs, go to the owner-only
``records.xlsx`` for correcting the register; its ``unregistered_row`` is the row's number in
``unregistered.csv`` (1 = first row under the header).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.engine import sql_reconcile as sql
from fpstat.privacy import pseudonymise
from fpstat.reconcile.births import Births

COLUMNS: tuple[str, ...] = (
    "area_code", "county_code", "period", "birth_date", "sex", "birth_order", "sources",
    "record_ids", "match_confidence", "child_pid", "mother_pid",
)
RECORD_COLUMNS: tuple[str, ...] = (
    "unregistered_row", "role", "record_id", "is_duplicate", "source_file", "source_sheet",
    "source_row", "child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
    "father_id", "area_code", "area_name", "birth_order", "within_policy", "migrant",
    "registered_on",
)


def _joined(parts: Sequence[pd.Series]) -> pd.Series:
    """Join text columns with ``;``, skipping blanks."""
    result = pd.Series("", index=parts[0].index, dtype=object) if parts else pd.Series(dtype=object)
    for part in parts:
        text = part.fillna("").astype(object)
        separator = np.where((result != "") & (text != ""), ";", "")
        result = result + separator + text
    return result


def member_records(
    cluster_ids: pd.Series, links: pd.DataFrame, records: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """Every record (duplicates too, flagged) of the clusters ``cluster_ids``, with all its
    fields, and ``position``: the cluster's position in ``cluster_ids``."""
    wanted = pd.DataFrame({"cluster_id": cluster_ids.astype("string").to_numpy(), "position": np.arange(len(cluster_ids))})
    linked = links.assign(cluster_id=links["cluster_id"].astype("string"))
    members = linked.loc[_is_in(linked["cluster_id"], wanted["cluster_id"])].merge(wanted, on="cluster_id")
    keys = ["record_id", "source_file", "source_sheet", "source_row"]
    pieces = []
    for role, frame in records.items():
        mine = members.loc[members["role"] == role, ["cluster_id", "position", "role", "is_duplicate", *keys]]
        if mine.empty:
            continue
        mine = _keyed(mine)
        candidates = frame.loc[_is_in(frame["record_id"], mine["record_id"])]
        pieces.append(mine.merge(_keyed(candidates.drop(columns=["role"])), on=keys, how="left",
                                 validate="one_to_one"))
    if not pieces:
        return pd.DataFrame(columns=["cluster_id", "position", "role", "is_duplicate", *keys, "child_id", "mother_id"])
    return pd.concat(pieces, ignore_index=True).sort_values(
        ["position", "role", "source_file", "source_sheet", "source_row"], kind="stable", ignore_index=True)


def _is_in(values: pd.Series, wanted: pd.Series) -> np.ndarray:
    """``values.isin(wanted)`` for text columns of millions of rows, in Arrow."""
    as_text = pa.array(values.astype("string"), type=pa.string())
    found = pc.is_in(as_text, value_set=pa.array(wanted.astype("string").dropna().unique(), type=pa.string()))
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Record keys in one form on both sides of a merge (blank file/sheet as '')."""
    typed = frame.astype({"record_id": "string", "source_file": "string", "source_sheet": "string",
                          "source_row": "Int64"})
    return typed.fillna({"source_file": "", "source_sheet": ""})


def _consensus_ids(engine: Engine, members: pd.DataFrame) -> pd.DataFrame:
    """The child's and mother's ID of each cluster, by the vote of :mod:`.births`."""
    candidates = members.loc[~members["is_duplicate"].astype(bool), ["cluster_id", "role", "child_id", "mother_id"]]
    engine.register("reconcile_id_candidates", candidates.astype(
        {"cluster_id": "string", "role": "string", "child_id": "string", "mother_id": "string"}))
    try:
        return engine.frame(sql.consensus_ids("reconcile_id_candidates"))
    finally:
        engine.unregister("reconcile_id_candidates")


def unregistered_births(
    engine: Engine, births: Births, window: Sequence[str], key: bytes,
    links: pd.DataFrame, records: Mapping[str, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``unregistered.csv`` (see the module doc) and the records behind its rows.

    The first table keeps ``cluster_id`` as a last column (not written to the CSV); the
    second has one row per record of those births, ``unregistered_row`` numbering them like
    the CSV, for ``records.xlsx``. The IDs are chosen by the vote of :mod:`.births` (needs
    ``reconcile_priority`` on ``engine``), only for these births.
    """
    table = births.table
    if table.empty:
        return pd.DataFrame(columns=[*COLUMNS, "cluster_id"]), pd.DataFrame(columns=list(RECORD_COLUMNS))
    missing = table.loc[~table["in_planning"].astype(bool) & table["period"].isin(list(window))]
    members = member_records(missing["cluster_id"], links, records)
    ids = _consensus_ids(engine, members)
    missing = missing.merge(ids, on="cluster_id", how="left", validate="one_to_one")
    roles = [role for role in births.roles if role != "planning"]
    flags = [missing[f"in_{role}"].astype(bool) for role in roles]
    sources = _joined([pd.Series(np.where(flag, role, ""), index=missing.index) for flag, role in zip(flags, roles, strict=True)])
    record_ids = _joined([
        (role + ":" + missing[f"record_id_{role}"].astype("string")).where(flag, "")
        for flag, role in zip(flags, roles, strict=True)
    ])
    area = missing["area_code"].astype("string")
    result = pd.DataFrame({
        "area_code": area,
        "county_code": area.str.slice(0, 6).str.pad(12, side="right", fillchar="0"),
        "period": missing["period"].astype("string"),
        "birth_date": missing["birth_date"],
        "sex": missing["sex"].astype("string"),
        "birth_order": missing["birth_order"].astype("Int64"),
        "sources": sources.astype("string"),
        "record_ids": record_ids.astype("string"),
        "match_confidence": pd.to_numeric(missing["match_confidence"], errors="coerce").astype(float).round(4),
        "child_pid": pseudonymise(missing["child_id"].astype(object).where(missing["child_id"].notna(), None), key),
        "mother_pid": pseudonymise(missing["mother_id"].astype(object).where(missing["mother_id"].notna(), None), key),
        "cluster_id": missing["cluster_id"].astype("string"),
    })
    result = result.sort_values(["area_code", "period", "birth_date", "record_ids"], kind="stable", ignore_index=True)
    row_of = pd.Series(np.arange(1, len(result) + 1), index=result["cluster_id"].astype(str))
    behind = members.assign(unregistered_row=members["cluster_id"].map(row_of))
    behind = behind.sort_values(["unregistered_row", "role", "source_file", "source_sheet", "source_row"],
                                kind="stable", ignore_index=True)
    return result, behind[[column for column in RECORD_COLUMNS if column in behind.columns]]
