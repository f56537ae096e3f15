"""The config's ``[linkage]`` table: known keys onto LinkageSettings, strict types and ranges with lines."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401  (registers the commands)
from fpstat.cli.app import app
from fpstat.config import LINKAGE_KEYS, load_config
from fpstat.errors import ConfigError
from fpstat.reconcile import LinkageSettings

runner = CliRunner()
BASE = """[run]
out = "runs/{date}"

[[inputs]]
role = "planning"
path = "planning.xlsx"

[checks]
fail_on = "error"

[linkage]
"""
LINKAGE_LINE = BASE.count("\n") + 1  # the first key under [linkage]


def write(tmp_path, linkage_lines: str):
    path = tmp_path / "fpstat.toml"
    path.write_text(BASE + linkage_lines, encoding="utf-8")
    return path


def test_every_key_maps_onto_the_linkage_settings(tmp_path):
    """Each of the nine keys sets the LinkageSettings field of its name; integers pass for numbers."""
    config = load_config(write(tmp_path, """match_threshold = 0.95
orphan_merge_threshold = 0.6
date_tolerance_days = 3
blocking_rules = ["mother_id", "township+sex+birth_date±tolerance"]
second_look = false
uncertainty_floor = 0.02
max_block_pairs = 5000
seed = 7
workers = 2
"""))
    linkage = config.linkage
    assert (linkage.match_threshold, linkage.orphan_merge_threshold, linkage.uncertainty_floor) == (0.95, 0.6, 0.02)
    assert (linkage.date_tolerance_days, linkage.max_block_pairs, linkage.seed, linkage.workers) == (3, 5000, 7, 2)
    assert linkage.blocking_rules == ("mother_id", "township+sex+birth_date±tolerance")
    assert linkage.second_look is False
    assert set(LINKAGE_KEYS) <= set(linkage.describe())
    # Knobs the table does not offer keep their defaults.
    assert linkage.em_max_iterations == LinkageSettings().em_max_iterations


def test_without_the_table_the_defaults_hold(tmp_path):
    """No [linkage] table gives the library's default LinkageSettings."""
    path = tmp_path / "fpstat.toml"
    path.write_text(BASE.replace("\n[linkage]\n", ""), encoding="utf-8")
    assert load_config(path).linkage == LinkageSettings()


def test_a_whole_number_threshold_is_read_as_a_float(tmp_path):
    """`match_threshold = 1` is an integer in TOML: read as 1.0 and then judged out of range."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "match_threshold = 1\n"))
    assert caught.value.location.field == "linkage.match_threshold"


@pytest.mark.parametrize(
    ("lines", "key", "offset", "words"),
    [
        ("match_treshold = 0.95\n", "linkage.match_treshold", 0, "unknown key"),
        ("seed = 1\nmatch_threshold = 1.5\n", "linkage.match_threshold", 1, "out of range"),
        ("date_tolerance_days = 40\n", "linkage.date_tolerance_days", 0, "out of range"),
        ("max_block_pairs = 0\n", "linkage.max_block_pairs", 0, "out of range"),
        ('match_threshold = "high"\n', "linkage.match_threshold", 0, "must be a number"),
        ("match_threshold = true\n", "linkage.match_threshold", 0, "must be a number"),
        ("date_tolerance_days = 2.5\n", "linkage.date_tolerance_days", 0, "must be an integer"),
        ("second_look = 1\n", "linkage.second_look", 0, "must be true or false"),
        ('blocking_rules = "mother_id"\n', "linkage.blocking_rules", 0, "must be a list"),
        ('blocking_rules = ["mother"]\n', "linkage.blocking_rules", 0, "unknown blocking rule 'mother'"),
        ("blocking_rules = []\n", "linkage.blocking_rules", 0, "at least one rule"),
        ("seed = -1\n", "linkage.seed", 0, "seed must be 0 or a positive integer"),
        ("workers = 0\n", "linkage.workers", 0, "workers must be a positive integer"),
        # Each in range alone, not together: the first of the two is named, the message says why.
        ("seed = 1\nmatch_threshold = 0.3\nuncertainty_floor = 0.4\n", "linkage.match_threshold", 1, "out of range"),
    ],
)
def test_bad_linkage_values_name_key_and_line(tmp_path, lines, key, offset, words):
    """An unknown key, a wrong type or an out-of-range value is a bilingual error at its key and line."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, lines))
    error = caught.value
    assert (error.location.field, error.location.row) == (key, LINKAGE_LINE + offset)
    assert words in error.message_en
    assert key.split(".")[1] in error.message_zh and any("\u4e00" <= c <= "\u9fff" for c in error.message_zh)


def test_linkage_must_be_a_table(tmp_path):
    """`linkage = 3` at the top level is an error naming linkage and its line."""
    path = tmp_path / "fpstat.toml"
    path.write_text("linkage = 3\n" + BASE.replace("\n[linkage]\n", ""), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.location.field, caught.value.location.row) == ("linkage", 1)


@pytest.mark.parametrize(
    ("lines", "key"),
    [("match_treshold = 0.95\n", "linkage.match_treshold"), ("match_threshold = 1.5\n", "linkage.match_threshold")],
)
def test_fpstat_run_exits_2_naming_key_and_line(tmp_path, lines, key):
    """`fpstat run` stops before any work with exit 2 and one line naming the key and its line."""
    result = runner.invoke(app, ["run", str(write(tmp_path, lines))])
    assert result.exit_code == 2
    assert f"row {LINKAGE_LINE}" in result.output and f"'{key}'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_section_names_in_brackets_survive_the_error_line(tmp_path):
    """The error line is plain text: "[linkage]" is printed, not eaten as rich markup."""
    result = runner.invoke(app, ["run", str(write(tmp_path, "match_treshold = 0.95\n"))])
    assert result.exit_code == 2 and "[linkage]" in result.output, result.output


def test_docs_list_every_key_with_its_default_and_every_rule():
    """docs/config.md has one row per [linkage] key with LinkageSettings' default, and every rule name."""
    import re
    import tomllib
    from pathlib import Path

    from fpstat.engine.sql_linkage import BLOCKING_RULES, DEFAULT_BLOCKING

    text = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", text, flags=re.MULTILINE))
    defaults = LinkageSettings()
    assert set(rows) == set(LINKAGE_KEYS) - {"blocking_rules"}
    for key, shown in rows.items():
        assert tomllib.loads(f"v = {shown}")["v"] == getattr(defaults, key), key
    for name in BLOCKING_RULES:
        assert f"| `{name}` | {'yes' if name in DEFAULT_BLOCKING else 'no'} |" in text, name
