"""NIK parsing: what is accepted, what is refused and why, and that NIKs don't leak."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facegate.domain.nik import (
    PROVINCE_CODES,
    PROVINCES,
    REASONS,
    Nik,
    parse_nik,
    synthetic_nik,
)
from facegate.errors import FacegateError, InvalidNik

TODAY = date(2024, 6, 1)  # fixed "today" so the century rule is deterministic

# 31 DKI Jakarta, 74 Kota Jakarta Selatan, district 01, day 57 = 17 + 40 (woman),
# 08-90, serial 0001.
JAKARTA_WOMAN = "3174015708900001"
# 32 Jawa Barat, 01 Kab. Bogor, district 01, 15-05-85 (man), serial 0003.
BOGOR_MAN = "3201011505850003"


def reason_of(raw: str, *, today: date = TODAY) -> tuple[str, str]:
    with pytest.raises(InvalidNik) as caught:
        parse_nik(raw, today=today)
    return caught.value.details["reason"], caught.value.message


# --- valid NIKs -----------------------------------------------------------


def test_a_woman_from_jakarta_selatan():
    nik = parse_nik(JAKARTA_WOMAN, today=TODAY)

    assert nik.value == JAKARTA_WOMAN
    assert nik.province_code == "31"
    assert nik.province_name == "DKI Jakarta"
    assert nik.regency_code == "74"
    assert nik.district_code == "01"
    assert nik.birth_date == date(1990, 8, 17)
    assert nik.sex == "F"
    assert nik.serial == "0001"


def test_a_man_from_bogor():
    nik = Nik.parse(BOGOR_MAN, today=TODAY)

    assert (nik.province_code, nik.regency_code, nik.district_code) == ("32", "01", "01")
    assert nik.birth_date == date(1985, 5, 15)
    assert nik.sex == "M"
    assert nik.serial == "0003"


@pytest.mark.parametrize(
    ("day_digits", "sex", "day"),
    [("01", "M", 1), ("31", "M", 31), ("41", "F", 1), ("71", "F", 31)],
)
def test_day_ranges_for_men_and_women(day_digits, sex, day):
    nik = parse_nik(f"317401{day_digits}0190" + "0001", today=TODAY)
    assert (nik.sex, nik.birth_date) == (sex, date(1990, 1, day))


@pytest.mark.parametrize("code", ["91", "92", "93", "94", "95", "96"])
def test_all_six_papua_provinces_exist(code):
    assert parse_nik(f"{code}71010101900001", today=TODAY).province_code == code


def test_there_are_38_provinces_and_no_97():
    assert len(PROVINCE_CODES) == 38
    assert set(PROVINCES) == PROVINCE_CODES
    assert PROVINCES["96"] == "Papua Barat Daya"
    assert "97" not in PROVINCE_CODES


def test_the_two_ways_to_parse_agree():
    assert parse_nik(JAKARTA_WOMAN, today=TODAY) == Nik.parse(JAKARTA_WOMAN, today=TODAY)


# --- what people type -------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "  3174015708900001\n",
        "3174 0157 0890 0001",
        "31.74.01.570890.0001",
        "3174-01-570890-0001",
        "\t31 74 01 57-08-90 0001 ",
    ],
)
def test_spaces_dots_hyphens_and_surrounding_whitespace_are_ignored(typed):
    assert parse_nik(typed, today=TODAY).value == JAKARTA_WOMAN


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("3174O15708900001", "'O'"),  # letter O for zero
        ("3174/01/570890/0001", "'/'"),
        ("3174_015708900001", "'_'"),
        ("٣174015708900001", "U+0663"),  # Arabic-Indic three
        ("３174015708900001", "U+FF13"),  # fullwidth three
        ("3174\u200b015708900001", "U+200B"),  # zero-width space
    ],
)
def test_anything_but_ascii_digits_is_refused(typed, shown):
    reason, message = reason_of(typed)
    assert reason == "not_digits"
    assert message.startswith("NIK may contain only the digits 0-9")
    assert shown in message


@pytest.mark.parametrize(
    ("typed", "count"), [("", 0), ("317401570890001", 15), ("31740157089000011", 17)]
)
def test_exactly_16_digits(typed, count):
    assert reason_of(typed) == ("length", f"NIK must have 16 digits, got {count}")


def test_only_strings_are_nik_input():
    with pytest.raises(TypeError):
        parse_nik(3174015708900001)  # type: ignore[arg-type]


# --- each way a NIK can be wrong --------------------------------------------


@pytest.mark.parametrize("code", ["00", "10", "20", "37", "97", "99"])
def test_unknown_province(code):
    reason, message = reason_of(f"{code}74015708900001")
    assert reason == "province"
    assert message.startswith(f"province code {code} does not exist")


def test_regency_00():
    reason, message = reason_of("3100015708900001")
    assert reason == "regency"
    assert message.startswith("regency/city code 00 does not exist in province 31 (DKI Jakarta)")


def test_district_00():
    reason, message = reason_of("3174005708900001")
    assert reason == "district"
    assert message.startswith("district (kecamatan) code 00 does not exist")


@pytest.mark.parametrize("day", ["00", "32", "40", "72", "99"])
def test_impossible_birth_day(day):
    reason, message = reason_of(f"317401{day}08900001")
    assert reason == "birth_date"
    assert message == (
        f"birth day {day} is not valid; digits 7-8 of a NIK must be 01-31, or 41-71 for women"
    )


@pytest.mark.parametrize("month", ["00", "13"])
def test_impossible_birth_month(month):
    assert reason_of(f"31740117{month}900001") == (
        "birth_date",
        f"birth month {month} is not valid; digits 9-10 of a NIK must be 01-12",
    )


@pytest.mark.parametrize(
    ("ddmmyy", "shown"),
    [
        ("300290", "30-02-90"),
        ("310490", "31-04-90"),
        ("710490", "31-04-90"),
        ("290201", "29-02-01"),
    ],
)
def test_dates_that_do_not_exist(ddmmyy, shown):
    assert reason_of(f"317401{ddmmyy}0001") == (
        "birth_date",
        f"birth date {shown} (day-month-year) does not exist",
    )


def test_serial_0000():
    reason, message = reason_of("3174015708900000")
    assert reason == "serial"
    assert message.startswith("serial number 0000 is not valid")


def test_errors_carry_the_stable_code():
    with pytest.raises(InvalidNik) as caught:
        parse_nik("3174015708900000", today=TODAY)
    error = caught.value
    assert isinstance(error, FacegateError)
    assert error.code == "invalid_nik"
    assert error.to_dict() == {
        "code": "invalid_nik",
        "message": error.message,
        "details": {"reason": "serial"},
    }


# --- century rule and leap years --------------------------------------------


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [
        ("010124", date(2024, 1, 1)),  # 20YY is in the past: 2024
        ("010624", date(2024, 6, 1)),  # 20YY is today: still 2024
        ("020624", date(1924, 6, 2)),  # 20YY would be tomorrow: 1924
        ("010125", date(1925, 1, 1)),
        ("311299", date(1999, 12, 31)),
        ("010100", date(2000, 1, 1)),
        ("150504", date(2004, 5, 15)),
    ],
)
def test_century_is_20yy_unless_that_is_after_today(ddmmyy, born):
    assert parse_nik(f"317401{ddmmyy}0001", today=TODAY).birth_date == born


def test_century_rule_accepts_very_old_people():
    # The rule only picks the century: in 2004, YY=05 means 1905 (a 98-year-old).
    assert parse_nik("3174010101050001", today=date(2004, 1, 1)).birth_date == date(1905, 1, 1)
    assert parse_nik("3174010101050001", today=date(2030, 1, 1)).birth_date == date(2005, 1, 1)


def test_today_defaults_to_the_real_date_and_accepts_a_datetime():
    assert parse_nik(JAKARTA_WOMAN).birth_date == date(1990, 8, 17)
    late_evening = datetime(2024, 6, 1, 23, 59)
    assert parse_nik("3174010106240001", today=late_evening).birth_date == date(2024, 6, 1)


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [("290200", date(2000, 2, 29)), ("690200", date(2000, 2, 29)), ("290296", date(1996, 2, 29))],
)
def test_leap_days(ddmmyy, born):
    assert parse_nik(f"317401{ddmmyy}0001", today=TODAY).birth_date == born


def test_future_birth_date_needs_a_today_in_the_past():
    # On 1950-01-01 both 2060 and 1960 lie ahead.
    reason, message = reason_of("3174010101600001", today=date(1950, 1, 1))
    assert reason == "future_birth_date"
    assert message == "birth date 01-01-60 (day-month-year) is in the future"
    # 29-02-00 before 2000-02-29: 2000 is ahead and 29 Feb 1900 never was.
    assert reason_of("3174012902000001", today=date(1999, 12, 31))[0] == "future_birth_date"


# --- masking: a NIK never leaks into logs -------------------------------------


def test_masked_keeps_the_first_and_last_four_digits():
    assert parse_nik(JAKARTA_WOMAN, today=TODAY).masked() == "3174********0001"


def test_str_repr_and_formatting_do_not_reveal_the_nik():
    nik = parse_nik(JAKARTA_WOMAN, today=TODAY)
    renderings = [
        str(nik), repr(nik), f"{nik}", "%s" % nik, "%r" % (nik,), repr([nik]), str({"nik": nik})
    ]
    for text in renderings:
        assert JAKARTA_WOMAN not in text
        assert "570890" not in text  # nor the birth date part
    assert repr(nik) == "<Nik 3174********0001>"
    assert str(nik) == "3174********0001"


def test_error_messages_do_not_quote_the_nik():
    for raw in ["9974015708900001", "3174015708900000", "3174013002900001", "3174015708900001x"]:
        with pytest.raises(InvalidNik) as caught:
            parse_nik(raw, today=TODAY)
        assert raw[:16] not in str(caught.value)


def test_nik_is_immutable():
    nik = parse_nik(JAKARTA_WOMAN, today=TODAY)
    with pytest.raises(AttributeError):
        nik.value = BOGOR_MAN  # type: ignore[misc]


# --- synthetic NIKs ---------------------------------------------------------


def test_synthetic_nik_is_deterministic_for_a_seed():
    first = synthetic_nik(random.Random(7), today=TODAY)
    assert synthetic_nik(random.Random(7), today=TODAY) == first


def test_synthetic_nik_rejects_impossible_requests():
    with pytest.raises(ValueError):
        synthetic_nik(random.Random(0), sex="X")  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # all in the future
        synthetic_nik(random.Random(0), birth_year_range=(2030, 2040), today=TODAY)
    with pytest.raises(ValueError):  # 1910 would read back as 2010
        synthetic_nik(random.Random(0), birth_year_range=(1905, 1915), today=TODAY)


@given(
    seed=st.integers(0, 2**32),
    sex=st.sampled_from([None, "F", "M"]),
    years=st.tuples(st.integers(1930, 2024), st.integers(0, 60)),
)
def test_synthetic_niks_always_parse_back(seed, sex, years):
    lo = years[0]
    hi = min(lo + years[1], 2024)
    raw = synthetic_nik(random.Random(seed), sex=sex, birth_year_range=(lo, hi), today=TODAY)

    nik = parse_nik(raw, today=TODAY)

    assert nik.value == raw
    assert lo <= nik.birth_date.year <= hi
    assert nik.birth_date <= TODAY
    if sex is not None:
        assert nik.sex == sex


@given(seed=st.integers(0, 2**32))
def test_synthetic_niks_with_defaults_parse_today(seed):
    nik = parse_nik(synthetic_nik(random.Random(seed)))
    assert 1950 <= nik.birth_date.year <= 2005


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_any_16_digits_parse_or_raise_invalid_nik(raw):
    try:
        nik = parse_nik(raw, today=TODAY)
    except InvalidNik as error:
        assert error.details["reason"] in REASONS
        assert raw not in error.message
    else:
        assert nik.value == raw
        codes = nik.province_code + nik.regency_code + nik.district_code
        assert codes + nik.serial == raw[:6] + raw[12:]
        assert raw not in repr(nik)


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_invalid_nik(raw):
    try:
        parse_nik(raw, today=TODAY)
    except InvalidNik as error:
        assert error.details["reason"] in REASONS
