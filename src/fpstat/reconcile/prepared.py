"""Records prepared for linkage: one sorted union of all sources, as integer-coded arrays.

All records of all sources are prepared once (:func:`prepare_records`): the union and the
deterministic sort run in the engine; IDs become integer codes (Arrow dictionary encoding:
equal code = equal ID), dates day numbers, areas integers, and names are normalised once per
distinct value (:mod:`fpstat.reconcile.names`). Comparing millions of pairs is then array
arithmetic.

A cluster is compared through its **profile** (:class:`ClusterProfiles`): for each field the
best-known value among its records, taken from the first source in linking order that has it
("comparing against the cluster's best-known field values"). Profiles are kept up to date as
records join, so that a step costs time in proportion to what it links, not to all records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.engine import sql_linkage as sql
from fpstat.reconcile.names import EncodedNames, encode_names

NO_DAY = np.iinfo(np.int32).min // 2
#: Prepared columns the SQL of the linking steps reads (keys of exact passes and blocking).
SIDE_COLUMNS: tuple[str, ...] = (
    "rec", "child_id", "mother_id", "birth_day", "swapped_day", "sex", "township", "county",
    "birth_year", "child_py", "mother_py",
)
_INPUT_COLUMNS = (
    "record_id", "child_id", "child_name", "sex", "birth_date", "mother_id", "mother_name",
    "father_id", "area_code", "birth_order", "source_file", "source_sheet", "source_row",
)


@dataclass
class PreparedRecords:
    """Records (or cluster profiles) as arrays indexed by position; ``table`` for SQL."""

    table: pa.Table | None
    role_rank: np.ndarray
    child_id: np.ndarray
    mother_id: np.ndarray
    mother_id_tail: np.ndarray
    father_id: np.ndarray
    birth_day: np.ndarray
    swapped_day: np.ndarray
    sex: np.ndarray  # 1 = M, 2 = F, 0 = missing
    area: np.ndarray
    birth_order: np.ndarray
    child_name: EncodedNames
    mother_name: EncodedNames

    def __len__(self) -> int:
        return len(self.role_rank)

    def take(self, index: np.ndarray) -> PreparedRecords:
        """The records at ``index`` (arrays only, no table)."""
        arrays = {
            f.name: getattr(self, f.name)[index]
            for f in fields(self) if f.name not in ("table", "child_name", "mother_name")
        }
        return PreparedRecords(table=None, child_name=self.child_name.take(index),
                               mother_name=self.mother_name.take(index), **arrays)


def _int_column(table: pa.Table, name: str, missing: int, dtype: type) -> np.ndarray:
    return table.column(name).fill_null(missing).to_numpy().astype(dtype)


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a string column (equal strings, equal codes; null -> -1)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _as_arrow(frame: pd.DataFrame) -> pa.Table:
    """The columns linkage reads, as Arrow (DuckDB scans Arrow much faster than pandas)."""
    present = {}
    for column in _INPUT_COLUMNS:
        if column in frame.columns:
            present[column] = frame[column]
        else:
            present[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return pa.Table.from_pandas(pd.DataFrame(present), preserve_index=False)


def prepare_records(
    engine: Engine, sources: Mapping[str, pd.DataFrame], role_ranks: Mapping[str, int]
) -> PreparedRecords:
    """Union all sources in the engine, sort them deterministically, encode keys and names."""
    selects: list[str] = []
    parameters: list[str] = []
    views: list[str] = []
    for index, (role, frame) in enumerate(sources.items()):
        view = f"linkage_input_{index}"
        engine.register(view, _as_arrow(frame))
        views.append(view)
        selects.append(sql.source_select(view, role_ranks[role]))
        parameters.append(role)
    try:
        table = engine.arrow(sql.prepared_union(selects), parameters)
    finally:
        for view in views:
            engine.unregister(view)
    n = table.num_rows
    child_names = encode_names(table.column("child_name"))
    mother_names = encode_names(table.column("mother_name"))
    sex_column = table.column("sex")
    sex = (pc.equal(sex_column, "M").fill_null(False).to_numpy(zero_copy_only=False) * 1
           + pc.equal(sex_column, "F").fill_null(False).to_numpy(zero_copy_only=False) * 2)
    mother_ids = table.column("mother_id")
    extra = {
        "rec": pa.array(np.arange(n, dtype=np.int64)),
        "child_py": pa.array(child_names.pinyin.astype(np.int64), mask=child_names.pinyin < 0),
        "mother_py": pa.array(mother_names.pinyin.astype(np.int64), mask=mother_names.pinyin < 0),
    }
    for name, array in extra.items():
        table = table.append_column(name, array)
    return PreparedRecords(
        table=table,
        role_rank=_int_column(table, "role_rank", -1, np.int16),
        child_id=_codes(table.column("child_id")),
        mother_id=_codes(mother_ids),
        # birth date + sequence (characters 7-17) survive a change of the 6-digit area prefix
        mother_id_tail=_codes(pc.utf8_slice_codeunits(mother_ids, 6, 17)),
        father_id=_codes(table.column("father_id")),
        birth_day=_int_column(table, "birth_day", NO_DAY, np.int32),
        swapped_day=_int_column(table, "swapped_day", NO_DAY, np.int32),
        sex=sex.astype(np.int8),
        area=_int_column(table, "area", 0, np.int64),
        birth_order=_int_column(table, "birth_order", -1, np.int8),
        child_name=child_names,
        mother_name=mother_names,
    )


#: Which prepared arrays (and SQL columns) make up each profile field.
_PROFILE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "child_id": (("child_id",), ("child_id",)),
    "mother_id": (("mother_id", "mother_id_tail"), ("mother_id",)),
    "mother_name": (("mother_name",), ("mother_py",)),
    "father_id": (("father_id",), ()),
    "child_name": (("child_name",), ("child_py",)),
    "birth_date": (("birth_day", "swapped_day"), ("birth_day", "swapped_day", "birth_year")),
    "sex": (("sex",), ("sex",)),
    "area": (("area",), ("township", "county")),
    "birth_order": (("birth_order",), ()),
}


def _present(records: PreparedRecords, field: str, index: np.ndarray) -> np.ndarray:
    if field in ("mother_name", "child_name"):
        return getattr(records, field).simplified[index] >= 0
    if field == "birth_date":
        return records.birth_day[index] != NO_DAY
    if field in ("sex", "area"):
        return getattr(records, field)[index] > 0
    return getattr(records, field)[index] >= 0


class ClusterProfiles:
    """For every cluster and field, the record that gives the cluster's best-known value.

    A field takes its value from the first record to bring it: records join in linking order
    (the register first), so the register's value wins where it has one.
    """

    def __init__(self, records: PreparedRecords) -> None:
        self.records = records
        self.source: dict[str, np.ndarray] = {f: np.zeros(0, np.int64) for f in _PROFILE_FIELDS}

    def add(self, founders: np.ndarray) -> None:
        """Append one cluster per founding record."""
        for field, column in self.source.items():
            values = np.where(_present(self.records, field, founders), founders, -1)
            self.source[field] = np.concatenate([column, values])

    def absorb(self, clusters: np.ndarray, recs: np.ndarray) -> None:
        """Fill fields the clusters lack from the records joining them (earlier rows first)."""
        for field, column in self.source.items():
            usable = _present(self.records, field, recs) & (column[clusters] < 0)
            target, giver = clusters[usable], recs[usable]
            _, first = np.unique(target, return_index=True)
            column[target[first]] = giver[first]

    def vote(self, cluster_of: np.ndarray, clusters: np.ndarray) -> None:
        """Give ``clusters`` the birth date, sex and place most of their records agree on.

        The first record to bring a value is usually right, but a register's typing error
        (a date two days off, a sex entered wrongly, another township's code) would then be
        compared against every later source. Where records disagree the majority wins; ties go
        to the earlier source (records are numbered in linking order), so a cluster of two
        keeps the register's. Places vote by township (hospitals write township codes), and the
        winning township is represented by a record that names the village where one does.
        """
        if len(clusters) == 0:
            return
        members = np.flatnonzero(np.isin(cluster_of, clusters))
        records = self.records
        no_village = (records.area % 1000 == 0).astype(np.int64)
        ballots = (("birth_date", records.birth_day, None), ("sex", records.sex, None),
                   ("area", records.area // 1000, no_village))
        for field, values, preference in ballots:
            voters = members[_present(records, field, members)]
            if len(voters) == 0:
                continue
            cluster, value = cluster_of[voters], values[voters]
            rank = np.zeros(len(voters), np.int64) if preference is None else preference[voters]
            order = np.lexsort((voters, rank, value, cluster))
            cluster, value, voters = cluster[order], value[order], voters[order]
            starts = np.flatnonzero(np.r_[True, (cluster[1:] != cluster[:-1]) | (value[1:] != value[:-1])])
            votes = np.diff(np.r_[starts, len(voters)])
            # the value's representative is its best-preferred record; ties between values
            # go to the value whose earliest record comes first
            earliest = np.minimum.reduceat(voters, starts)
            representative, owner = voters[starts], cluster[starts]
            best = np.lexsort((earliest, -votes, owner))
            _, first = np.unique(owner[best], return_index=True)
            chosen = best[first]
            self.source[field][owner[chosen]] = representative[chosen]

    def merge(self, gone: np.ndarray, into: np.ndarray) -> None:
        """Cluster ``gone[i]`` joins ``into[i]``: fill what ``into`` lacks from ``gone``."""
        for column in self.source.values():
            lacking = column[into] < 0
            column[into[lacking]] = column[gone[lacking]]

    def view(self) -> PreparedRecords:
        """The profiles as prepared records, row = cluster, with a table for SQL."""
        records = self.records
        count = len(self.source["sex"])
        arrays: dict[str, object] = {}
        columns: dict[str, pa.Array] = {"rec": pa.array(np.arange(count, dtype=np.int64))}
        for field, (names, sql_columns) in _PROFILE_FIELDS.items():
            pick = self.source[field]
            missing = pick < 0
            safe = np.where(missing, 0, pick)
            for name in names:
                values = getattr(records, name)
                if isinstance(values, EncodedNames):
                    arrays[name] = values.take(safe).blanked(missing)
                else:
                    blank = {"sex": 0, "area": 0, "birth_day": NO_DAY, "swapped_day": NO_DAY}.get(name, -1)
                    arrays[name] = np.where(missing, blank, values[safe]).astype(values.dtype)
            for name in sql_columns:
                columns[name] = records.table.column(name).take(pa.array(safe, mask=missing))
        return PreparedRecords(
            table=pa.table({name: columns[name] for name in SIDE_COLUMNS}),
            role_rank=np.zeros(count, dtype=np.int16), **arrays,  # type: ignore[arg-type]
        )
