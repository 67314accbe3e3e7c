"""Norwegian national ID numbers: kinds, check digits, dates and test numbers (no database).

No real person's number appears here. Ordinary-looking numbers are born in 2039 (nobody is yet), and
the century rules are exercised with synthetic (month + 80) numbers. Check digits come from
python-stdnum, an implementation independent of the one under test.
"""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from stdnum.no import fodselsnummer as stdnum_fnr

from requisitions.national_id import (
    DNR,
    FNR,
    HNR,
    SYNTHETIC,
    NationalId,
    NationalIdError,
    make_synthetic_national_id,
    parse_national_id,
    synthetic_national_ids,
)


def complete(first_nine: str) -> str:
    """``first_nine`` (spaces allowed) plus the two check digits, computed by python-stdnum."""
    digits = first_nine.replace(" ", "")
    k1 = stdnum_fnr.calc_check_digit1(digits)
    k2 = stdnum_fnr.calc_check_digit2(digits + k1)
    assert len(k1) == len(k2) == 1, f"{first_nine} has no valid check digits; pick another"
    return digits + k1 + k2


def with_last_digit_changed(number: str, position: int) -> str:
    digit = (int(number[position]) + 1) % 10
    return number[:position] + str(digit) + number[position + 1 :]


@contextlib.contextmanager
def english():
    if settings.configured:
        with translation.override("en"):
            yield
    else:
        yield


FNR_2039 = complete("170539 512")  # born 17 May 2039


@pytest.mark.parametrize(
    ("value", "kind", "birth_date"),
    [
        (FNR_2039, FNR, date(2039, 5, 17)),
        (complete("570539 512"), DNR, date(2039, 5, 17)),  # day + 40
        (complete("174539 512"), HNR, date(2039, 5, 17)),  # month + 40
        (complete("290236 612"), FNR, date(2036, 2, 29)),  # a leap day
    ],
)
def test_it_accepts_real_kinds_with_their_date_of_birth(value, kind, birth_date):
    for allow_synthetic in (False, True):
        assert parse_national_id(value, allow_synthetic=allow_synthetic) == NationalId(value, kind, birth_date)


@pytest.mark.parametrize(
    "value",
    [
        f"{FNR_2039[:6]} {FNR_2039[6:]}",
        f"  {FNR_2039}\t",
        f"{FNR_2039[:2]} {FNR_2039[2:4]} {FNR_2039[4:6]} {FNR_2039[6:]}",
    ],
)
def test_it_ignores_whitespace(value):
    assert parse_national_id(value, allow_synthetic=False).value == FNR_2039


@pytest.mark.parametrize(
    ("value", "birth_date"),
    [
        (complete("178539 512"), date(2039, 5, 17)),  # Tenor / Skatteetaten: month + 80
        (complete("578539 512"), date(2039, 5, 17)),  # synthetic D-number: day + 40, month + 80
        (complete("574539 512"), date(2039, 5, 17)),  # NAV Dolly D-number: day + 40, month + 40
    ],
)
def test_it_accepts_test_numbers_only_when_allowed(value, birth_date):
    assert parse_national_id(value, allow_synthetic=True) == NationalId(value, SYNTHETIC, birth_date)
    with pytest.raises(NationalIdError) as refused:
        parse_national_id(value, allow_synthetic=False)
    assert refused.value.code == "synthetic_not_allowed"


@pytest.mark.parametrize(
    ("first_nine", "birth_date"),
    [
        ("018199 000", date(1999, 1, 1)),  # 000-499: 1900-1999
        ("018199 499", date(1999, 1, 1)),
        ("018140 900", date(1940, 1, 1)),  # 900-999 with 40-99: 1940-1999
        ("018160 600", date(1860, 1, 1)),  # 500-749 with 54-99: 1854-1899
        ("018154 749", date(1854, 1, 1)),
        ("018100 500", date(2000, 1, 1)),  # 500-999 with 00-39: 2000-2039
        ("028139 999", date(2039, 1, 2)),
    ],
)
def test_it_reads_the_century_from_the_individual_number(first_nine, birth_date):
    assert parse_national_id(complete(first_nine), allow_synthetic=True).birth_date == birth_date


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("   ", "length"),
        (FNR_2039[:10], "length"),
        (FNR_2039 + "0", "length"),
        ("1705395l234", "not_digits"),
        ("abc", "not_digits"),
        (FNR_2039[:10] + "x", "not_digits"),
        ("17.05.39-51234", "not_digits"),
        ("١٧٠٥٣٩٥١٢٣٤", "not_digits"),  # Arabic-Indic digits are not ID digits
        (with_last_digit_changed(FNR_2039, 9), "checksum"),
        (with_last_digit_changed(FNR_2039, 10), "checksum"),
        (with_last_digit_changed(FNR_2039, 0), "checksum"),
        (complete("310239 512"), "date"),  # 31 February
        (complete("290239 512"), "date"),  # 29 February in a common year
        (complete("001039 512"), "date"),  # day 0
        (complete("321039 512"), "date"),  # day 32
        (complete("761039 512"), "date"),  # D-number day 36
        (complete("171339 512"), "date"),  # month 13
        (complete("170039 512"), "date"),  # month 0
        (complete("175339 514"), "date"),  # H-number month 13
        (complete("179339 513"), "date"),  # synthetic month 13
        (complete("178145 600"), "century"),  # 500-749 is 1854-1899 only from year 54
        (complete("812345 678"), "fh_number"),
        (complete("912345 678"), "fh_number"),
    ],
)
def test_it_refuses_malformed_numbers_with_a_specific_code(value, code):
    with pytest.raises(NationalIdError) as refused:
        parse_national_id(value, allow_synthetic=True)
    assert refused.value.code == code
    assert isinstance(refused.value, ValueError)
    assert str(refused.value) == refused.value.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12345", "A national ID number has 11 digits."),
        ("abc", "A national ID number can only contain digits."),
        (with_last_digit_changed(FNR_2039, 10), "Invalid national ID number: the check digits do not match."),
        (complete("310239 512"), "Invalid national ID number: the date of birth is not a real date."),
        (complete("178539 512"), "This is a test national ID number; test numbers are not allowed here."),
    ],
)
def test_it_explains_the_refusal_in_words(value, message):
    with english(), pytest.raises(NationalIdError) as refused:
        parse_national_id(value, allow_synthetic=False)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("today", "accepted"),
    [
        (date(2039, 5, 16), False),
        (date(2039, 5, 17), True),
        (None, True),
    ],
)
def test_it_refuses_a_birth_date_after_today_only_when_given_today(today, accepted):
    if accepted:
        assert parse_national_id(FNR_2039, allow_synthetic=False, today=today).kind == FNR
    else:
        with pytest.raises(NationalIdError) as refused:
            parse_national_id(FNR_2039, allow_synthetic=False, today=today)
        assert refused.value.code == "date"


@given(seed=st.integers(), d_number=st.booleans())
def test_every_generated_synthetic_number_is_accepted_only_where_test_numbers_are_allowed(seed, d_number):
    value = make_synthetic_national_id(seed, d_number=d_number)
    parsed = parse_national_id(value, allow_synthetic=True)
    assert parsed.kind == SYNTHETIC
    assert 1920 <= parsed.birth_date.year <= 2019
    with pytest.raises(NationalIdError) as refused:
        parse_national_id(value, allow_synthetic=False)
    assert refused.value.code == "synthetic_not_allowed"


@pytest.mark.parametrize("seed", [0, 1, 2024, -7, 2**70])
def test_the_synthetic_generator_is_deterministic(seed):
    assert make_synthetic_national_id(seed) == make_synthetic_national_id(seed)


def test_the_synthetic_stream_never_repeats_a_number():
    stream = synthetic_national_ids(seed=42)
    numbers = [next(stream) for _ in range(500)]
    assert len(set(numbers)) == len(numbers)
    assert all(parse_national_id(n, allow_synthetic=True).kind == SYNTHETIC for n in numbers)


@given(
    day=st.integers(0, 99),
    month=st.integers(0, 99),
    yy=st.integers(0, 99),
    individual=st.integers(0, 999),
)
def test_it_agrees_with_python_stdnum_on_real_numbers(day, month, yy, individual):
    """Outside test numbers, the same numbers are valid here and in python-stdnum."""
    first_nine = f"{day:02d}{month:02d}{yy:02d}{individual:03d}"
    k1 = stdnum_fnr.calc_check_digit1(first_nine)
    k2 = stdnum_fnr.calc_check_digit2(first_nine + k1)
    value = first_nine + k1[-1] + k2[-1]
    if 40 < day < 80 and 40 < month <= 52:
        return  # a Dolly test D-number here; stdnum reads it as a D- and H-number at once
    today = date.today()  # stdnum consults the clock; give ours the same one
    try:
        parse_national_id(value, allow_synthetic=False, today=today)
    except NationalIdError:
        ours = False
    else:
        ours = True
    assert ours == stdnum_fnr.is_valid(value)
