"""``fpstat sample``: reproducible synthetic drops whose truth/ folder matches what was written.

Exports are read back here with python-calamine and the csv module, and checked against the
data contract by a small validator written from ``spec/data-contract.md`` (not with fpstat's
own reader, which is tested against these drops elsewhere).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from scipy import stats
from typer.testing import CliRunner

from fpstat.config import load_config
from fpstat.errors import UsageError
from fpstat.sample import generate_sample
from fpstat.sample.geography import SIZES, build_geography, choose_parts
from fpstat.sample.population import true_births
from fpstat.sample.sources import capture_births

AS_OF = dt.date(2026, 1, 31)
ROLES = ("planning", "police", "census", "hospital", "education")
PREFIXES = {"planning": "JS", "police": "GA", "census": "PC", "hospital": "CS", "education": "JY"}

# ---------------------------------------------------------------- the contract, from the spec

ALIASES = {
    "record_id": ("编号", "序号", "记录号", "流水号"),
    "child_id": ("公民身份号码", "身份证号", "身份证号码", "证件号码", "婴儿身份证号"),
    "child_name": ("姓名", "婴儿姓名", "子女姓名", "孩子姓名"),
    "sex": ("性别", "婴儿性别"),
    "birth_date": ("出生日期", "出生时间", "生日", "出生年月日"),
    "mother_id": ("母亲身份证号", "母亲公民身份号码", "母亲证件号码", "育龄妇女身份证号"),
    "mother_name": ("母亲姓名", "育龄妇女姓名", "妻子姓名"),
    "area_code": ("行政区划代码", "统计用区划代码", "区划代码", "地区代码", "村(居)代码", "户籍地行政区划代码"),
    "area_name": ("地区", "单位", "村(居)委会", "乡镇(街道)", "户籍地"),
    "birth_order": ("孩次", "生育孩次", "胎次"),
    "within_policy": ("政策属性", "是否符合政策", "政策内外"),
    "registered_on": ("登记日期", "落户日期", "申报日期", "户口登记日期"),
    "migrant": ("流动人口", "是否流动人口", "户籍性质"),
}


def contract_field(header: str) -> str | None:
    """The field a header names: an alias, else the spec's "matched by ending" rules."""
    text = header.strip().replace("（", "(").replace("）", ")")
    for field, names in ALIASES.items():
        if text in names:
            return field
    if text.endswith("编号") and "身份" not in text:
        return "record_id"
    for ending, field in (("性别", "sex"), ("出生日期", "birth_date"), ("出生年月日", "birth_date")):
        if text.endswith(ending) and not text.startswith("母亲"):
            return field
    if text.endswith("代码") and any(word in text for word in ("区划", "地", "区", "村", "居")):
        return "area_code"
    if text.startswith("母亲") and (text.endswith("身份证号") or text.endswith("证件号码")):
        return "mother_id"
    return None


def id_problem(value: Any) -> str | None:
    """GB 11643: 18 characters with a right ISO 7064 MOD 11-2 check and a real date; 15 upgrade."""
    if value is None:
        return None
    if isinstance(value, float) or re.fullmatch(r"\d(\.\d+)?E\+\d+", str(value), re.IGNORECASE):
        return "id-precision-lost"
    text = str(value).upper()
    if re.fullmatch(r"\d{15}", text):
        text = text[:6] + "19" + text[6:]
        text += check_character(text)
    if not re.fullmatch(r"\d{17}[\dX]", text) or check_character(text[:17]) != text[17]:
        return "id-invalid"
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "id-invalid"
    return None


def check_character(body: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def parse_date(value: Any) -> dt.date | str:
    """A date, or the reason code a correct reader gives."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, float):
        day = dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    else:
        match = (re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
                 or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", value)
                 or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value))
        if not match:
            return "invalid-date"
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            return "invalid-date"
    return day if dt.date(1900, 1, 1) <= day <= AS_OF else "date-out-of-range"


def normal(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


VALUE_SETS = {
    "sex": ({"男": "M", "女": "F", "1": "M", "2": "F", "M": "M", "F": "F"}, "invalid-sex"),
    "birth_order": ({"1": 1, "2": 2, "3": 3, "一孩": 1, "二孩": 2, "三孩": 3, "多孩": 3}, "invalid-birth-order"),
    "within_policy": ({"符合政策": True, "政策内": True, "是": True, "政策外": False, "否": False}, "invalid-boolean"),
    "migrant": ({"是": True, "流动": True, "流入": True, "否": False, "本地": False, "户籍": False}, "invalid-boolean"),
}
REQUIRED = ("birth_date", "sex", "area_code")


def check_row(fields: list[str | None], cells: list[Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Values of one data row, and its problems as (field, reason code)."""
    values: dict[str, Any] = {}
    problems = []
    for field, cell in zip(fields, cells, strict=False):
        if field is None:
            continue
        if cell is None or cell == "":
            if field in REQUIRED:
                problems.append((field, "missing-value"))
            continue
        if field in ("child_id", "mother_id"):
            reason = id_problem(cell)
        elif field in ("birth_date", "registered_on"):
            parsed = parse_date(cell)
            reason = parsed if isinstance(parsed, str) else None
            values[field] = parsed
        elif field == "area_code":
            reason = None if re.fullmatch(r"\d{6}|\d{9}|\d{12}", normal(cell)) else "invalid-area-code"
            values[field] = normal(cell).ljust(12, "0")
        elif field in VALUE_SETS:
            table, code = VALUE_SETS[field]
            reason = None if normal(cell) in table else code
            values[field] = table.get(normal(cell))
        else:
            reason = None
            values[field] = cell
        if reason:
            problems.append((field, reason))
    return values, problems


# ---------------------------------------------------------------- reading the exports back

def read_sheet(path: Path, sheet: str) -> dict[int, list[Any]]:
    """Row number (1-based, as Excel or an editor shows it) -> cells (None when blank)."""
    if path.suffix == ".xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        return {n: [None if c == "" else c for c in row] for n, row in enumerate(rows, start=1)}
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("gbk")
    return {n: [c or None for c in cells] for n, cells in enumerate(csv.reader(text.splitlines()), start=1)}


def header_row(rows: dict[int, list[Any]]) -> int:
    return max(range(1, 6), key=lambda n: sum(1 for c in rows.get(n, []) if isinstance(c, str) and contract_field(c)))


def truth(drop: Path, name: str) -> pd.DataFrame:
    if name.endswith(".parquet"):
        return pd.read_parquet(drop / "truth" / name)
    return pd.read_csv(drop / "truth" / name, encoding="utf-8-sig", dtype={"area_code": str, "period": str,
                                                                          "sheet": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The default small drop (the one bundled as sample_data/)."""
    drop = tmp_path_factory.mktemp("small")
    return drop, generate_sample(drop)


@pytest.fixture(scope="module")
def read_back(small: tuple[Path, Any]) -> dict[tuple[str, str], dict[int, list[Any]]]:
    drop, _ = small
    records = truth(drop, "records.parquet")
    return {(file, sheet): read_sheet(drop / file, sheet)
            for file, sheet in records[["file", "sheet"]].drop_duplicates().itertuples(index=False)}


# ---------------------------------------------------------------- tests

def test_same_seed_gives_identical_bytes_and_another_seed_other_bytes(tmp_path: Path) -> None:
    """Two runs with one seed write byte-identical files; a different seed changes every export."""
    first = generate_sample(tmp_path / "a", births=800, seed=5)
    second = generate_sample(tmp_path / "b", births=800, seed=5)
    generate_sample(tmp_path / "c", births=800, seed=6)
    assert first.files == second.files
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    changed = [name for name in first.files
               if (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()]
    assert set(changed) >= {name for name in first.files if name.split("/")[0] in ROLES + ("truth", "report")}


def test_small_drop_has_every_file_and_fits_in_two_megabytes(small) -> None:
    """All sources, the report, config, README and the five truth files; under 2 MB in all."""
    drop, summary = small
    names = set(summary.files)
    assert {"fpstat.toml", "README.md", "report/人口计生统计报表.xlsx"} <= names
    assert {f"truth/{n}" for n in ("births.parquet", "records.parquet", "rejects.csv", "totals.csv",
                                   "injected.json")} <= names
    for role in ROLES:
        assert any(name.startswith(f"{role}/") for name in names), role
    assert len([n for n in names if n.startswith("planning/")]) == 3  # one workbook per county
    assert sum((drop / name).stat().st_size for name in names) < 2_000_000
    assert summary.births == 3000


def test_every_truth_row_sits_where_the_truth_says(small, read_back) -> None:
    """Each record's number is at its file, sheet and row; totals rows say 合计; no row is left out."""
    drop, _ = small
    records = truth(drop, "records.parquet")
    for (file, sheet), group in records.groupby(["file", "sheet"]):
        rows = read_back[(file, sheet)]
        for record in group.itertuples():
            expected = "合计" if record.reason_code == "totals-row" else record.record_id
            assert rows[record.row][0] == expected, (file, sheet, record.row)
        data_rows = {n for n, cells in rows.items() if n > header_row(rows) and any(c is not None for c in cells)}
        assert data_rows == set(group["row"]), (file, sheet)


def test_rejected_rows_break_one_contract_rule_and_valid_rows_none(small, read_back) -> None:
    """Read by the contract, each rejected row fails with its true field and reason; others pass."""
    drop, _ = small
    records = truth(drop, "records.parquet")
    records = records[records["reason_code"] != "totals-row"]
    seen: Counter[str] = Counter()
    for (file, sheet), group in records.groupby(["file", "sheet"]):
        rows = read_back[(file, sheet)]
        headers = rows[header_row(rows)]
        fields = [contract_field(h) if isinstance(h, str) else None for h in headers]
        named = [f for f in fields if f]
        assert len(named) == len(set(named)) == len(headers), (file, headers)  # every header placed once
        for record in group.itertuples():
            _, problems = check_row(fields, rows[record.row])
            expected = [] if record.status == "valid" else [(record.field, record.reason_code)]
            assert problems == expected, (file, sheet, record.row)
            seen[record.status] += 1
    for role in ROLES:
        reasons = set(records.loc[(records["role"] == role) & (records["status"] == "rejected"), "reason_code"])
        assert {"id-precision-lost", "id-invalid", "missing-value", "invalid-date", "date-out-of-range",
                "invalid-sex", "invalid-area-code"} <= reasons, role
    assert 0.002 < seen["rejected"] / len(records) < 0.006


def test_truth_folder_is_consistent_with_itself(small) -> None:
    """Births, records, rejects and totals agree: flags, duplicates, IDs and counts."""
    drop, summary = small
    births = truth(drop, "births.parquet")
    records = truth(drop, "records.parquet")
    data = records[records["reason_code"] != "totals-row"]
    for role in ROLES:
        held = set(data.loc[data["role"] == role, "birth_uid"])
        assert held == set(births.loc[births[f"in_{role}"], "birth_uid"]), role
        ids = data.loc[data["role"] == role, "record_id"]
        assert ids.is_unique and ids.str.fullmatch(PREFIXES[role] + r"\d{6}").all()
    duplicates = data[data["is_duplicate"]]
    assert set(duplicates["role"]) == {"planning"} and summary.duplicates == len(duplicates)
    assert 0.005 < len(duplicates) / births["in_planning"].sum() < 0.02
    assert births["mother_id"].duplicated().any() and births["child_id"].dropna().is_unique
    assert all(id_problem(value) is None for value in births["mother_id"])
    assert all(id_problem(value) is None for value in births["child_id"].dropna())
    rejects = truth(drop, "rejects.csv")
    assert len(rejects[rejects["role"].isin(ROLES)]) == (records["status"] == "rejected").sum()
    assert {"report", "population"} <= set(rejects["role"])
    totals = truth(drop, "totals.csv")
    born = pd.to_datetime(births["birth_date"])
    true_sy = born.dt.year + (born.dt.month >= 10)
    for level in ("province", "prefecture", "county", "township", "village"):
        for period in ("2024SY", "2025SY"):
            rows = totals[(totals["level"] == level) & (totals["period"] == period)]
            assert rows["births"].sum() == (true_sy == int(period[:4])).sum()
    assert (totals["births"] == totals["births_male"] + totals["births_female"]).all()
    assert set(totals["level"]) == {"province", "prefecture", "county", "township", "village"}


def test_capture_is_lower_for_girls_later_births_out_of_policy_and_migrants() -> None:
    """Missed births are more often girls, later, out of policy or migrants: an unstratified
    two-list (Lincoln-Petersen) estimate is biased low."""
    rng = np.random.default_rng(11)
    geo = build_geography(SIZES["medium"], rng)
    parts = choose_parts(geo, rng)
    births = true_births(geo, 40_000, rng)
    captured = capture_births(births, parts, rng).captured
    for role in ("planning", "police", "census"):
        held = pd.Series(captured[role])
        assert held[births["sex"].eq("F").to_numpy()].mean() < held[births["sex"].eq("M").to_numpy()].mean()
        assert held[(births["birth_order"] == 3).to_numpy()].mean() < held[(births["birth_order"] == 1).to_numpy()].mean()
        assert held[~births["within_policy"].to_numpy()].mean() < held[births["within_policy"].to_numpy()].mean()
        assert held[births["migrant"].to_numpy()].mean() < held[~births["migrant"].to_numpy()].mean()
    n1, n2 = captured["planning"].sum(), captured["police"].sum()
    both = (captured["planning"] & captured["police"]).sum()
    estimate = n1 * n2 / both
    se = np.sqrt(n1 * n2 * (n1 - both) * (n2 - both) / both**3)
    assert estimate < len(births) - 3 * se


def test_report_follows_the_register_except_where_injected(small, read_back) -> None:
    """Reported births are the register's accepted, de-duplicated births by township and year,
    except the one planted mismatch; boys + girls = births except the planted relation error."""
    drop, _ = small
    injected = json.loads((drop / "truth" / "injected.json").read_text("utf-8"))
    records = truth(drop, "records.parquet")
    planning = records[(records["role"] == "planning") & (records["status"] == "valid")]
    register = []
    for (file, sheet), group in planning.groupby(["file", "sheet"]):
        rows = read_back[(file, sheet)]
        fields = [contract_field(h) if isinstance(h, str) else None for h in rows[header_row(rows)]]
        for record in group.itertuples():
            values, _ = check_row(fields, rows[record.row])
            sy = values["birth_date"].year + (values["birth_date"].month >= 10)
            register.append((record.record_id, record.birth_uid, values["area_code"][:9], f"{sy}SY"))
    register_frame = pd.DataFrame(register, columns=["record_id", "birth_uid", "township", "sy"])
    register_frame = register_frame.sort_values("record_id").drop_duplicates("birth_uid")
    counted = register_frame.groupby(["township", "sy"]).size()

    sheet = CalamineWorkbook.from_path(str(drop / "report/人口计生统计报表.xlsx")).get_sheet_by_name("年度报表")
    rows = sheet.to_python()
    annual = pd.DataFrame(rows[3:], columns=rows[2])
    townships = annual[annual["区划代码"] != ""]
    mismatch = injected["report_mismatch"]
    for row in townships.itertuples(index=False):
        code, sy, births = row[0], row[2][:4] + "SY", int(row[4])
        expected = counted.get((code, sy), 0)
        if (code.ljust(12, "0"), sy) == (mismatch["area_code"], mismatch["period"]):
            assert births == mismatch["reported_births"] > expected == mismatch["register_births"]
        else:
            assert births == expected, (code, sy)
    unbalanced = townships[townships["出生男"] + townships["出生女"] != townships["出生人数"]]
    assert [(c.ljust(12, "0"), p[:4] + "SY") for c, p in zip(unbalanced["区划代码"], unbalanced["统计年度"], strict=True)] == [
        (injected["relation_error"]["area_code"], injected["relation_error"]["period"])
    ]
    assert (townships["落实节育措施人数"] <= townships["已婚育龄妇女数"]).all()
    assert (townships["已婚育龄妇女数"] <= townships["育龄妇女数"]).all()
    totals = annual[annual["乡镇(街道)"] == "合计"]
    for _, total in totals.iterrows():
        year = townships[townships["统计年度"] == total["统计年度"]]
        assert total["出生人数"] == year["出生人数"].sum() and total["总人口"] == year["总人口"].sum()


def test_planted_area_problems_are_there_to_find(small) -> None:
    """Heaped policy rates, a volatile monthly sex ratio, a sex-misreporting township, hidden
    births and a population gap are all present at the strength the truth says."""
    drop, _ = small
    injected = json.loads((drop / "truth" / "injected.json").read_text("utf-8"))
    book = CalamineWorkbook.from_path(str(drop / "report/人口计生统计报表.xlsx"))
    heaped = [rate["reported_rate"] for rate in injected["heaping"]["rates"]]
    assert sum(92.0 <= rate < 93.0 for rate in heaped) >= 0.8 * len(heaped)
    assert not any(91.0 <= rate < 92.0 for rate in heaped)

    monthly_rows = book.get_sheet_by_name("月报").to_python()
    monthly = pd.DataFrame(monthly_rows[2:], columns=monthly_rows[1])
    monthly = monthly[monthly["区划代码"].str.startswith(injected["srb_swing"]["area_code"][:6])]
    by_month = monthly.groupby("月份")[["出生男", "出生女"]].sum().to_numpy()
    assert stats.chi2_contingency(by_month)[1] < 0.001

    misreport = injected["sex_misreport"]
    inside = misreport["girls_entered_as_boys"] / misreport["girls_in_register"]
    elsewhere = misreport["girls_entered_as_boys_elsewhere"] / misreport["girls_in_register_elsewhere"]
    assert inside > 0.04 and inside > 10 * elsewhere

    totals = truth(drop, "totals.csv")
    towns = totals[(totals["level"] == "township") & totals["period"].str.endswith("SY")]
    towns = towns.groupby("area_code")[["births", "planning_births"]].sum()
    capture = towns["planning_births"] / towns["births"]
    hidden = [entry["area_code"] for entry in injected["hidden_births"]]
    assert capture[hidden].max() < 0.78 < capture.drop(hidden).median()

    bureau_rows = book.get_sheet_by_name("统计局人口").to_python()
    bureau = pd.DataFrame(bureau_rows[2:], columns=bureau_rows[1])
    gap = injected["population_gap"]
    for period, reported in gap["report_population"].items():
        row = bureau[(bureau["区划代码"] == gap["area_code"][:6]) & (bureau["统计年度"] == period[:4] + "统计年度")]
        assert row["年末总人口"].iloc[0] / reported == pytest.approx(1 + gap["percent"] / 100, abs=0.001)


def test_config_runs_on_the_drop(small) -> None:
    """fpstat.toml loads, lists every export with a role, and judges dates by the drop's as-of."""
    drop, summary = small
    config = load_config(drop / "fpstat.toml")
    assert config.as_of == AS_OF and config.period == "sy"
    listed = {(entry.role, entry.path) for entry in config.inputs}
    exports = {name for name in summary.files if name.split("/")[0] in ROLES}
    assert {path for role, path in listed if role in ROLES} == exports
    assert all(role == path.split("/")[0] for role, path in listed if role in ROLES)
    assert {role for role, _ in listed} == set(ROLES) | {"report", "population"}
    assert "合成数据" in (drop / "README.md").read_text("utf-8") and "synthetic" in (drop / "README.md").read_text("utf-8")


def test_exports_use_their_offices_encodings(small) -> None:
    """Police CSVs are GBK (not UTF-8); the hospital CSV is UTF-8 with a BOM."""
    drop, summary = small
    for name in summary.files:
        raw = (drop / name).read_bytes()
        if name.startswith("police/"):
            raw.decode("gbk")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        if name.startswith("hospital/"):
            assert raw.startswith(b"\xef\xbb\xbf")


def test_large_mode_writes_one_parquet_and_csv_per_source(tmp_path: Path) -> None:
    """--size large: <role>.parquet and <role>.csv with the same rows; truth rows count the header."""
    summary = generate_sample(tmp_path, size="large", births=20_000)
    records = truth(tmp_path, "records.parquet")
    for role in ROLES:
        assert f"{role}.parquet" in summary.files and f"{role}.csv" in summary.files
        table = pd.read_parquet(tmp_path / f"{role}.parquet")
        text = pd.read_csv(tmp_path / f"{role}.csv", dtype=str, keep_default_na=False)
        ours = records[records["role"] == role].sort_values("row")
        assert list(ours["file"].unique()) == [f"{role}.parquet"]
        assert ours["row"].tolist() == list(range(2, len(table) + 2))
        assert table["record_id"].tolist() == ours["record_id"].tolist() == text["编号"].tolist()
        assert {"record_id", "sex", "birth_date", "area_code"} <= set(table.columns)
        assert (ours["status"] == "rejected").any()
        spoiled = ours.loc[ours["reason_code"] == "id-precision-lost"]
        for row in spoiled.itertuples():
            assert re.fullmatch(r"\d\.\d{5}E\+17", table.iloc[row.row - 2][row.field])


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    """An unknown size, too few births, or too many for workbooks stop with a bilingual error."""
    for options in ({"size": "huge"}, {"births": 10}, {"births": 300_000}):
        with pytest.raises(UsageError) as caught:
            generate_sample(tmp_path, **options)
        assert caught.value.message_en and caught.value.message_zh


def test_command_prints_the_summary_as_json(tmp_path: Path) -> None:
    """`fpstat sample --json` prints what generate_sample returned; a bad size exits 2."""
    import fpstat.cli.main  # noqa: F401 - registers the commands
    from fpstat.cli.app import app

    result = CliRunner().invoke(app, ["sample", str(tmp_path / "drop"), "--births", "600", "--seed", "9", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["births"] == 600 and printed["seed"] == 9 and "truth/records.parquet" in printed["files"]
    assert printed["rows"]["planning"] > 0 and printed["rejected"]["report"] > 0
    bad = CliRunner().invoke(app, ["sample", str(tmp_path / "other"), "--size", "huge"])
    assert bad.exit_code == 2
    help_text = CliRunner().invoke(app, ["sample", "--help"]).output
    assert "fpstat sample drop/ --size medium --seed 7" in help_text
