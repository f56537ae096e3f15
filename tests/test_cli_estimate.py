"""``fpstat estimate``: the model table, --json, options, and errors with file, row and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fpstat.cli.estimate import read_histories
from fpstat.cli.main import app
from fpstat.errors import UnreadableInputError, UsageError
from fpstat.reconcile.multiple_systems import estimate_mse

DATA = Path(__file__).parent / "data" / "histories"
HEPATITIS = DATA / "hepatitis_a_taiwan.csv"

runner = CliRunner()


def run(*arguments: str):
    return runner.invoke(app, ["estimate", *arguments])


def test_json_is_exactly_models_and_chosen() -> None:
    """--json prints {"models": [...], "chosen": ...} with the documented keys per model."""
    result = run(str(HEPATITIS), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["models", "chosen"]
    assert document["chosen"] == "[12,13,23]"
    first = document["models"][0]
    assert {"model", "n_hat", "se", "ci_low", "ci_high", "deviance", "df", "aic", "bic"} <= set(
        first
    )
    assert (first["model"], round(first["n_hat"], 1), first["df"]) == ("[1,2,3]", 388.5, 3)


def test_json_equals_the_library_result() -> None:
    """The CLI's JSON is the library's MSEResult.to_dict() for the same file and options."""
    result = run(str(HEPATITIS), "--json", "--criterion", "bic", "--ci", "lognormal")
    library = estimate_mse(read_histories(HEPATITIS), criterion="bic", ci="lognormal")
    assert json.loads(result.stdout) == json.loads(json.dumps(library.to_dict()))


def test_table_marks_the_chosen_model() -> None:
    """The table lists every model with N, SE, CI, deviance, df, AIC, BIC and marks the choice."""
    result = run(str(HEPATITIS))
    assert result.exit_code == 0
    for text in ("model", "deviance", "AIC", "BIC", "[12,13,23] *", "1312.8", "388.5", "84.156"):
        assert text in result.stdout
    assert "chosen (AIC)" in result.stdout
    assert "asymptotic bias" in result.stderr


def test_two_lists_give_chapman_and_lincoln_petersen_rows() -> None:
    """Two-list input prints the Chapman (chosen) and Lincoln-Petersen rows."""
    result = run(str(DATA / "seber_two_samples.csv"), "--json")
    document = json.loads(result.stdout)
    assert [model["model"] for model in document["models"]] == ["Chapman", "Lincoln-Petersen"]
    assert document["chosen"] == "Chapman"
    assert round(document["models"][1]["n_hat"], 1) == 2389.9


def test_criterion_and_interval_options() -> None:
    """--criterion bic changes the choice on the HIV data; --ci lognormal changes the CI."""
    hiv = str(DATA / "hiv_rome.csv")
    aic = json.loads(run(hiv, "--json", "--ci", "lognormal").stdout)
    bic = json.loads(run(hiv, "--json", "--ci", "lognormal", "--criterion", "bic").stdout)
    assert (aic["chosen"], bic["chosen"]) == ("[12,3,4]", "[1,2,3,4]")
    profile = json.loads(run(str(HEPATITIS), "--json").stdout)
    lognormal = json.loads(run(str(HEPATITIS), "--json", "--ci", "lognormal").stdout)
    assert lognormal["models"][0]["ci_low"] != profile["models"][0]["ci_low"]
    assert run(str(HEPATITIS), "--criterion", "dic").exit_code == 2


def test_missing_count_column_names_file_and_column(tmp_path: Path) -> None:
    """No count column: exit 2 with the file and the column named, in English and Chinese."""
    source = tmp_path / "histories.csv"
    source.write_text("planning,police\n1,1\n", encoding="utf-8")
    result = run(str(source))
    assert result.exit_code == 2
    assert "histories.csv" in result.stderr and "count" in result.stderr
    assert "缺少 count 列" in result.stderr


def test_bad_flag_names_row_and_column(tmp_path: Path) -> None:
    """A value other than 0/1 is reported with its row as a text editor counts it (comments too)."""
    source = tmp_path / "histories.csv"
    source.write_text("# source: test\nplanning,police,count\n1,1,5\n1,2,3\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        read_histories(source)
    assert raised.value.location.row == 4
    assert raised.value.location.field == "police"
    result = run(str(source), "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert (error["error"], error["row"], error["field"]) == ("UsageError", 4, "police")


def test_negative_count_and_unobservable_history(tmp_path: Path) -> None:
    """A negative count, or a count on the all-zero history, is a usage error at its row."""
    source = tmp_path / "negative.csv"
    source.write_text("a,b,count\n1,1,-3\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        read_histories(source)
    assert (raised.value.location.row, raised.value.location.field) == (2, "count")
    source.write_text("a,b,count\n1,1,3\n0,0,4\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        read_histories(source)
    assert raised.value.location.row == 3


def test_unreadable_inputs(tmp_path: Path) -> None:
    """A missing file, an empty file or binary junk: UnreadableInputError, exit 2."""
    with pytest.raises(UnreadableInputError):
        read_histories(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(UnreadableInputError):
        read_histories(empty)
    assert run(str(tmp_path / "missing.csv")).exit_code == 2


def test_gb18030_file_with_chinese_list_names(tmp_path: Path) -> None:
    """A GB18030 export with Chinese column names is read; the names appear in the table."""
    source = tmp_path / "历史.csv"
    source.write_bytes("计生,公安,count\n1,1,49\n1,0,86\n0,1,73\n".encode("gb18030"))
    histories = read_histories(source)
    assert histories.lists == ("计生", "公安")
    result = run(str(source))
    assert result.exit_code == 0 and "1 = 计生" in result.stdout


def test_blank_lines_and_repeated_histories_are_tolerated(tmp_path: Path) -> None:
    """Blank lines are skipped; a history given twice is added up."""
    source = tmp_path / "histories.csv"
    source.write_text("a,b,count\n1,1,20\n\n1,1,29\n1,0,86\n0,1,73\n", encoding="utf-8")
    histories = read_histories(source)
    assert histories.overlap(0, 1) == 49


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    """--quiet without --json prints nothing on stdout."""
    result = run(str(HEPATITIS), "--quiet")
    assert result.exit_code == 0 and result.stdout == ""
