"""Births missing from the planning register: ``unregistered.csv`` and ``records.xlsx``.

A birth is unregistered when its cluster holds no planning record: other sources saw it, the
register did not. What is *not* an unregistered birth is settled by the linkage: a second
entry of the same birth in the register is a duplicate (no new birth), a register record with
the wrong sex still links to the birth (a sex error, counted in ``sex_disagreements.csv``).
Only births of the reconciliation window are listed (:func:`.births.reconciliation_window`).

``unregistered.csv`` carries no names and no raw IDs: the child's and mother's IDs appear as
keyed-hash pseudonyms (:func:`fpstat.privacy.pseudonymise`, HMAC-SHA256), the same ones as in
``records.parquet``. Rows are sorted by area, period, birth date and record ids. With
``--include-records`` the records behind each row, with names and IDs, go to the owner-only
``records.xlsx`` for correcting the register; its ``unregistered_row`` is the row's number in
``unregistered.csv`` (1 = first row under the header).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

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


def unregistered_births(engine: Engine, births: Births, window: Sequence[str], key: bytes) -> pd.DataFrame:
    """One row per birth no planning record holds (see the module doc); ``cluster_id`` kept
    as the last column for :func:`unregistered_records` (not written to the CSV).

    Needs the tables :func:`.births.build_births` left on ``engine`` (for the IDs, chosen by
    the same vote as the other fields, only for these births).
    """
    table = births.table
    if table.empty:
        return pd.DataFrame(columns=[*COLUMNS, "cluster_id"])
    missing = table.loc[~table["in_planning"].astype(bool) & table["period"].isin(list(window))]
    engine.register("reconcile_missing", missing[["cluster_id"]].reset_index(drop=True))
    try:
        ids = engine.frame(sql.consensus_ids("reconcile_missing"))
    finally:
        engine.unregister("reconcile_missing")
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
    return result.sort_values(
        ["area_code", "period", "birth_date", "record_ids"], kind="stable", ignore_index=True
    )


def unregistered_records(
    engine: Engine, unregistered: pd.DataFrame, records: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """The source records (names, raw IDs) of the unregistered births, for ``records.xlsx``."""
    clusters = pd.DataFrame({
        "cluster_id": unregistered["cluster_id"].astype(str),
        "unregistered_row": np.arange(1, len(unregistered) + 1),
    })
    engine.register("reconcile_unregistered", clusters)
    try:
        members = engine.frame(sql.member_records("reconcile_unregistered"))
    finally:
        engine.unregister("reconcile_unregistered")
    members = members.merge(clusters, on="cluster_id", how="left")
    keys = ["role", "record_id", "source_file", "source_sheet", "source_row"]
    pieces = []
    for role, frame in records.items():
        rows = members.loc[members["role"] == role]
        if rows.empty:
            continue
        source = frame.assign(
            record_id=frame["record_id"].astype("string"),
            source_file=frame["source_file"].astype("string").fillna(""),
            source_sheet=frame["source_sheet"].astype("string").fillna(""),
            source_row=frame["source_row"].astype("Int64"),
        ).drop(columns=["role"])
        rows = rows.astype({"record_id": "string", "source_file": "string", "source_sheet": "string",
                            "source_row": "Int64"})
        pieces.append(rows.merge(source, on=keys[1:], how="left"))
    if not pieces:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    combined = pd.concat(pieces, ignore_index=True)
    combined = combined.sort_values(["unregistered_row", "role", "source_file", "source_sheet", "source_row"],
                                    kind="stable", ignore_index=True)
    return combined[[column for column in RECORD_COLUMNS if column in combined.columns]]
