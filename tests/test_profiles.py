"""Evaluation profiles: shipped profiles, user TOML files, thresholds and statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from fpstat.errors import ConfigError
from fpstat.indicators import DEFAULT_PROFILE, REGISTRY, Threshold, load_profile, shipped_profiles


def test_three_profiles_ship_and_the_default_is_quality_service() -> None:
    """county-quality-service (default), county-targets and who-dqr ship inside the package."""
    assert shipped_profiles() == ["county-quality-service", "county-targets", "who-dqr"]
    assert DEFAULT_PROFILE == "county-quality-service"
    assert load_profile().name == "county-quality-service"


def test_quality_service_thresholds() -> None:
    """policy_rate_3y >= 92 veto, birth defects <= 6 per mille, migrants >= 90 %, srb 103-107, at county level."""
    profile = load_profile("county-quality-service")
    by_indicator = {t.indicator: t for t in profile.thresholds}
    assert (
        by_indicator["policy_rate_3y"].kind == "veto" and by_indicator["policy_rate_3y"].value == 92
    )
    assert (
        by_indicator["birth_defect_rate"].kind == "max"
        and by_indicator["birth_defect_rate"].value == 6
    )
    assert (
        by_indicator["migrant_registration_rate"].kind == "min"
        and by_indicator["migrant_registration_rate"].value == 90
    )
    assert (by_indicator["srb"].low, by_indicator["srb"].high) == (103, 107)
    assert all(t.levels == ("county",) and t.note for t in profile.thresholds)
    assert profile.check_settings["srb.out_of_range"] == {"low": 103, "high": 107}


def test_county_targets_thresholds() -> None:
    """policy_rate >= 95, srb strictly below 110, contraceptive prevalence >= 85."""
    by_indicator = {t.indicator: t for t in load_profile("county-targets").thresholds}
    assert by_indicator["policy_rate"].describe() == ">= 95"
    assert by_indicator["srb"].describe() == "< 110"
    assert by_indicator["srb"].status(110.0) == "above"
    assert by_indicator["contraceptive_prevalence"].value == 85


def test_who_dqr_carries_check_settings() -> None:
    """who-dqr gives the audit its WHO DQR settings: completeness 90 %, 33 % over time, modified z 3.5."""
    checks = load_profile("who-dqr").check_settings
    assert checks["completeness.low"] == {"threshold": 0.90}
    assert checks["time.inconsistent"]["threshold"] == 0.33
    assert checks["outlier"] == {"warning_above": 3.5, "error_above": 5.0}
    assert checks["population.denominator_mismatch"] == {"warning_above": 0.02, "error_above": 0.05}


def test_every_shipped_threshold_names_a_registered_indicator() -> None:
    """Shipped thresholds refer to indicators of the registry."""
    for name in shipped_profiles():
        assert all(t.indicator in REGISTRY for t in load_profile(name).thresholds)


@pytest.mark.parametrize(
    ("threshold", "value", "status"),
    [
        (Threshold("policy_rate_3y", "veto", 92.0, note="x"), 92.0, "meets"),
        (Threshold("policy_rate_3y", "veto", 92.0, note="x"), 91.99, "veto"),
        (Threshold("policy_rate", "min", 95.0, note="x"), 94.0, "below"),
        (Threshold("birth_defect_rate", "max", 6.0, note="x"), 6.0, "meets"),
        (Threshold("birth_defect_rate", "max", 6.0, note="x"), 6.1, "above"),
        (Threshold("srb", "max", 110.0, inclusive=False, note="x"), 109.9, "meets"),
        (Threshold("srb", "range", low=103.0, high=107.0, note="x"), 107.0, "meets"),
        (Threshold("srb", "range", low=103.0, high=107.0, note="x"), 102.9, "out_of_range"),
        (Threshold("srb", "range", low=103.0, high=107.0, note="x"), float("nan"), ""),
    ],
)
def test_status_of_each_kind(threshold: Threshold, value: float, status: str) -> None:
    """meets / below / veto / above / out_of_range, and nothing for a missing value."""
    assert threshold.status(value) == status


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


VALID = """
[profile]
name = "mine"

[[thresholds]]
indicator = "policy_rate"
kind = "min"
value = 90
levels = ["county", "township"]
note = "our own target"
"""


def test_a_user_profile_file_loads(tmp_path: Path) -> None:
    """A TOML path loads with its thresholds and levels."""
    profile = load_profile(write(tmp_path, VALID))
    assert profile.name == "mine"
    assert profile.thresholds[0].levels == ("county", "township")
    assert profile.threshold_for("policy_rate", "township", "report") is profile.thresholds[0]
    assert profile.threshold_for("policy_rate", "village", "report") is None


def test_unknown_key_names_key_and_line(tmp_path: Path) -> None:
    """An unknown key in a threshold is a ConfigError naming the key and its line."""
    text = VALID.replace('note = "our own target"', 'note = "our own target"\nminimum = 3')
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.location.field == "minimum"
    assert caught.value.location.row == 11
    assert "minimum" in caught.value.message_en


def test_unknown_top_level_key(tmp_path: Path) -> None:
    """An unknown table at the top is named with its line."""
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, VALID + "\n[extras]\na = 1\n"))
    assert caught.value.location.field == "extras"
    assert caught.value.location.row == 12


def test_unknown_indicator_and_check(tmp_path: Path) -> None:
    """A threshold on an unregistered indicator, or settings of an unknown check, are errors."""
    with pytest.raises(ConfigError, match="unknown indicator"):
        load_profile(write(tmp_path, VALID.replace('"policy_rate"', '"policy_ratio"')))
    with pytest.raises(ConfigError, match="unknown check"):
        load_profile(write(tmp_path, VALID + '\n[checks."srb.weird"]\nlow = 1\n'))


def test_a_threshold_needs_a_note(tmp_path: Path) -> None:
    """Every threshold says where it comes from."""
    with pytest.raises(ConfigError, match="note"):
        load_profile(write(tmp_path, VALID.replace('note = "our own target"\n', "")))


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    """A TOML syntax error is a ConfigError with the parser's line."""
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, VALID.replace("value = 90", "value = ")))
    assert caught.value.location.row == 8


def test_unknown_profile_name() -> None:
    """A name that is neither shipped nor a file is a ConfigError listing the shipped ones."""
    with pytest.raises(ConfigError, match="county-targets"):
        load_profile("county-qualty-service")


def test_two_thresholds_for_one_indicator_and_level(tmp_path: Path) -> None:
    """indicators.csv has one threshold column: overlapping thresholds are an error."""
    second = VALID.split("[[thresholds]]")[1]
    with pytest.raises(ConfigError, match="two thresholds"):
        load_profile(write(tmp_path, VALID + "\n[[thresholds]]" + second))


def test_extends_replaces_thresholds_per_indicator(tmp_path: Path) -> None:
    """A profile extending a shipped one replaces that indicator's threshold and keeps the rest."""
    text = """
[profile]
name = "stricter"
extends = "county-quality-service"

[[thresholds]]
indicator = "srb"
kind = "range"
low = 104
high = 106
note = "stricter range"

[checks."srb.out_of_range"]
low = 104.0
"""
    profile = load_profile(write(tmp_path, text))
    by_indicator = {t.indicator: t for t in profile.thresholds}
    assert (by_indicator["srb"].low, by_indicator["srb"].high) == (104, 106)
    assert by_indicator["policy_rate_3y"].kind == "veto"
    assert profile.check_settings["srb.out_of_range"] == {"low": 104.0, "high": 107}
