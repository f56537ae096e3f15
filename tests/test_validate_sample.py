"""Validating a synthetic drop accepts exactly the rows its truth says are valid, and rejects each
corrupted row at its true file, sheet and row with its true reason (docs/sample.md, truth/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from fpstat.schema import InputSpec, LoadResult, load_inputs

sample = pytest.importorskip("fpstat.sample")

AS_OF = dt.date(2026, 1, 31)  # the as_of of the drop's fpstat.toml
RECORD_FOLDERS = ("planning", "police", "census", "hospital", "education")


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drop")
    sample.generate_sample(out, size="small", births=2000, seed=7)
    return out


@pytest.fixture(scope="module")
def loaded(drop: Path) -> LoadResult:
    """Every export of the drop, roles left to inference (no --role)."""
    specs = [InputSpec(f"{folder}/*", base_dir=drop) for folder in RECORD_FOLDERS]
    specs.append(InputSpec("report/*.xlsx", base_dir=drop))
    return load_inputs(specs, as_of=AS_OF)


def relative(drop: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].map(lambda path: Path(path).relative_to(drop).as_posix())


def test_roles_are_inferred_for_every_export(drop, loaded):
    """Each file's role is told from its headers and name, matching the folder it sits in."""
    for entry in loaded.inputs:
        folder = Path(entry["path"]).relative_to(drop).parts[0]
        if folder == "report":
            assert entry["role"] == ("population" if entry["sheet"] == "统计局人口" else "report")
        else:
            assert entry["role"] == folder, entry
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_rejected"]


def test_exactly_the_valid_rows_are_accepted_with_their_record_ids(drop, loaded):
    """Accepted rows are the truth's valid rows, each with the source's own record number."""
    truth = pd.read_parquet(drop / "truth" / "records.parquet")
    valid = truth[truth["status"] == "valid"]
    expected = {(r.role, r.file, r.sheet, int(r.row)): r.record_id for r in valid.itertuples()}
    accepted = {}
    for role, table in loaded.records.items():
        files = relative(drop, table, "source_file")
        for file, sheet, row, record_id in zip(files, table["source_sheet"], table["source_row"],
                                               table["record_id"], strict=True):
            accepted[(role, file, sheet, int(row))] = record_id
    assert accepted.keys() == expected.keys()
    assert accepted == expected


def test_each_corrupted_row_is_rejected_at_its_place_with_its_reason(drop, loaded):
    """Every rejected row is the truth's, with one problem: the true reason code and field."""
    truth = pd.read_csv(drop / "truth" / "rejects.csv", encoding="utf-8-sig", dtype={"sheet": str}, keep_default_na=False)
    rejects = loaded.rejects.assign(file=relative(drop, loaded.rejects, "file"))
    found = sorted((r.role, r.file, r.sheet, int(r.row), r.reason_code) for r in rejects.itertuples())
    expected = sorted((r.role, r.file, r.sheet, int(r.row), r.reason_code) for r in truth.itertuples())
    assert found == expected
    records = pd.read_parquet(drop / "truth" / "records.parquet")
    fields = {(r.role, r.file, r.sheet, int(r.row)): r.field for r in records.itertuples() if isinstance(r.field, str)}
    for r in rejects.itertuples():
        key = (r.role, r.file, r.sheet, int(r.row))
        if key in fields:
            assert r.field == fields[key], key


def test_count_tables_of_the_report_workbook(loaded):
    """The report's annual and monthly sheets and the bureau's population load as count tables."""
    report, population = loaded.counts["report"], loaded.counts["population"]
    assert set(report["source_sheet"]) == {"年度报表", "月报"} and set(population["source_sheet"]) == {"统计局人口"}
    assert report["area_code"].str.len().eq(12).all() and report["period"].notna().all()
    assert report["births"].notna().any() and population["population"].notna().all()
