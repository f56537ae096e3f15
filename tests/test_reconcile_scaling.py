"""What the million-birth reconcile relies on for speed and memory gives the same answers as
the plain way of computing it: pseudonyms, comparison patterns, blocking, row sets, the
engine's settings and ``records.parquet``."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpstat.engine import Engine, release_freed_memory, sql_linkage
from fpstat.privacy import pseudonym, pseudonyms
from fpstat.reconcile import fellegi_sunter
from fpstat.reconcile.candidates import blocked_pairs
from fpstat.reconcile.comparisons import LEVEL_COUNTS
from fpstat.reconcile.parameters import _rows_in_both
from fpstat.reconcile.prepared import SIDE_COLUMNS
from fpstat.reconcile.run import records_table
from fpstat.schema import empty_records

KEY = b"test-key"


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_pseudonyms_are_rfc2104_hmac_sha256(values):
    """Each pseudonym is P + the first 16 hex digits of HMAC-SHA256(key, ID); blanks stay None."""
    expected = [None if not value else "P" + hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
                for value in values]
    assert pseudonyms(values, KEY) == expected
    assert [pseudonym(value, KEY) for value in values] == expected


def _reference_patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows in the order of their packed keys, by sorting (the plain way)."""
    key = np.zeros(len(levels), dtype=np.int64)
    for k, count in enumerate(LEVEL_COUNTS):
        key = key * (count + 1) + (levels[:, k].astype(np.int64) + 1)
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    return levels[first].astype(np.int64), counts.astype(np.float64), inverse.reshape(-1)


@pytest.mark.parametrize("rows", [0, 1, 500])
def test_distinct_patterns_counted_in_a_table_equal_the_sorted_ones(rows, monkeypatch):
    """Counting comparison vectors in a table gives the patterns, counts and indices sorting gives."""
    rng = np.random.default_rng(rows)
    levels = np.stack([rng.integers(-1, count, rows) for count in LEVEL_COUNTS], axis=1).astype(np.int8)
    levels[: rows // 2] = levels[:1]  # many repeats, as in real candidate pairs
    expected = _reference_patterns(levels)
    for table_limit in (fellegi_sunter.MAX_TABLE_PATTERNS, 0):  # the table, then the sorting fallback
        monkeypatch.setattr(fellegi_sunter, "MAX_TABLE_PATTERNS", table_limit)
        got = fellegi_sunter.distinct_patterns(levels, LEVEL_COUNTS)
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(got[0][got[2]], levels)


@given(st.lists(st.integers(0, 40), max_size=30), st.lists(st.integers(0, 40), max_size=30))
def test_rows_in_both_is_their_sorted_intersection(left, right):
    """The rows both lists hold, sorted and each once, as numpy's intersect1d gives them."""
    left_rows, right_rows = np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)
    np.testing.assert_array_equal(_rows_in_both(left_rows, right_rows), np.intersect1d(left_rows, right_rows))


def _side(rng: np.random.Generator, rows: int, name: str) -> pa.Table:
    """A linkage side with small value ranges, so that keys are shared and blocks grow."""
    def with_blanks(values: np.ndarray) -> pa.Array:
        return pa.array(values, mask=rng.random(rows) < 0.15)

    birth_day = rng.integers(19000, 19008, rows)
    columns = {
        "rec": pa.array(np.arange(rows, dtype=np.int64)),
        "child_id": with_blanks(np.array([f"C{v}" for v in rng.integers(0, 30, rows)])),
        "mother_id": with_blanks(np.array([f"M{v}" for v in rng.integers(0, 12, rows)])),
        "birth_day": pa.array(birth_day.astype(np.int32)),
        "swapped_day": with_blanks(rng.integers(19000, 19008, rows).astype(np.int32)),
        "sex": pa.array(rng.choice(["M", "F"], rows)),
        "township": pa.array(rng.integers(0, 3, rows)),
        "county": pa.array(rng.integers(0, 2, rows)),
        "birth_year": pa.array(np.full(rows, 2022, dtype=np.int32)),
        "child_py": with_blanks(rng.integers(0, 6, rows)),
        "mother_py": with_blanks(rng.integers(0, 6, rows)),
    }
    table = pa.table({column: columns[column] for column in SIDE_COLUMNS})
    return table.append_column(name, table.column("rec"))


def _expected_blocking(left: pd.DataFrame, right: pd.DataFrame, rules: dict[str, tuple[list[str], list[str], bool]],
                       cap: int, tolerance: int) -> tuple[set[tuple[int, int]], dict[str, dict[str, int]]]:
    """Candidate pairs and block statistics of the rules, with pandas merges (the plain way)."""
    pairs: set[tuple[int, int]] = set()
    statistics = {}
    for name, (left_keys, right_keys, shifted) in rules.items():
        keys = [f"k{i}" for i in range(len(left_keys))]
        lk = left.rename(columns=dict(zip(left_keys, keys, strict=True)))[["entity", *keys]]
        if shifted:  # the date key (last) moved by every shift within the tolerance
            lk = pd.concat([lk.assign(**{keys[-1]: lk[keys[-1]] + days}) for days in range(-tolerance, tolerance + 1)])
        rk = right.rename(columns=dict(zip(right_keys, keys, strict=True)))[["cluster", *keys]]
        lk, rk = lk.dropna(subset=keys), rk.dropna(subset=keys)
        sizes = lk.groupby(keys).size().rename("nl").reset_index().merge(
            rk.groupby(keys).size().rename("nr").reset_index(), on=keys)
        sizes["pairs"] = sizes["nl"] * sizes["nr"]
        kept = sizes.loc[sizes["pairs"] <= cap, keys]
        found = lk.merge(kept, on=keys).merge(rk, on=keys)[["entity", "cluster"]].drop_duplicates()
        pairs |= set(zip(found["entity"].astype(int), found["cluster"].astype(int), strict=True))
        capped = sizes["pairs"] > cap
        statistics[name] = {"blocks": len(sizes), "pairs": int(sizes["pairs"].sum()),
                            "capped_blocks": int(capped.sum()), "capped_pairs": int(sizes.loc[capped, "pairs"].sum()),
                            "candidates": len(found)}
    return pairs, statistics


@pytest.mark.parametrize("older_only", [False, True])
def test_blocked_pairs_are_the_sorted_union_of_each_rules_pairs(older_only):
    """One statement per rule, then a sort: the same pairs and block statistics as joining by hand."""
    rng = np.random.default_rng(7)
    left, right = _side(rng, 60, "entity"), _side(rng, 80, "cluster")
    rules = {  # the column names behind each rule's key expressions (l.<column>, r.<column>)
        "mother_id": (["mother_id"], ["mother_id"], False),
        "township+sex+birth_date": (["township", "sex", "birth_day"], ["township", "sex", "birth_day"], False),
        "mother_name+birth_date±tolerance": (["mother_py", "birth_day"], ["mother_py", "birth_day"], True),
        "child_name+swapped_date": (["child_py", "swapped_day"], ["child_py", "birth_day"], False),
    }
    cap, tolerance = 12, 2
    with Engine() as engine:
        engine.register("linkage_left", left)
        engine.register("linkage_right", right)
        entity, cluster, statistics = blocked_pairs(engine, tuple(rules), cap, tolerance, older_only)
    expected, expected_statistics = _expected_blocking(left.to_pandas(), right.to_pandas(), rules, cap, tolerance)
    if older_only:
        expected = {(e, c) for e, c in expected if c < e}
    assert list(zip(entity.tolist(), cluster.tolist(), strict=True)) == sorted(expected)
    assert statistics == expected_statistics
    assert any(stats["capped_blocks"] for stats in statistics.values())  # the cap was exercised


def test_every_blocking_rule_runs_alone():
    """Each known blocking rule is one valid statement over the two sides."""
    rng = np.random.default_rng(3)
    with Engine() as engine:
        engine.register("linkage_left", _side(rng, 20, "entity"))
        engine.register("linkage_right", _side(rng, 20, "cluster"))
        entity, cluster, statistics = blocked_pairs(engine, tuple(sql_linkage.BLOCKING_RULES), 2500, 2)
    assert set(statistics) == set(sql_linkage.BLOCKING_RULES)
    assert len(entity) == len(cluster) > 0


def test_engine_thread_limit_is_restored_and_spills_stay_private():
    """A thread limit lasts for its block only; spill files go to an owner-only temp directory
    that goes away with the engine."""
    with Engine(threads=2) as engine:
        def threads() -> int:
            return int(engine.arrow("SELECT current_setting('threads') AS n").column("n")[0].as_py())

        with engine.limited_threads(1):
            assert threads() == 1
        assert threads() == 2
        spill = engine.arrow("SELECT current_setting('temp_directory') AS d").column("d")[0].as_py()
        assert os.path.dirname(spill) == tempfile.gettempdir()
        assert stat.S_IMODE(os.stat(spill).st_mode) == 0o700
    assert not os.path.exists(spill)
    release_freed_memory()  # harmless at any time


def test_records_table_sorts_pseudonymises_and_drops_names():
    """records.parquet: rows by role, file, sheet, row; IDs hashed with the run's key; no names."""
    columns = list(empty_records().columns)
    frame = pd.DataFrame({column: [None, None, None] for column in columns}).astype(empty_records().dtypes.to_dict())
    frame["role"] = pd.array(["police", "planning", "planning"], dtype="string[pyarrow]")
    frame["source_file"] = pd.array(["b.csv", "a.csv", "a.csv"], dtype="string[pyarrow]")
    frame["source_sheet"] = pd.array(["", "", ""], dtype="string[pyarrow]")
    frame["source_row"] = pd.array([2, 9, 3], dtype="int64[pyarrow]")
    frame["child_id"] = pd.array(["320581202201010011", None, "320581202201010011"], dtype="string[pyarrow]")
    frame["mother_id"] = pd.array(["320581199001011234", "320581199001015678", None], dtype="string[pyarrow]")
    frame["child_name"] = pd.array(["张三", "李四", "王五"], dtype="string[pyarrow]")
    records = {"police": frame.iloc[[0]], "planning": frame.iloc[[1, 2]]}
    table = records_table(records, KEY)
    assert table.column("source_row").to_pylist() == [3, 9, 2]
    assert "child_name" not in table.column_names and "mother_name" not in table.column_names
    assert table.column("child_pid").to_pylist() == [pseudonym("320581202201010011", KEY), None,
                                                     pseudonym("320581202201010011", KEY)]
    assert table.column("mother_pid").to_pylist() == [None, pseudonym("320581199001015678", KEY),
                                                      pseudonym("320581199001011234", KEY)]
    in_order = records_table({"planning": frame.iloc[[2, 1]], "police": frame.iloc[[0]]}, KEY)
    assert in_order.equals(table)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ""]), min_size=1, max_size=6))
def test_records_table_does_not_depend_on_input_order(sheets):
    """Whatever order the sources' rows come in, records.parquet is the same."""
    frame = empty_records().reindex(range(len(sheets)))
    frame = frame.astype(empty_records().dtypes.to_dict())
    frame["role"] = pd.array(["planning"] * len(sheets), dtype="string[pyarrow]")
    frame["source_file"] = pd.array(["f.xlsx"] * len(sheets), dtype="string[pyarrow]")
    frame["source_sheet"] = pd.array(sheets, dtype="string[pyarrow]")
    frame["source_row"] = pd.array(range(len(sheets), 0, -1), dtype="int64[pyarrow]")
    forward = records_table({"planning": frame}, KEY)
    backward = records_table({"planning": frame.iloc[::-1]}, KEY)
    assert forward.equals(backward)
