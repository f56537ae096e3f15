"""``fpstat validate``: exit codes, tables, --json parity with the library, --out files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fpstat.cli.main  # noqa: F401 - registers the commands on the app
from fpstat.cli.app import app
from fpstat.rundir import RunDir
from fpstat.schema import InputSpec, load_inputs
from fpstat.schema.normalise import id_check_character

runner = CliRunner()
AS_OF = "2025-06-30"
HEADER = "公民身份号码,姓名,性别,出生日期,户籍地行政区划代码\n"


def valid_id(born: str, sequence: str = "011") -> str:
    body = "320581" + born + sequence
    return body + id_check_character(body)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "公安户籍出生登记.csv"
    path.write_text(HEADER + f"{valid_id('20240314')},张三,男,2024-03-14,320581101203\n", encoding="utf-8")
    return path


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "公安户籍出生登记_南门镇.csv"
    path.write_text(
        HEADER
        + f"{valid_id('20240314')},张三,男,2024-03-14,320581101203\n"
        + "3.20581E+17,李四,未知,2024-02-30,320581101\n"
        + f"{valid_id('20240501', '022')},王五,女,2024/5/1,3205811\n",
        encoding="utf-8",
    )
    return path


def invoke(*args: str):
    return runner.invoke(app, ["validate", *args, "--as-of", AS_OF])


def test_help_shows_an_example():
    """validate --help explains the command and gives examples."""
    result = runner.invoke(app, ["validate", "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output and "fpstat validate" in result.output


def test_a_clean_file_exits_0(clean):
    """Nothing rejected: exit 0 and a summary line in both languages."""
    result = invoke(str(clean))
    assert result.exit_code == 0, result.output
    assert "1 rows read, 1 accepted, 0 rejected" in result.output and "接受 1 行" in result.output


def test_rejected_rows_exit_1_and_are_listed_by_reason(messy):
    """Rows rejected: exit 1; the table names each reason code and a first location."""
    result = invoke(str(messy))
    assert result.exit_code == 1, result.output
    for code in ("id-precision-lost", "invalid-sex", "invalid-date", "invalid-area-code"):
        assert code in result.output
    assert "3 rows read, 1 accepted, 2 rejected (4 problems)" in result.output


def test_json_output_equals_the_library_result(messy):
    """--json prints exactly the library's summary of the same inputs."""
    result = invoke(str(messy), "--json")
    assert result.exit_code == 1
    printed = json.loads(result.stdout)
    library = load_inputs([InputSpec(str(messy))], as_of=dt.date.fromisoformat(AS_OF)).summary()
    assert printed == json.loads(json.dumps(library))
    assert printed["totals"]["rows_rejected"] == 2
    assert [item["reason_code"] for item in printed["reasons"]] == [
        "id-precision-lost", "invalid-area-code", "invalid-date", "invalid-sex"]


def test_out_writes_manifest_and_rejects(messy, tmp_path):
    """--out DIR writes manifest.json (inputs, parameters) and rejects.csv (one row per problem)."""
    out = tmp_path / "run"
    result = invoke(str(messy), "--out", str(out), "--quiet")
    assert result.exit_code == 1 and result.output == ""
    run = RunDir(out)
    manifest = run.read_json("manifest.json")
    assert manifest["parameters"]["command"] == "validate" and manifest["parameters"]["as_of"] == AS_OF
    [entry] = manifest["inputs"]
    assert (entry["role"], entry["rows_read"], entry["rows_accepted"], entry["rows_rejected"]) == ("police", 3, 1, 2)
    assert (out / "rejects.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rejects = run.read_csv("rejects.csv")
    assert list(rejects.columns) == ["role", "file", "sheet", "row", "field", "value", "reason_code",
                                     "reason_en", "reason_zh"]
    assert rejects[["row", "field", "reason_code"]].values.tolist() == [
        [3, "birth_date", "invalid-date"], [3, "child_id", "id-precision-lost"], [3, "sex", "invalid-sex"],
        [4, "area_code", "invalid-area-code"]]


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    """An unreadable input: one error line naming the file, exit 2, no traceback."""
    result = invoke(str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nope.csv" in lines[0] and "Traceback" not in result.output


def test_an_ambiguous_role_exits_2_asking_for_role(tmp_path):
    """Headers any source could have: exit 2 with a message asking for --role."""
    path = tmp_path / "名单.csv"
    path.write_text("姓名,性别,出生日期,区划代码\n张三,男,2024-01-02,320581\n", encoding="utf-8")
    result = invoke(str(path))
    assert result.exit_code == 2 and "--role" in result.stderr
    assert invoke(str(path), "--role", "census").exit_code == 0


def test_bad_options_exit_2(clean, tmp_path):
    """An unknown role, a bad --as-of date or a missing mapping file: exit 2."""
    assert invoke(str(clean), "--role", "polis").exit_code == 2
    assert runner.invoke(app, ["validate", str(clean), "--as-of", "yesterday"]).exit_code == 2
    assert invoke(str(clean), "--mapping", str(tmp_path / "missing.toml")).exit_code == 2


def test_a_mapping_file_places_an_odd_header(tmp_path):
    """--mapping names a column fpstat cannot place, and the file validates."""
    path = tmp_path / "公安.csv"
    path.write_text("性别,出生日期,户口所在地\n男,2024-01-02,320581\n", encoding="utf-8")
    assert invoke(str(path)).exit_code == 2  # no area_code column
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('"户口所在地" = "area_code"\n', encoding="utf-8")
    result = invoke(str(path), "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"][0]["columns"]["户口所在地"] == "area_code"
