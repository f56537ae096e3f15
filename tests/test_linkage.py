"""Record linkage across sources: exact rules, twins, duplicates, probabilistic links."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from linkage_fixtures import frame, population, record, resident_id, source

from fpstat.engine import Engine
from fpstat.engine import sql_linkage as sql
from fpstat.errors import UsageError
from fpstat.reconcile.candidates import assign_one_to_one
from fpstat.reconcile.fellegi_sunter import MISSING, FellegiSunterModel, estimate_em
from fpstat.reconcile.linkage import LinkageSettings, link_records, ordered_roles

MOTHER = resident_id("320581", dt.date(1990, 3, 7), 2)
CHILD = resident_id("320581", dt.date(2024, 3, 5), 11)
CHILD_2 = resident_id("320581", dt.date(2024, 3, 5), 13)


def cluster_of(links: pd.DataFrame, role: str, record_id: str) -> str:
    row = links[(links["role"] == role) & (links["record_id"] == record_id)]
    assert len(row) == 1
    return str(row["cluster_id"].iloc[0])


def row_of(links: pd.DataFrame, role: str, record_id: str) -> pd.Series:
    return links[(links["role"] == role) & (links["record_id"] == record_id)].iloc[0]


def test_child_id_links_records_of_one_birth() -> None:
    """The same child ID links two sources even when every other field disagrees."""
    planning = frame([record("planning", "P1", child_id=CHILD, child_name="张伟")])
    police = frame([record("police", "G1", child_id=CHILD, child_name="李强", sex="F",
                           birth_date=dt.date(2024, 5, 1))])
    links = link_records({"planning": planning, "police": police}).links
    assert cluster_of(links, "planning", "P1") == cluster_of(links, "police", "G1")
    linked = row_of(links, "police", "G1")
    assert linked["rule"] == "child_id" and linked["match_probability"] == 1.0
    assert row_of(links, "planning", "P1")["rule"] == "anchor"


def test_mother_id_birth_date_and_sex_link_without_child_ids() -> None:
    """Mother ID + birth date + sex links records that lack a child ID."""
    planning = frame([record("planning", "P1", mother_id=MOTHER, child_name="张伟")])
    hospital = frame([record("hospital", "H1", mother_id=MOTHER, mother_name="李丽")])
    links = link_records({"planning": planning, "hospital": hospital}).links
    assert cluster_of(links, "planning", "P1") == cluster_of(links, "hospital", "H1")
    assert row_of(links, "hospital", "H1")["rule"] == "mother_id+birth_date+sex"


def test_a_sex_disagreement_still_links_and_says_so() -> None:
    """A birth recorded as a boy in one source and a girl in another is one birth (性别错报)."""
    planning = frame([record("planning", "P1", mother_id=MOTHER, child_name="张丽", sex="M")])
    police = frame([record("police", "G1", mother_id=MOTHER, child_name="张丽", sex="F")])
    links = link_records({"planning": planning, "police": police}).links
    assert cluster_of(links, "planning", "P1") == cluster_of(links, "police", "G1")
    assert row_of(links, "police", "G1")["rule"] == "mother_id+birth_date"


def test_twins_are_kept_apart_and_each_finds_its_own_record() -> None:
    """Twins (same mother, date, sex, different names) are two births, linked by name."""
    planning = frame([
        record("planning", "P1", mother_id=MOTHER, child_name="张一鸣"),
        record("planning", "P2", mother_id=MOTHER, child_name="张一凡"),
    ])
    police = frame([
        record("police", "G1", mother_id=MOTHER, child_name="张一凡", child_id=CHILD_2),
        record("police", "G2", mother_id=MOTHER, child_name="张一鸣", child_id=CHILD),
    ])
    links = link_records({"planning": planning, "police": police}).links
    assert cluster_of(links, "planning", "P1") != cluster_of(links, "planning", "P2")
    assert cluster_of(links, "planning", "P1") == cluster_of(links, "police", "G2")
    assert cluster_of(links, "planning", "P2") == cluster_of(links, "police", "G1")
    assert not links["is_duplicate"].any()


def test_planning_duplicates_are_flagged_and_the_earliest_is_primary() -> None:
    """A birth entered twice is one cluster; the later entry is flagged with the rule."""
    planning = frame([
        record("planning", "P1", child_id=CHILD, child_name="张伟", source_row=5),
        record("planning", "P2", child_id=CHILD, child_name="张伟", source_row=3),
        record("planning", "P3", mother_id=MOTHER, child_name="王芳", sex="F", source_row=6),
        record("planning", "P4", mother_id=MOTHER, child_name="王方", sex="F", source_row=7),
    ])  # P4's name is a homophone of P3's
    links = link_records({"planning": planning}).links
    assert cluster_of(links, "planning", "P1") == cluster_of(links, "planning", "P2")
    assert not row_of(links, "planning", "P2")["is_duplicate"]  # row 3 comes first
    assert row_of(links, "planning", "P1")["rule"] == "duplicate:child_id"
    assert cluster_of(links, "planning", "P3") == cluster_of(links, "planning", "P4")
    assert row_of(links, "planning", "P4")["rule"] == "duplicate:mother_id+birth_date+sex"
    assert int(links["is_duplicate"].sum()) == 2


def test_half_filled_pairs_are_settled_by_the_other_sources() -> None:
    """Same mother, date and sex, one with the name and one with the ID: the others decide."""
    planning = frame([
        record("planning", "P1", mother_id=MOTHER, child_id=CHILD),
        record("planning", "P2", mother_id=MOTHER, child_name="张一凡"),
    ])
    one_child = frame([record("police", "G1", child_id=CHILD, child_name="张一鸣")])
    twins = frame([
        record("police", "G1", child_id=CHILD, child_name="张一鸣"),
        record("police", "G2", child_id=CHILD_2, child_name="张一凡", mother_id=MOTHER),
    ])
    entered_twice = link_records({"planning": planning, "police": one_child}).links
    assert entered_twice["cluster_id"].nunique() == 1
    assert row_of(entered_twice, "planning", "P2")["is_duplicate"]
    two_births = link_records({"planning": planning, "police": twins}).links
    assert cluster_of(two_births, "planning", "P1") == cluster_of(two_births, "police", "G1")
    assert cluster_of(two_births, "planning", "P2") == cluster_of(two_births, "police", "G2")
    assert two_births["cluster_id"].nunique() == 2


@pytest.fixture(scope="module")
def linked_population() -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    """400 births: planning with child IDs, hospital with mother IDs, census with names only."""
    births = population(400, seed=7)
    registered = births.iloc[:360]
    planning, _ = source(registered, "planning", "P", {"child_id": 1.0}, seed=1)
    police, _ = source(births.iloc[20:], "police", "G", {"mother_id": 0.7}, seed=2)
    census, _ = source(births, "census", "C", {"child_id": 0.0, "mother_id": 0.0}, seed=3)
    records = {"planning": planning, "police": police, "census": census}
    return births, records, link_records(records).links


def test_every_input_record_appears_exactly_once(linked_population) -> None:
    """One row per input record, no record lost or repeated."""
    _, records, links = linked_population
    expected = sorted((role, rid) for role, table in records.items() for rid in table["record_id"])
    assert sorted(zip(links["role"], links["record_id"], strict=True)) == expected


def test_no_cluster_holds_two_primary_records_of_one_source(linked_population) -> None:
    """One-to-one: a birth has at most one non-duplicate record per source."""
    _, _, links = linked_population
    primaries = links[~links["is_duplicate"].astype(bool)]
    assert not primaries.duplicated(["cluster_id", "role"]).any()


def test_births_missing_from_the_register_form_their_own_clusters(linked_population) -> None:
    """The 40 births the register lacks are exactly the clusters without a planning record."""
    _, _, links = linked_population
    roles = links.groupby("cluster_id")["role"].agg(set)
    missing = roles[roles.map(lambda held: "planning" not in held)]
    assert len(missing) == 40
    census_ids = {f"C{number:05d}" for number in range(360, 400)}
    census_rows = links[(links["role"] == "census") & links["record_id"].isin(census_ids)]
    assert set(census_rows["cluster_id"]) == set(missing.index)


def test_census_records_without_ids_link_probabilistically(linked_population) -> None:
    """Census rows (names only, no IDs) link to their births with a posterior probability."""
    _, _, links = linked_population
    census = links[links["role"] == "census"].set_index("record_id")
    planning = links[links["role"] == "planning"].set_index("record_id")
    for number in range(360):
        assert census.loc[f"C{number:05d}", "cluster_id"] == planning.loc[f"P{number:05d}", "cluster_id"]
    probabilistic = census[census["rule"] == "probabilistic"]
    assert len(probabilistic) >= 300
    assert (probabilistic["match_probability"] >= LinkageSettings().match_threshold).all()


def test_homophone_traditional_name_and_a_shifted_date_still_link() -> None:
    """A hospital row with the mother's name traditional and mistyped, a day off, links."""
    births = population(300, seed=11)
    births.loc[5, "mother_name"] = "陈丽"
    planning, _ = source(births, "planning", "P", {"child_id": 1.0}, seed=1)
    police, _ = source(births, "police", "G", {}, seed=2)
    hospital, _ = source(births, "hospital", "H", {"child_id": 0.0, "mother_id": 0.0,
                                                   "child_name": 0.0}, seed=3)
    hospital.loc[5, "mother_name"] = "陳莉"  # traditional 陳, homophone 莉 for 丽
    hospital.loc[5, "birth_date"] = births.loc[5, "birth_date"] + dt.timedelta(days=1)
    links = link_records({"planning": planning, "police": police, "hospital": hospital}).links
    assert cluster_of(links, "hospital", "H00005") == cluster_of(links, "planning", "P00005")
    linked = row_of(links, "hospital", "H00005")
    assert linked["rule"] == "probabilistic" and linked["match_probability"] >= 0.9


def test_one_to_one_keeps_only_the_best_of_two_candidates() -> None:
    """Two planning births both resemble one census row: only the better match wins."""
    births = population(200, seed=5)
    planning, _ = source(births, "planning", "P", {"child_id": 1.0}, seed=1)
    police, _ = source(births, "police", "G", {}, seed=2)
    census, _ = source(births.iloc[:150], "census", "C", {"child_id": 0.0, "mother_id": 0.0}, seed=3)
    twin_like = planning.iloc[[0]].copy()
    twin_like["record_id"] = "P99999"
    twin_like["child_id"] = pd.NA
    twin_like["birth_date"] = (pd.to_datetime(twin_like["birth_date"].astype(str)) + pd.Timedelta(days=2)).dt.date.astype("date32[pyarrow]")
    twin_like["source_row"] = 9999
    planning = pd.concat([planning, twin_like], ignore_index=True)
    links = link_records({"planning": planning, "police": police, "census": census}).links
    assert cluster_of(links, "census", "C00000") == cluster_of(links, "planning", "P00000")
    assert cluster_of(links, "planning", "P99999") != cluster_of(links, "planning", "P00000")
    primaries = links[~links["is_duplicate"].astype(bool)]
    assert not primaries.duplicated(["cluster_id", "role"]).any()


def test_second_look_joins_halves_of_a_birth_the_register_lacks() -> None:
    """A birth missing from planning, seen by police (child's name only) and hospital (mother's
    name only), ends as one cluster once census has linked the halves' fields together."""
    births = population(300, seed=13)
    planning, _ = source(births.iloc[1:], "planning", "P", {"child_id": 1.0}, seed=1)
    police, _ = source(births, "police", "G", {"mother_id": 0.5}, seed=2)
    hospital, _ = source(births, "hospital", "H", {"child_id": 0.0, "child_name": 0.0}, seed=3)
    census, _ = source(births, "census", "C", {"child_id": 0.0, "mother_id": 0.0}, seed=4)
    police.loc[0, ["mother_id", "mother_name"]] = pd.NA  # census has both names: the bridge
    result = link_records({"planning": planning, "police": police, "hospital": hospital,
                           "census": census})
    links = result.links
    assert cluster_of(links, "police", "G00000") == cluster_of(links, "hospital", "H00000")
    assert cluster_of(links, "census", "C00000") == cluster_of(links, "police", "G00000")
    roles = set(links.loc[links["cluster_id"] == cluster_of(links, "police", "G00000"), "role"])
    assert "planning" not in roles
    second_look = result.parameters["steps"][-1]
    assert second_look["role"] == "second look" and second_look["rounds"][0]["merged"] >= 1


def test_a_township_level_area_code_agrees_with_its_villages() -> None:
    """Hospitals write the township (village digits 000): that agrees with any of its villages."""
    from fpstat.reconcile.comparisons import COLUMN, FIELDS, _area_levels

    levels = _area_levels(np.array([320581101000, 320581101201, 320581101201, 320581102201]),
                          np.array([320581101203, 320581101203, 320581101201, 320581101201]))
    labels = [FIELDS["area"][level] for level in levels]
    assert labels == ["same township, village not given", "same township, other village",
                      "same village", "same county"]
    assert COLUMN["area"] >= 0


def test_greedy_assignment_is_one_to_one_by_descending_score() -> None:
    """The best pair wins; the loser takes its next-best free partner."""
    entity = np.array([1, 1, 2, 2])
    cluster = np.array([10, 11, 10, 11])
    score = np.array([5.0, 4.0, 6.0, 1.0])
    accepted = assign_one_to_one(entity, cluster, score)
    assert accepted.tolist() == [False, True, True, False]


def test_settings_out_of_range_are_a_usage_error() -> None:
    """A threshold outside (0, 1) or an unknown blocking rule stops with a UsageError."""
    with pytest.raises(UsageError):
        link_records({}, settings=LinkageSettings(match_threshold=1.5))
    with pytest.raises(UsageError):
        link_records({}, settings=LinkageSettings(blocking_rules=("no such rule",)))


def test_no_records_give_no_links_and_a_single_source_gives_singletons() -> None:
    """Empty input links nothing; one source alone makes one cluster per birth."""
    assert link_records({}).links.empty
    planning = frame([record("planning", "P1", child_name="张伟"), record("planning", "P2")])
    links = link_records({"planning": planning}).links
    assert links["cluster_id"].tolist() == ["B000001", "B000002"]
    assert (links["rule"] == "singleton").all() and links["match_probability"].isna().all()


def test_missing_required_columns_are_a_usage_error() -> None:
    """A table without birth_date (or sex, area_code, record_id) cannot be linked."""
    planning = frame([record("planning", "P1")]).drop(columns=["birth_date"])
    with pytest.raises(UsageError):
        link_records({"planning": planning})


def test_roles_are_linked_in_the_documented_order() -> None:
    """planning, police, hospital, census, education, then other roles alphabetically."""
    assert ordered_roles(["zoo", "census", "education", "police", "alpha", "hospital", "planning"]) == [
        "planning", "police", "hospital", "census", "education", "alpha", "zoo"]


def test_oversized_blocks_are_skipped_and_reported() -> None:
    """A block over max_block_pairs is not expanded, and the parameters say how many were skipped."""
    births = population(60, seed=3)
    planning, _ = source(births, "planning", "P", {"child_id": 1.0}, seed=1)
    census, _ = source(births, "census", "C", {"child_id": 0.0, "mother_id": 0.0}, seed=2)
    result = link_records({"planning": planning, "census": census},
                          settings=LinkageSettings(max_block_pairs=1))
    blocking = result.parameters["steps"][1]["blocking"]
    assert sum(rule["capped_blocks"] for rule in blocking.values()) > 0
    assert all(rule["candidates"] <= rule["pairs"] - rule["capped_pairs"] for rule in blocking.values())


def test_parameters_report_rules_and_estimates_without_personal_data() -> None:
    """The manifest part counts records per rule and shows m/u per level, and no names or IDs."""
    births = population(120, seed=9)
    planning, _ = source(births, "planning", "P", {"child_id": 1.0}, seed=1)
    census, _ = source(births, "census", "C", {"child_id": 0.0, "mother_id": 0.0}, seed=2)
    result = link_records({"planning": planning, "census": census})
    text = repr(result.parameters)
    assert result.parameters["records_by_rule"]["census"]["probabilistic"] > 100
    assert "m" in result.parameters["steps"][1]["em"]["fields"]["child_name"]["same"]
    for value in list(births["child_name"]) + list(births["mother_id"]):
        assert value not in text


def test_sql_blocking_rules_are_known_by_name() -> None:
    """Every default blocking rule exists in the SQL module."""
    assert set(LinkageSettings().blocking_rules) <= set(sql.BLOCKING_RULES)


def test_an_engine_passed_in_stays_open() -> None:
    """link_records uses the caller's engine and leaves it usable."""
    engine = Engine()
    link_records({"planning": frame([record("planning", "P1")])}, engine=engine)
    assert engine.frame("SELECT 1 AS one")["one"].tolist() == [1]
    engine.close()


# --- Fellegi-Sunter --------------------------------------------------------------------------

def test_match_weight_is_prior_log_odds_plus_log2_likelihood_ratios() -> None:
    """W = log2(l/(1-l)) + sum log2(m/u); missing fields add nothing (Fellegi & Sunter 1969)."""
    model = FellegiSunterModel(("a", "b"), [np.array([0.1, 0.9]), np.array([0.2, 0.8])],
                               [np.array([0.99, 0.01]), np.array([0.5, 0.5])], prior=0.2)
    levels = np.array([[1, 1], [0, MISSING]])
    expected = np.array([
        np.log2(0.25) + np.log2(0.9 / 0.01) + np.log2(0.8 / 0.5),
        np.log2(0.25) + np.log2(0.1 / 0.99),
    ])
    assert model.match_weight(levels) == pytest.approx(expected)
    assert model.match_probability(levels) == pytest.approx(1 / (1 + 2.0 ** -expected))


def test_em_recovers_known_parameters_from_simulated_pairs() -> None:
    """Pairs drawn from a two-class model with known m, u, lambda: EM finds them (Winkler 1988)."""
    rng = np.random.default_rng(42)
    m = [np.array([0.05, 0.15, 0.80]), np.array([0.1, 0.9]), np.array([0.2, 0.8]),
         np.array([0.15, 0.85]), np.array([0.1, 0.2, 0.7])]
    u = [np.array([0.90, 0.08, 0.02]), np.array([0.7, 0.3]), np.array([0.5, 0.5]),
         np.array([0.8, 0.2]), np.array([0.6, 0.3, 0.1])]
    n, prior = 100_000, 0.1
    is_match = rng.random(n) < prior
    levels = np.empty((n, len(m)), dtype=np.int8)
    for k in range(len(m)):
        levels[:, k] = np.where(is_match, rng.choice(len(m[k]), n, p=m[k]),
                                rng.choice(len(u[k]), n, p=u[k]))
    levels[rng.random(n) < 0.1, 2] = MISSING
    counts = tuple(len(values) for values in m)
    start = FellegiSunterModel(
        tuple("abcde"), [np.linspace(1, 2, c) / np.linspace(1, 2, c).sum() for c in counts],
        [np.linspace(2, 1, c) / np.linspace(2, 1, c).sum() for c in counts], 0.3)
    outcome = estimate_em(levels, counts, start, tolerance=1e-9, max_iterations=5000)
    assert outcome.converged
    assert outcome.model.prior == pytest.approx(prior, abs=0.01)
    for k in range(len(m)):
        assert outcome.model.m[k] == pytest.approx(m[k], abs=0.03)
        assert outcome.model.u[k] == pytest.approx(u[k], abs=0.02)


def test_known_matches_anchor_the_match_class() -> None:
    """With labelled matches, EM keeps "match" meaning the labelled kind of pair."""
    rng = np.random.default_rng(1)
    # Field 0 separates "same family" (most pairs), field 1 "same birth" (few pairs).
    family = rng.random(5000) < 0.6
    birth = family & (rng.random(5000) < 0.1)
    levels = np.stack([family.astype(np.int8), birth.astype(np.int8)], axis=1)
    known = np.ones((500, 2), dtype=np.int8)
    start = FellegiSunterModel(("family", "birth"), [np.array([0.5, 0.5])] * 2, [np.array([0.5, 0.5])] * 2, 0.2)
    outcome = estimate_em(levels, (2, 2), start, known_matches=known)
    probability = outcome.model.match_probability(np.array([[1, 0], [1, 1]]))
    assert probability[0] < 0.05 and probability[1] > 0.95


def test_a_hospital_record_of_one_of_two_twins_is_a_doubtful_move() -> None:
    """Same-sex twins, one in the register: the hospital record (no name, no ID) that matches
    both clusters goes to one and is reported as possibly the other's, at even odds."""
    planning = frame([record("planning", "P1", mother_id=MOTHER, child_name="张一鸣")])
    police = frame([
        record("police", "G1", mother_id=MOTHER, child_name="张一鸣", child_id=CHILD),
        record("police", "G2", mother_id=MOTHER, child_name="张一凡", child_id=CHILD_2),
    ])
    hospital = frame([record("hospital", "H1", mother_id=MOTHER)])
    result = link_records({"planning": planning, "police": police, "hospital": hospital})
    assert len(result.moves) == 1, result.moves
    move = result.moves.iloc[0]
    assert move["role"] == "hospital" and move["cluster_id"] == cluster_of(result.links, "hospital", "H1")
    assert {move["cluster_id"], move["other_cluster_id"]} == {
        cluster_of(result.links, "police", "G1"), cluster_of(result.links, "police", "G2")}
    assert 0.3 < move["probability"] <= 0.5


def test_two_halves_with_only_place_date_and_sex_in_common_are_one_missing_birth() -> None:
    """Births the register and police lack, seen by a hospital (mother only) and a census
    (child's name only), share place, date and sex alone: the second look still joins them,
    because among clusters the register lacks such pairs are common (per-class priors)."""
    births = population(400, seed=21)
    planning, _ = source(births.iloc[12:], "planning", "P", {}, seed=1)
    police, _ = source(births.iloc[12:], "police", "G", {}, seed=2)
    hospital, _ = source(births, "hospital", "H", {"child_id": 0.0, "child_name": 0.0}, seed=3)
    census, _ = source(births, "census", "C", {"child_id": 0.0, "mother_id": 0.0, "mother_name": 0.0,
                                                 "birth_order": 0.0}, seed=4)
    links = link_records({"planning": planning, "police": police, "hospital": hospital,
                          "census": census}).links
    joined = sum(cluster_of(links, "hospital", f"H{i:05d}") == cluster_of(links, "census", f"C{i:05d}")
                 for i in range(12))
    assert joined >= 11, joined
    assert links["cluster_id"].nunique() == len(births)


def test_class_priors_are_the_em_fixed_point_of_each_class() -> None:
    """lambda_k = sum of posteriors / possible pairs in each class; a class with strong pairs
    gets a larger prior than one with weak pairs."""
    from fpstat.reconcile.merging import class_priors

    factor = np.array([20.0, 20.0, 19.0, 5.0, 4.0, 3.0])  # log2 Bayes factors
    classes = np.array([0, 0, 0, 1, 1, 1])
    possible = np.array([1000.0, 1000.0])
    prior = 1e-4
    weight = factor + np.log2(prior) - np.log2(1 - prior)
    new_weight, priors = class_priors(weight, prior, classes, possible)
    posterior = 1.0 / (1.0 + np.exp2(-new_weight))
    for k in (0, 1):
        assert priors[k] == pytest.approx(posterior[classes == k].sum() / possible[k], rel=1e-6)
    assert priors[0] > 100 * priors[1]
    assert posterior[:3].min() > 0.99


def test_a_register_typo_in_date_or_place_is_outvoted_by_the_other_sources() -> None:
    """A cluster's profile takes the date, sex and township most of its records agree on
    (ties to the register), and a village-level code to represent the township."""
    from fpstat.engine import Engine
    from fpstat.reconcile.prepared import ClusterProfiles, prepare_records

    day = dt.date(2024, 3, 5)
    sources = {
        "planning": frame([record("planning", "P1", area_code="320581109201", birth_date=dt.date(2024, 3, 7)),
                           record("planning", "P2", area_code="320581101201", sex="F")]),
        "police": frame([record("police", "G1", area_code="320581101204", birth_date=day),
                         record("police", "G2", area_code="320581102201", sex="M")]),
        "hospital": frame([record("hospital", "H1", area_code="320581101000", birth_date=day)]),
    }
    records = prepare_records(Engine(), sources, {"planning": 0, "police": 1, "hospital": 2})
    profiles = ClusterProfiles(records)
    profiles.add(np.array([0, 1]))  # P1, P2 found the clusters
    cluster_of = np.array([0, 1, 0, 1, 0])  # records in order: P1, P2, G1, G2, H1
    profiles.absorb(cluster_of[2:], np.arange(2, 5))
    profiles.vote(cluster_of, np.array([0, 1]))
    view = profiles.view()
    assert view.area[0] == 320581101204  # township 101 by two votes to one, village from police
    assert view.birth_day[0] == records.birth_day[2]  # two records say the 5th
    assert view.area[1] == 320581101201 and view.sex[1] == 2  # one against one: the register
