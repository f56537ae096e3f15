"""Area names and code changes (区划调整) from an area table, else from the exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from indicators_fixtures import make_run, many, one, rows_of, table_row

from fpstat.errors import UsageError
from fpstat.indicators import compute_indicators, load_areas
from fpstat.indicators.areas import most_frequent_names

OLD_COUNTY = "320321000000"
NEW_COUNTY = "320312000000"


def write_area_table(path: Path) -> Path:
    path.write_text(
        "区划代码,名称,起始年份,终止年份,新代码\n"
        "320321,丰县,1990,2023,320312\n"
        "320312,丰泽区,2024,,\n"
        "320312001,城关街道,2024,,\n"
        "320321001,城关镇,1990,2023,320312001\n",
        encoding="utf-8-sig",
    )
    return path


def test_area_table_with_chinese_headers(tmp_path: Path) -> None:
    """Codes are padded, old codes map to new ones, names follow the valid years."""
    areas = load_areas(write_area_table(tmp_path / "areas.csv"))
    assert areas.mapping == {OLD_COUNTY: NEW_COUNTY, "320321001000": "320312001000"}
    assert areas.name_for(OLD_COUNTY, "2022") == "丰县"
    assert areas.name_for(NEW_COUNTY, "2024") == "丰泽区"


def test_a_mapping_moves_everything_under_the_old_code(tmp_path: Path) -> None:
    """A village under the old county keeps its own digits under the new county's prefix."""
    areas = load_areas(write_area_table(tmp_path / "areas.csv"))
    codes = pd.Series(["320321002003", "320321001004", "320104001001"])
    assert list(areas.remap(codes)) == ["320312002003", "320312001004", "320104001001"]


def test_old_and_new_codes_are_one_area_after_remapping(tmp_path: Path) -> None:
    """Births recorded under the old and the new county code are one county in the roll-up."""
    records = many("planning", "O", 6, sex="M", birth_date="2023-05-01", area_code="320321001001")
    records += many("planning", "N", 4, sex="F", birth_date="2024-05-01", area_code="320312001001")
    records += many("planning", "N2", 2, sex="M", birth_date="2023-06-01", area_code="320312001001")
    run = make_run(tmp_path / "run", records=records)
    areas = write_area_table(tmp_path / "areas.csv")
    table = compute_indicators(run, areas=areas).table
    counties = rows_of(table, "srb", source="planning", level="county")
    assert set(counties["area_code"]) == {NEW_COUNTY}
    entries_2023 = one(table, "duplicate_rate", source="planning", level="county", period="2023")
    assert entries_2023["denominator"] == 8
    assert (
        one(table, "srb", source="planning", level="county", period="2024")["area_name"] == "丰泽区"
    )


def test_names_from_the_exports_take_the_most_frequent() -> None:
    """Without an area table, the name most often written next to a code wins; ties by text."""
    names = most_frequent_names(
        [("1", "城关镇", 3), ("1", "城关街道", 5), ("2", "乙", 2), ("2", "甲", 2)]
    )
    assert names == {"1": "城关街道", "2": "乙"}


def test_names_from_report_tables(tmp_path: Path) -> None:
    """A report table's area names label its rows."""
    row = table_row("report", "320102001000", "2024", births=10, births_male=6, births_female=4)
    row["area_name"] = "城关镇"
    table = compute_indicators(make_run(tmp_path, tables=[row])).table
    assert one(table, "srb", level="township")["area_name"] == "城关镇"


def test_area_table_errors(tmp_path: Path) -> None:
    """A missing file, a missing column or a bad code stop with a usage error."""
    with pytest.raises(UsageError):
        load_areas(tmp_path / "nope.csv")
    (tmp_path / "a.csv").write_text("code\n320102\n", encoding="utf-8")
    with pytest.raises(UsageError, match="name"):
        load_areas(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("code,name\n32010X,甲\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_areas(tmp_path / "b.csv")
    assert caught.value.location.row == 2


def test_cyclic_code_changes_are_refused(tmp_path: Path) -> None:
    """A -> B -> A cannot be resolved."""
    (tmp_path / "c.csv").write_text(
        "code,name,new_code\n320102,甲,320103\n320103,乙,320102\n", encoding="utf-8"
    )
    with pytest.raises(UsageError, match="cycle"):
        load_areas(tmp_path / "c.csv")
