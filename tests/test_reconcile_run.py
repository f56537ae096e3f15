"""reconcile_inputs end to end on a small known drop: files, privacy, manifest, determinism."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reconcile_fixtures import small_drop

from fpstat.errors import UsageError
from fpstat.privacy import key_fingerprint, pseudonymise
from fpstat.reconcile import ReconcileSettings, reconcile_inputs
from fpstat.rundir import RunDir
from fpstat.schema import LoadResult

KEY = "tests-only-key"
AS_OF = dt.date(2026, 1, 31)
OUTPUTS = ("completeness.csv", "counts.csv", "unregistered.csv", "sex_disagreements.csv")


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch):
    monkeypatch.setenv("FPSTAT_PSEUDONYM_KEY", KEY)


@pytest.fixture(scope="module")
def drop():
    return small_drop(count=700, seed=21)


def _run(loaded: LoadResult, path, **options) -> tuple[RunDir, object]:
    os.environ["FPSTAT_PSEUDONYM_KEY"] = KEY
    run = RunDir(path)
    summary = reconcile_inputs(loaded, run, ReconcileSettings(as_of=AS_OF, **options))
    return run, summary


@pytest.fixture(scope="module")
def reconciled(drop, tmp_path_factory):
    loaded, _, _ = drop
    return _run(loaded, tmp_path_factory.mktemp("run"), include_records=True)


def test_every_file_is_written_with_the_spec_columns(reconciled):
    """The run directory holds each output with the columns architecture.md lists."""
    run, _ = reconciled
    for name in ("rejects.csv", "links.parquet", "records.parquet", "tables.parquet", *OUTPUTS, "manifest.json"):
        assert run.exists(name), name
    assert list(run.read_csv("unregistered.csv").columns) == [
        "area_code", "county_code", "period", "birth_date", "sex", "birth_order", "sources",
        "record_ids", "match_confidence", "child_pid", "mother_pid"]
    assert list(run.read_csv("counts.csv").columns) == [
        "area_code", "level", "period", "role", "births", "births_male", "births_female",
        "register_births", "difference", "ratio", "ratio_ci_low", "ratio_ci_high", "completeness_bound"]
    completeness = run.read_csv("completeness.csv")
    for role in ("planning", "police", "hospital"):
        for column in (f"n_{role}", f"completeness_{role}", f"completeness_{role}_ci_low",
                       f"completeness_{role}_ci_high"):
            assert column in completeness.columns
    for column in ("n_observed", "est_total", "ci_low", "ci_high", "method", "warnings",
                   "est_total_unstratified", "ci_low_unstratified", "ci_high_unstratified"):
        assert column in completeness.columns
    assert set(completeness["level"]) == {"province", "prefecture", "county", "township", "village"}


def test_unregistered_births_are_exactly_those_the_register_lacks(reconciled, drop):
    """On clean records every birth the register lacks and another source holds is listed once."""
    run, summary = reconciled
    _, births, held = drop
    expected = ~held["planning"] & (held["police"] | held["hospital"])
    listed = run.read_csv("unregistered.csv", dtype=str)
    pids = set(pseudonymise(births.loc[expected, "child_id"], KEY.encode()))
    assert set(listed["child_pid"]) == pids and len(listed) == expected.sum() == summary.unregistered
    assert listed["sources"].isin(["police", "hospital", "police;hospital"]).all()
    assert listed["record_ids"].str.fullmatch(r"(police:GA\d+)?;?(hospital:CS\d+)?").all()


def test_no_name_or_raw_id_leaves_through_the_public_files(reconciled, drop):
    """unregistered.csv, counts.csv and records.parquet hold pseudonyms, never IDs or names."""
    run, _ = reconciled
    _, births, _ = drop
    secrets = set(births["child_id"]) | set(births["mother_id"]) | set(births["child_name"]) | set(births["mother_name"])
    for name in ("unregistered.csv", "counts.csv", "completeness.csv", "sex_disagreements.csv"):
        text = run.file(name).read_text("utf-8-sig")
        assert not any(secret in text for secret in secrets), name
    records = run.read_parquet("records.parquet")
    assert not {"child_id", "mother_id", "father_id", "child_name", "mother_name"} & set(records.columns)
    assert {"child_pid", "mother_pid", "father_pid", "child_id_birth_date", "child_id_sex"} <= set(records.columns)


def test_records_xlsx_is_owner_only_and_holds_the_raw_records(reconciled):
    """--include-records writes the records behind each unregistered birth, mode 0600."""
    run, summary = reconciled
    path = run.file("records.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sheet = pd.read_excel(path, sheet_name="unregistered", dtype=str)
    assert sheet["unregistered_row"].astype(int).between(1, summary.unregistered).all()
    assert sheet["child_id"].str.len().eq(18).all() and sheet["mother_name"].notna().all()


def test_manifest_names_inputs_parameters_key_and_timings(reconciled):
    """The manifest records what was read, the options, the key's fingerprint and step times."""
    run, _ = reconciled
    manifest = run.read_json("manifest.json")
    assert manifest["pseudonym_key_fingerprint"] == key_fingerprint(KEY.encode())
    assert {entry["role"] for entry in manifest["inputs"]} == {"planning", "police", "hospital"}
    parameters = manifest["parameters"]
    assert parameters["period"] == "sy" and parameters["as_of"] == "2026-01-31"
    assert parameters["criterion"] == "aic" and parameters["stratify"] is True
    assert "match_threshold" in parameters["linkage"]
    assert manifest["linkage"]["records"] > 0
    assert {"link", "births", "counts", "completeness", "unregistered", "write"} <= set(manifest["timings"])
    assert manifest["reconcile"]["window"] == ["2024SY", "2025SY"]
    assert KEY not in run.file("manifest.json").read_text("utf-8")


def test_summary_has_one_row_per_county(reconciled):
    """The county summary adds the periods up and counts the births missing per county."""
    run, summary = reconciled
    assert summary.counties["county_code"].tolist() == ["320581000000", "320582000000"]
    assert summary.counties["unregistered"].sum() == summary.unregistered
    assert (summary.counties["ci_low"] <= summary.counties["est_total"]).all()


def test_the_register_and_one_other_source_are_required(drop, tmp_path):
    """No register, or nothing to compare it with, is a usage error (exit 2), not a crash."""
    loaded, _, _ = drop
    with pytest.raises(UsageError):
        _run(LoadResult(records={"police": loaded.records["police"]}), tmp_path / "a")
    with pytest.raises(UsageError):
        _run(LoadResult(records={"planning": loaded.records["planning"]}), tmp_path / "b")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16))
def test_outputs_do_not_depend_on_row_order(reconciled, drop, tmp_path_factory, seed):
    """Shuffled record rows give byte-identical completeness, counts and unregistered files."""
    run, _ = reconciled
    loaded, _, _ = drop
    shuffled = LoadResult(
        records={role: frame.sample(frac=1, random_state=seed).reset_index(drop=True)
                 for role, frame in reversed(loaded.records.items())},
        inputs=loaded.inputs,
    )
    other, _ = _run(shuffled, tmp_path_factory.mktemp("shuffled"), include_records=True)
    for name in OUTPUTS:
        assert other.file(name).read_bytes() == run.file(name).read_bytes(), name


def test_register_duplicates_and_sex_errors_are_not_missing_births(drop, tmp_path):
    """A birth entered twice counts once; a birth whose sex police got wrong is not missing."""
    loaded, births, held = drop
    planning = loaded.records["planning"]
    again = planning.iloc[[5]].assign(record_id="JS999999", source_row=planning["source_row"].max() + 1)
    police = loaded.records["police"].copy()
    both = police["child_id"].isin(set(planning["child_id"]))
    flipped = police.index[both][0]
    police.loc[flipped, "sex"] = "F" if police.loc[flipped, "sex"] == "M" else "M"
    changed = LoadResult(records={"planning": pd.concat([planning, again], ignore_index=True),
                                  "police": police, "hospital": loaded.records["hospital"]},
                         inputs=loaded.inputs)
    run, summary = _run(changed, tmp_path / "run")
    expected = ~held["planning"] & (held["police"] | held["hospital"])
    assert summary.unregistered == expected.sum()
    province = run.read_csv("sex_disagreements.csv").query("level == 'province'")
    assert province["sex_disagreements"].sum() == 1
    counts = run.read_csv("counts.csv").query("level == 'province' and role == 'police'")
    assert counts["register_births"].sum() == held["planning"].sum()
