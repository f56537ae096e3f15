"""Normalisers of the data contract: IDs, dates, sex, birth order, yes/no, area codes, counts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpstat.schema import normalise as norm

AS_OF = dt.date(2025, 6, 30)


def cells(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="string[pyarrow]")


def ids(*values: str | None, kinds: list[str | None] | None = None) -> norm.NormalisedIds:
    return norm.normalise_resident_ids(cells(*values), None if kinds is None else cells(*kinds))


# ------------------------------------------------------------------------------ resident IDs

def test_gb11643_published_example_is_valid():
    """The standard's example 11010519491231002X is valid: born 1949-12-31, female (seq 002)."""
    result = ids("11010519491231002X")
    assert result.values.tolist() == ["11010519491231002X"]
    assert result.reasons.isna().all()
    assert result.birth_dates.tolist() == [dt.date(1949, 12, 31)]
    assert result.sexes.tolist() == ["F"]


def test_check_character_is_iso7064_mod_11_2():
    """The check character of the standard's example body is X."""
    assert norm.id_check_character("11010519491231002") == "X"
    assert norm.id_check_character("44052418800101001") == "4"


def test_fifteen_digit_id_is_upgraded():
    """110105491231002 (first generation) becomes 11010519491231002X, as GB 11643 shows."""
    result = ids("110105491231002")
    assert result.values.tolist() == ["11010519491231002X"]
    assert result.reasons.isna().all()


def test_lower_case_x_and_full_width_digits_are_normalised():
    """A lower-case x and full-width characters give the same upper-case ID."""
    result = ids("11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", " 11010519491231002X ")
    assert result.values.tolist() == ["11010519491231002X"] * 3


def test_text_markers_of_spreadsheet_exports_are_unwrapped():
    """A leading apostrophe or an ="..." wrapper is formatting, not part of the ID."""
    result = ids("'11010519491231002X", '="11010519491231002X"')
    assert result.values.tolist() == ["11010519491231002X"] * 2


@pytest.mark.parametrize(
    "value",
    ["11010519491231002Y", "110105194912310021", "11010519491331002X", "1101051949123100",
     "ABCDEFGHIJKLMNOPQR", "11010519490230002X"[:-1] + "0", "110105491331002"],
)
def test_invalid_ids_are_rejected_not_repaired(value):
    """Wrong check character, impossible embedded date, bad length or letters: id-invalid."""
    result = ids(value)
    assert result.values.isna().all()
    assert result.reasons.tolist() == ["id-invalid"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("3.10101E+17", "s"), ("3.20581199001011e+17", "n"), ("320581199001011000", "n"),
     ("110105194912310000.0", "s"), ("1.10105194912310E+17", "s")],
)
def test_ids_that_went_through_a_float_are_precision_lost(value, kind):
    """Scientific notation, a .0 tail with 16+ digits, or 16+ digits from a number cell."""
    result = ids(value, kinds=[kind])
    assert result.reasons.tolist() == ["id-precision-lost"]
    assert result.values.isna().all()


def test_fifteen_digit_id_from_a_number_cell_is_exact():
    """A 15-digit number is exact in a double, so a number cell can hold a first-generation ID."""
    assert ids("110105491231002", kinds=["n"]).values.tolist() == ["11010519491231002X"]


def test_blank_id_has_no_value_and_no_reason():
    """Blank IDs are allowed (hospitals, censuses): null value, no problem."""
    result = ids(None, "")
    assert result.values.isna().all() and result.reasons.isna().all()


id_bodies = st.builds(
    lambda area, day, seq: f"{area:06d}{day:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999),
    st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
    st.integers(0, 999),
)


def with_check(body: str) -> str:
    return body + norm.id_check_character(body)


@given(st.lists(id_bodies, min_size=1, max_size=25))
def test_id_check_round_trip(bodies):
    """Any area + real date + sequence with its computed check character is valid."""
    full = [with_check(body) for body in bodies]
    result = ids(*full)
    assert result.values.tolist() == full
    assert result.birth_dates.tolist() == [
        dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14])) for body in bodies]
    assert result.sexes.tolist() == ["M" if int(body[16]) % 2 else "F" for body in bodies]


@given(st.lists(st.tuples(id_bodies, st.integers(0, 17), st.sampled_from(list("0123456789X"))),
                min_size=1, max_size=25))
def test_any_single_character_change_invalidates_an_id(changes):
    """MOD 11-2 detects every single-character substitution."""
    changed = []
    for body, position, replacement in changes:
        full = with_check(body)
        if full[position] != replacement:
            changed.append(full[:position] + replacement + full[position + 1:])
    if changed:
        assert ids(*changed).reasons.tolist() == ["id-invalid"] * len(changed)


@given(st.lists(id_bodies, min_size=1, max_size=25))
def test_id_normaliser_is_idempotent(bodies):
    """Normalising normalised IDs gives them back, with the same decoded date and sex."""
    first = ids(*[with_check(body) for body in bodies])
    again = norm.normalise_resident_ids(first.values)
    assert again.values.tolist() == first.values.tolist()
    assert again.birth_dates.tolist() == first.birth_dates.tolist()


@pytest.mark.parametrize(
    ("born", "real"),
    [("20000229", True), ("20240229", True), ("19000229", False), ("20230229", False),
     ("20230431", False), ("20231231", True), ("00000101", False), ("20231301", False)],
)
def test_embedded_dates_follow_the_gregorian_calendar(born, real):
    """Leap years (2000 yes, 1900 no), month lengths and month numbers decide if an ID is valid."""
    result = ids(with_check("320581" + born + "011"))
    assert result.reasons.isna().all() == real
    if real:
        assert result.birth_dates.tolist() == [dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))]


# ------------------------------------------------------------------------------ dates

@pytest.mark.parametrize(
    ("text", "kind"),
    [("2010-07-14", "s"), ("2010/7/14", "s"), ("2010.07.14", "s"), ("20100714", "s"),
     ("2010年7月14日", "s"), ("2010-7-14 00:00:00", "s"), ("40373", "n"), ("40373", "s"),
     ("40373.5", "n"), ("20100714", "n"), ("2010-07-14", "d"), ("2010-07-14 08:30:00", "d"),
     ("２０１０年７月１４日", "s"), ("2010-07-14T00:00:00", "s")],
)
def test_every_date_form_of_the_contract_parses(text, kind):
    """ISO, slashes, dots, compact, Chinese, with time, Excel serials, full-width: 2010-07-14."""
    result = norm.normalise_dates(cells(text), cells(kind), as_of=AS_OF)
    assert result.values.tolist() == [dt.date(2010, 7, 14)]
    assert result.reasons.isna().all()


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2010-02-30", "invalid-date"), ("2010-13-01", "invalid-date"), ("14/07/2010", "invalid-date"),
     ("yesterday", "invalid-date"), ("2010-07", "invalid-date"), ("1899-12-31", "date-out-of-range"),
     ("2025-07-01", "date-out-of-range"), ("2010/07-14", "invalid-date")],
)
def test_bad_dates_are_rejected_with_their_reason(text, reason):
    """Impossible or ambiguous dates are invalid; dates outside 1900-01-01..as_of out of range."""
    result = norm.normalise_dates(cells(text), as_of=AS_OF)
    assert result.reasons.tolist() == [reason]
    assert result.values.isna().all()


def test_excel_serials_follow_the_1900_date_system():
    """Serial 1 is 1900-01-01, 61 is 1900-03-01, 60 (the phantom 1900-02-29) is no date."""
    assert norm.excel_serial_date(1) == dt.date(1900, 1, 1)
    assert norm.excel_serial_date(59) == dt.date(1900, 2, 28)
    assert norm.excel_serial_date(61) == dt.date(1900, 3, 1)
    assert norm.excel_serial_date(45000) == dt.date(2023, 3, 15)
    assert norm.excel_serial_date(60) is None and norm.excel_serial_date(0) is None


@given(st.dates(dt.date(1900, 3, 1), AS_OF))
def test_every_date_form_of_a_random_date_parses_back(day):
    """Each written form of a date, and its Excel serial, parse back to the same date."""
    serial = str((day - dt.date(1899, 12, 30)).days)
    forms = [day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day:%Y.%m.%d}", f"{day:%Y%m%d}",
             f"{day.year}年{day.month}月{day.day}日", f"{day.year}-{day.month}-{day.day} 00:00:00", serial]
    kinds = ["s"] * 6 + ["n"]
    result = norm.normalise_dates(cells(*forms), cells(*kinds), as_of=AS_OF)
    assert result.values.tolist() == [day] * len(forms)


@given(st.dates(dt.date(1900, 1, 1), AS_OF))
def test_date_normaliser_is_idempotent(day):
    """Normalising the ISO text of a normalised date gives the same date."""
    first = norm.normalise_dates(cells(f"{day.year}年{day.month}月{day.day}日"), as_of=AS_OF).values
    again = norm.normalise_dates(first.astype(str).astype("string[pyarrow]"), as_of=AS_OF).values
    assert again.tolist() == first.tolist()


# ------------------------------------------------------------------------------ coded values

def test_sex_accepts_the_contract_forms_and_never_guesses():
    """男/女, 1/2, M/F, male/female, 男性/女性 map to M/F; 0, 9, 未知, 男女 are invalid-sex."""
    result = norm.normalise_sex(cells("男", "女", "1", "2", "m", "F", "Male", "FEMALE", "男性", "女性", "０",
                                      "9", "未知", "男女", None))
    assert result.values.tolist()[:10] == ["M", "F", "M", "F", "M", "F", "M", "F", "M", "F"]
    assert result.reasons.tolist()[10:14] == ["invalid-sex"] * 4
    assert pd.isna(result.values.iloc[14]) and pd.isna(result.reasons.iloc[14])


@pytest.mark.parametrize(
    ("text", "order"),
    [("1", 1), ("2", 2), ("3", 3), ("4", 3), ("1.0", 1), ("一孩", 1), ("二孩", 2), ("三孩", 3),
     ("多孩", 3), ("第一胎", 1), ("第二胎", 2), ("第5胎", 3), ("四孩", 3), ("三孩及以上", 3), ("头胎", 1)],
)
def test_birth_order_forms(text, order):
    """Numbers, 一孩..多孩, 第一胎...: 1, 2 or 3 (three or more)."""
    result = norm.normalise_birth_order(cells(text))
    assert result.values.tolist() == [order] and result.reasons.isna().all()


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "孩", "很多", "第零胎"])
def test_bad_birth_orders_are_rejected(text):
    """Zero, negatives, fractions and words that are no order: invalid-birth-order."""
    assert norm.normalise_birth_order(cells(text)).reasons.tolist() == ["invalid-birth-order"]


def test_within_policy_and_migrant_flags():
    """The contract's words for yes and no, and anything else invalid-boolean."""
    policy = norm.normalise_within_policy(cells("符合政策", "政策内", "是", "1", "Y", "TRUE", "政策外",
                                                "不符合", "否", "0", "n", "也许"))
    assert policy.values.tolist()[:11] == [True] * 6 + [False] * 5
    assert policy.reasons.tolist()[11] == "invalid-boolean"
    migrant = norm.normalise_migrant(cells("流入", "流动", "是", "否", "本地", "户籍", "非流动", "外星"))
    assert migrant.values.tolist()[:7] == [True, True, True, False, False, False, False]
    assert migrant.reasons.tolist()[7] == "invalid-boolean"


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [("320581", "s", "320581000000"), ("320581101", "s", "320581101000"),
     ("320581101203", "n", "320581101203"), ("3.20581101203e+11", "n", "320581101203"),
     ("320581101203.0", "s", "320581101203"), ("32", "s", "320000000000"), ("3205", "s", "320500000000"),
     ("３２０５８１", "s", "320581000000")],
)
def test_area_codes_are_padded_exactly(text, kind, code):
    """2/4/6/9/12-digit codes right-padded; a number cell's float repr converted exactly."""
    result = norm.normalise_area_codes(cells(text), cells(kind))
    assert result.values.tolist() == [code] and result.reasons.isna().all()


@pytest.mark.parametrize(
    ("text", "kind"),
    [("3205811", "s"), ("32058110120X", "s"), ("3.20581E+11", "s"), ("320581101203.5", "n"),
     ("城关镇", "s"), ("3.2058110120355e+11", "n")],
)
def test_bad_area_codes_are_rejected(text, kind):
    """Wrong length, letters, scientific notation typed as text, fractions: invalid-area-code."""
    assert norm.normalise_area_codes(cells(text), cells(kind)).reasons.tolist() == ["invalid-area-code"]


def test_counts_accept_whole_numbers_in_their_written_forms():
    """12, 1,234, 12.0, full-width, and a dash meaning no figure; -3, 2.5, abc are invalid."""
    result = norm.normalise_counts(cells("12", "1,234", "12.0", "１２", "—", "-3", "2.5", "abc", "1.2e3"),
                                   cells("n", "s", "n", "s", "s", "n", "n", "s", "n"))
    assert result.values.tolist()[:4] == [12, 1234, 12, 12] and pd.isna(result.values.iloc[4])
    assert result.reasons.iloc[:5].isna().all()
    assert result.reasons.tolist()[5:8] == ["invalid-number"] * 3
    assert result.values.tolist()[8] == 1200


def test_periods_with_and_without_the_sheet_year():
    """Full periods parse on their own; 3月 and 第一季度 need the year the sheet names."""
    result = norm.normalise_periods(cells("2024", "2024统计年度", "2024年3月", "3月", "第一季度", "春天"), 2024)
    assert result.values.tolist()[:5] == ["2024", "2024SY", "2024-03", "2024-03", "2024-Q1"]
    assert result.reasons.tolist()[5] == "invalid-period"
    assert norm.normalise_periods(cells("3月")).reasons.tolist() == ["invalid-period"]


@settings(max_examples=60)
@given(st.sampled_from(["男", "女", "1", "2", "M", "female"]), st.sampled_from(["一孩", "2", "多孩", "第三胎"]),
       st.sampled_from(["320581", "32058110120", "3205", "320581101203"]))
def test_coded_normalisers_are_idempotent(sex, order, area):
    """Sex, birth order and area codes normalise their own output to itself."""
    for normaliser, value in ((norm.normalise_sex, sex), (norm.normalise_birth_order, order),
                              (norm.normalise_area_codes, area)):
        first = normaliser(cells(value)).values
        again = normaliser(first.astype(str).astype("string[pyarrow]")).values
        assert again.tolist() == first.tolist()
