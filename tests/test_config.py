"""The config file of ``fpstat run``/``check``: strict keys with line numbers, relative paths."""

from __future__ import annotations

import datetime as dt

import pytest

from fpstat.config import load_config
from fpstat.errors import ConfigError

GOOD = """
[run]
out = "runs/{date}"
period = "sy"
profile = "county-quality-service"

[[inputs]]
role = "planning"
path = "exports/计生出生登记台账.xlsx"

[[inputs]]
role = "report"
path = "exports/人口计生统计报表.xlsx"
sheet = ["年度报表", "月报"]
mapping = { "户口登记日期" = "registered_on" }

[checks]
fail_on = "warning"
"completeness.low" = { threshold = 0.90 }
"""


def write(tmp_path, text):
    path = tmp_path / "fpstat.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_paths_relative_to_it(tmp_path):
    """Sections, inputs, sheets and check settings are read; out expands {date}."""
    config = load_config(write(tmp_path, GOOD))
    assert config.period == "sy" and config.fail_on == "warning"
    assert [i.role for i in config.inputs] == ["planning", "report"]
    assert config.inputs[1].sheets == ["年度报表", "月报"]
    assert config.inputs[1].mapping == {"户口登记日期": "registered_on"}
    assert config.checks == {"completeness.low": {"threshold": 0.90}}
    assert config.out_dir(dt.date(2026, 1, 31)) == tmp_path.resolve() / "runs" / "2026-01-31"


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        (GOOD.replace('period = "sy"', 'perod = "sy"'), "run.perod", 4),
        (GOOD.replace('path = "exports/计生出生登记台账.xlsx"', 'paht = "x.xlsx"\npath = "y"'), "inputs.paht", 9),
        (GOOD + "\n[extra]\nx = 1\n", "extra", 21),
        (GOOD.replace('fail_on = "warning"', 'fail_on = "fatal"'), "checks.fail_on", 18),
        (GOOD.replace('role = "report"', 'role = "reports"'), "inputs.role", 12),
    ],
)
def test_unknown_or_bad_keys_name_key_and_line(tmp_path, text, key, line):
    """A misspelt key is an error naming the key and its line, never silently ignored."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.location.field == key
    assert caught.value.location.row == line
    assert "fpstat.toml" in caught.value.one_line()


def test_invalid_toml_names_the_line(tmp_path):
    """A syntax error gives the line number from the TOML parser."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[run]\nout = \n"))
    assert caught.value.location.row == 2
