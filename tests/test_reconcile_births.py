"""From clusters to births: the consensus vote, flags, periods, and the reconciliation window."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fpstat.engine import Engine
from fpstat.reconcile.births import (
    LinkageMismatch,
    build_births,
    next_period,
    reconciliation_window,
    release,
)
from fpstat.schema import empty_records

D = dt.date


def _records(role: str, rows: list[dict]) -> pd.DataFrame:
    """A normalised record table of ``role`` from a few partial rows."""
    typed = empty_records()
    frame = pd.DataFrame([{**{c: None for c in typed.columns}, **row} for row in rows])
    frame["role"] = role
    frame["source_file"] = f"{role}.csv"
    frame["source_sheet"] = ""
    frame["source_row"] = range(2, len(frame) + 2)
    return pd.concat([typed, frame.astype({c: typed[c].dtype for c in typed.columns})], ignore_index=True)


def _links(rows: list[tuple]) -> pd.DataFrame:
    """Links from ``(cluster, role, record_id, row, rule, probability, duplicate)`` tuples."""
    return pd.DataFrame([
        {"cluster_id": c, "role": role, "record_id": rid, "rule": rule, "match_probability": p,
         "is_duplicate": dup, "source_file": f"{role}.csv", "source_sheet": "", "source_row": row}
        for c, role, rid, row, rule, p, dup in rows
    ])


@pytest.fixture
def clusters() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Three births: a sex disagreement, a date/area tie, a birth the register lacks."""
    base = {"birth_order": 2, "child_id": "320581202401020011", "mother_id": "320581199001011234"}
    planning = _records("planning", [
        {**base, "record_id": "JS1", "sex": "F", "birth_date": D(2024, 1, 2), "area_code": "320581101201",
         "within_policy": True, "migrant": False},
        {**base, "record_id": "JS2", "sex": "M", "birth_date": D(2024, 1, 2), "area_code": "320581999999"},
        {**base, "record_id": "JS3", "sex": "M", "birth_date": D(2023, 10, 1), "area_code": "320581101202"},
    ])
    police = _records("police", [
        {**base, "record_id": "GA1", "sex": "M", "birth_date": D(2024, 1, 2), "area_code": "320581101201"},
        {**base, "record_id": "GA2", "sex": "M", "birth_date": D(2023, 10, 2), "area_code": "320581101203"},
        {**base, "record_id": "GA3", "sex": "F", "birth_date": D(2025, 9, 30), "area_code": "320582100201",
         "child_id": None},
    ])
    hospital = _records("hospital", [
        {**base, "record_id": "CS1", "sex": "M", "birth_date": D(2024, 1, 2), "area_code": "320581101000"},
        {**base, "record_id": "CS2", "sex": "M", "birth_date": D(2023, 10, 1), "area_code": "320581101204"},
        {**base, "record_id": "CS3", "sex": "F", "birth_date": D(2025, 9, 30), "area_code": "320582100000"},
    ])
    links = _links([
        ("B1", "planning", "JS1", 2, "anchor", None, False),
        ("B1", "planning", "JS2", 3, "duplicate:child_id", 1.0, True),
        ("B1", "police", "GA1", 2, "mother_id+birth_date", 1.0, False),
        ("B1", "hospital", "CS1", 2, "probabilistic", 0.97, False),
        ("B2", "planning", "JS3", 4, "anchor", None, False),
        ("B2", "police", "GA2", 3, "probabilistic", 0.93, False),
        ("B2", "hospital", "CS2", 3, "probabilistic", 0.95, False),
        ("B3", "police", "GA3", 4, "anchor", None, False),
        ("B3", "hospital", "CS3", 4, "child_id", 1.0, False),
    ])
    return {"planning": planning, "police": police, "hospital": hospital}, links


def _births(records, links, kind="sy"):
    with Engine() as engine:
        births = build_births(engine, records, links, kind)
        release(engine)
    return births.table.set_index("cluster_id")


def test_majority_wins_and_duplicates_do_not_vote(clusters):
    """Two sources saying M outvote the register's F; the register's duplicate has no vote."""
    table = _births(*clusters)
    first = table.loc["B1"]
    assert first["sex"] == "M"
    assert first["area_code"] == "320581101201"  # planning + police against the hospital
    assert first["planning_sex"] == "F"
    assert bool(first["sex_disagreement"]) and bool(first["linked_to_planning"])
    assert first["records"] == 3 and first["duplicates"] == 1


def test_ties_go_to_the_most_trusted_source_of_each_field(clusters):
    """Three different dates and areas: the hospital wins the date, the register the area."""
    second = _births(*clusters).loc["B2"]
    assert second["birth_date"] == D(2023, 10, 1)  # planning and hospital agree: 2 votes
    assert second["area_code"] == "320581101202"  # 1-1-1: planning is trusted first for areas
    assert second["period"] == "2024SY"
    assert not bool(second["sex_disagreement"])


def test_flags_record_ids_and_confidence(clusters):
    """in_<role>, record_id_<role>, and the weakest link's probability (null for anchors)."""
    table = _births(*clusters)
    third = table.loc["B3"]
    assert not bool(third["in_planning"]) and bool(third["in_police"]) and bool(third["in_hospital"])
    assert third["record_id_police"] == "GA3" and pd.isna(third["record_id_planning"])
    assert third["area_code"] == "320582100201"  # police before hospital for areas
    assert table.loc["B1", "match_confidence"] == pytest.approx(0.97)
    assert table.loc["B2", "match_confidence"] == pytest.approx(0.93)
    assert third["period"] == "2025SY"


def test_result_does_not_depend_on_row_order(clusters):
    """Shuffled records and links give the same births table."""
    records, links = clusters
    shuffled = {role: frame.sample(frac=1, random_state=3) for role, frame in records.items()}
    pd.testing.assert_frame_equal(_births(records, links), _births(shuffled, links.sample(frac=1, random_state=4)))


def test_links_that_miss_a_record_are_a_bug_not_a_silent_loss(clusters):
    """A record without a link stops the run instead of vanishing from the counts."""
    records, links = clusters
    with pytest.raises(LinkageMismatch):
        _births(records, links.iloc[:-1])


def test_window_spans_the_register_and_ignores_stray_dates():
    """The window runs from the register's first to its last covered period, gaps included."""
    periods = ["2024SY"] * 50 + ["2026SY"] * 40 + ["2027SY"]
    table = pd.DataFrame({"in_planning": True, "period": periods})
    births = type("B", (), {"table": table})()
    assert reconciliation_window(births) == ["2024SY", "2025SY", "2026SY"]
    assert next_period("2024-12") == "2025-01" and next_period("2024-Q4") == "2025-Q1"


def test_a_coarser_area_code_does_not_outvote_villages():
    """A hospital's township code backs the village codes under it instead of voting against them."""
    base = {"sex": "M", "birth_date": D(2024, 3, 1), "mother_id": "320581199001011234"}
    records = {
        "planning": _records("planning", [{**base, "record_id": "JS1", "area_code": "320581101201"}]),
        "police": _records("police", [{**base, "record_id": "GA1", "area_code": "320581101203"}]),
        "hospital": _records("hospital", [{**base, "record_id": "CS1", "area_code": "320581101000"},
                                          {**base, "record_id": "CS2", "area_code": "320581102000"}]),
        "census": _records("census", [{**base, "record_id": "PC1", "area_code": "320581102000"}]),
    }
    links = _links([
        ("B1", "planning", "JS1", 2, "anchor", None, False),
        ("B1", "police", "GA1", 2, "mother_id+birth_date+sex", 1.0, False),
        ("B1", "hospital", "CS1", 2, "mother_id+birth_date+sex", 1.0, False),
        ("B2", "hospital", "CS2", 3, "anchor", None, False),
        ("B2", "census", "PC1", 2, "mother_id+birth_date+sex", 1.0, False),
    ])
    table = _births(records, links)
    assert table.loc["B1", "area_code"] == "320581101201"  # 1-1 between villages: the register
    assert table.loc["B2", "area_code"] == "320581102000"  # no village code at all


def test_ids_of_unregistered_births_come_from_the_source_holding_them(clusters):
    """The child's ID of a birth police holds without one is the hospital's, pseudonymised."""
    from fpstat.privacy import pseudonym
    from fpstat.reconcile.unregistered import unregistered_births

    records, links = clusters
    with Engine() as engine:
        births = build_births(engine, records, links, "sy")
        listed, behind = unregistered_births(engine, births, ["2024SY", "2025SY"], b"key", links, records)
        release(engine)
    assert listed["record_ids"].tolist() == ["police:GA3;hospital:CS3"]
    assert listed["child_pid"].tolist() == [pseudonym("320581202401020011", b"key")]
    assert listed["mother_pid"].tolist() == [pseudonym("320581199001011234", b"key")]
    assert behind["record_id"].tolist() == ["CS3", "GA3"] and set(behind["unregistered_row"]) == {1}
