"""Input checks: rows.rejected, records.duplicate, id.inconsistent on hand-made run directories."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from audit_fixtures import TOWNSHIPS, records_frame, write_run

from fpstat.audit import run_audit

AS_OF = dt.date(2025, 6, 30)


def of(result, check):
    return [finding for finding in result.findings if finding.check == check]


def rejects(*rows):
    return pd.DataFrame(
        [
            dict(
                zip(
                    [
                        "role",
                        "file",
                        "sheet",
                        "row",
                        "field",
                        "value",
                        "reason_code",
                        "reason_en",
                        "reason_zh",
                    ],
                    row,
                    strict=True,
                )
            )
            for row in rows
        ]
    )


def test_rows_rejected_warning_error_and_totals_rows(tmp_path):
    """1 % rejected is a warning, 2 % an error; rows rejected only as totals rows do not count."""
    inputs = [
        {
            "role": "planning",
            "path": "a.xlsx",
            "sheet": "S",
            "rows_read": 100,
            "rows_accepted": 99,
            "rows_rejected": 1,
        },
        {
            "role": "police",
            "path": "b.csv",
            "sheet": "",
            "rows_read": 100,
            "rows_accepted": 98,
            "rows_rejected": 2,
        },
        {
            "role": "report",
            "path": "c.xlsx",
            "sheet": "年报",
            "rows_read": 50,
            "rows_accepted": 49,
            "rows_rejected": 1,
        },
        {
            "role": "hospital",
            "path": "d.csv",
            "sheet": "",
            "rows_read": 80,
            "rows_accepted": 80,
            "rows_rejected": 0,
        },
    ]
    table = rejects(
        (
            "planning",
            "a.xlsx",
            "S",
            7,
            "child_id",
            "3101***",
            "id-invalid",
            "ID invalid",
            "身份证号无效",
        ),
        ("police", "b.csv", "", 4, "birth_date", "", "missing-value", "missing", "缺失"),
        (
            "police",
            "b.csv",
            "",
            9,
            "child_id",
            "3.1E+17",
            "id-precision-lost",
            "precision lost",
            "精度丢失",
        ),
        ("report", "c.xlsx", "年报", 30, "area_code", "合计", "totals-row", "totals row", "合计行"),
    )
    write_run(tmp_path, inputs=inputs, rejects=table)
    found = {f.source: f for f in of(run_audit(tmp_path, as_of=AS_OF), "rows.rejected")}
    assert sorted(found) == ["planning", "police"]
    assert found["planning"].severity == "warning"
    assert found["police"].severity == "error"
    assert (
        found["police"].evidence["rows_read"] == 100
        and found["police"].evidence["rows_rejected"] == 2
    )
    assert [r["reason_code"] for r in found["police"].evidence["top_reasons"]] == [
        "id-precision-lost",
        "missing-value",
    ]
    assert found["planning"].area_code == "" and found["planning"].period == ""
    assert "b.csv" in found["police"].message_en and "被拒收" in found["police"].message_zh


def test_rows_rejected_without_rejects_file_counts_every_row(tmp_path):
    """Without rejects.csv every rejected row counts (reasons unknown)."""
    inputs = [
        {
            "role": "report",
            "path": "c.xlsx",
            "sheet": "年报",
            "rows_read": 50,
            "rows_accepted": 49,
            "rows_rejected": 1,
        }
    ]
    write_run(tmp_path, inputs=inputs)
    (finding,) = of(run_audit(tmp_path, as_of=AS_OF), "rows.rejected")
    assert finding.severity == "error" and finding.evidence["top_reasons"] == []


def birth(**fields):
    return {"birth_date": dt.date(2024, 5, 1), "sex": "F", "area_code": TOWNSHIPS[0], **fields}


def test_duplicates_by_child_id_and_by_linker_but_not_twins(tmp_path):
    """Same child ID or flagged by the linker: duplicates; twins with two child IDs: not."""
    rows = [
        birth(record_id="a1", child_pid="C1", mother_pid="M1"),
        birth(
            record_id="a2", child_pid="C1", mother_pid="M1", area_code=TOWNSHIPS[0][:9] + "001"
        ),  # same child ID
        birth(record_id="b1", child_pid="C2", mother_pid="M2"),
        birth(record_id="b2", child_pid=None, mother_pid="M2"),  # same mother, date, sex; no ID
        birth(record_id="t1", child_pid="C3", mother_pid="M3"),
        birth(record_id="t2", child_pid="C4", mother_pid="M3"),  # twins: two IDs
        birth(record_id="l1", child_pid=None, mother_pid=None, area_code=TOWNSHIPS[1]),
        birth(record_id="l2", child_pid=None, mother_pid=None, area_code=TOWNSHIPS[1]),
        birth(
            record_id="x1", role="police", child_pid="C1", mother_pid="M1"
        ),  # another source: not a duplicate
    ]
    links = pd.DataFrame(
        {
            "cluster_id": [1, 1, 2, 2, 3, 4, 5, 5, 1],
            "role": [r.get("role", "planning") for r in rows],
            "record_id": [r["record_id"] for r in rows],
            "rule": "test",
            "match_probability": 1.0,
            "is_duplicate": [False, True, False, True, False, False, False, True, False],
        }
    )
    write_run(tmp_path, records=records_frame(rows), links=links)
    found = {
        (f.level, f.area_code, f.source): f
        for f in of(run_audit(tmp_path, as_of=AS_OF), "records.duplicate")
    }
    county = found[("county", TOWNSHIPS[0][:6] + "000000", "planning")]
    assert county.evidence["records"] == 8 and county.evidence["duplicate_entries"] == 3
    assert found[("township", TOWNSHIPS[0], "planning")].evidence["duplicate_entries"] == 2
    assert found[("township", TOWNSHIPS[1], "planning")].evidence["duplicate_entries"] == 1
    assert all(f.severity == "warning" for f in found.values())
    assert not any(source == "police" for _, _, source in found)
    # a1 (township row) and a2 (village row) are one birth: the village alone has no duplicate.
    assert ("village", TOWNSHIPS[0][:9] + "001", "planning") not in found


def test_duplicates_found_without_links_by_mother_date_and_sex(tmp_path):
    """Without links.parquet: same child ID, or same mother, date and sex with at most one child ID."""
    rows = [
        birth(record_id="a1", child_pid="C1"),
        birth(record_id="a2", child_pid="C1"),
        birth(record_id="b1", child_pid="C2", mother_pid="M2"),
        birth(record_id="b2", child_pid=None, mother_pid="M2"),
        birth(record_id="t1", child_pid="C3", mother_pid="M3"),
        birth(record_id="t2", child_pid="C4", mother_pid="M3"),
    ]
    write_run(tmp_path, records=records_frame(rows))
    findings = of(run_audit(tmp_path, as_of=AS_OF), "records.duplicate")
    assert {f.evidence["duplicate_entries"] for f in findings} == {2}
    assert [f.level for f in findings] == ["province", "prefecture", "county", "township"]


def test_linker_verdict_on_mother_date_sex_pairs_is_kept(tmp_path):
    """With links.parquet, a same-mother-date-sex pair the linker kept apart (twins) is not a duplicate."""
    rows = [
        birth(record_id="b1", child_pid="C2", mother_pid="M2"),
        birth(record_id="b2", mother_pid="M2"),
    ]
    links = pd.DataFrame(
        {
            "cluster_id": [1, 2],
            "role": "planning",
            "record_id": ["b1", "b2"],
            "rule": "test",
            "match_probability": 1.0,
            "is_duplicate": [False, False],
        }
    )
    write_run(tmp_path, records=records_frame(rows), links=links)
    assert of(run_audit(tmp_path, as_of=AS_OF), "records.duplicate") == []


def test_id_inconsistent_counts_without_ids(tmp_path):
    """An ID whose date or sex contradicts the record is counted per source and area; no ID in the finding."""
    rows = [
        birth(child_pid="C1", child_id_birth_date=dt.date(2024, 5, 1), child_id_sex="F"),
        birth(child_pid="C2", child_id_birth_date=dt.date(2024, 5, 2), child_id_sex="F"),
        birth(child_pid="C3", child_id_birth_date=dt.date(2024, 5, 1), child_id_sex="M"),
        birth(child_pid="C4"),
        birth(
            child_pid="C5",
            child_id_birth_date=dt.date(2024, 5, 1),
            child_id_sex="F",
            area_code=TOWNSHIPS[1],
        ),
    ]
    write_run(tmp_path, records=records_frame(rows))
    findings = of(run_audit(tmp_path, as_of=AS_OF), "id.inconsistent")
    township = next(f for f in findings if f.level == "township")
    assert township.area_code == TOWNSHIPS[0] and township.severity == "warning"
    assert township.evidence == {
        "records": 4,
        "records_with_id": 3,
        "mismatched_records": 2,
        "birth_date_mismatches": 1,
        "sex_mismatches": 1,
        "share": round(2 / 3, 6),
    }
    assert not any(f.area_code == TOWNSHIPS[1] for f in findings)
    assert all("C2" not in f.message_en + f.message_zh for f in findings)
