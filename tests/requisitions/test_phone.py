"""Phone numbers: E.164 normalisation and mobile detection (no database).

The numbers are made-up examples in valid ranges, not anyone's known number.
"""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from django.utils import translation

from requisitions.phone import PhoneError, is_mobile, normalize_phone


@contextlib.contextmanager
def english():
    if settings.configured:
        with translation.override("en"):
            yield
    else:
        yield


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("912 34 567", "NO", "+4791234567"),
        ("91234567", "NO", "+4791234567"),
        ("  912 34 567  ", "NO", "+4791234567"),
        ("912-34-567", "NO", "+4791234567"),
        ("+47 912 34 567", "NO", "+4791234567"),
        ("(+47) 912 34 567", "NO", "+4791234567"),
        ("0047 912 34 567", "NO", "+4791234567"),
        ("412 34 567", "NO", "+4741234567"),
        ("22 22 22 22", "NO", "+4722222222"),
        ("+46 70 123 45 67", "NO", "+46701234567"),
        ("0046 70 123 45 67", "NO", "+46701234567"),
        ("070-123 45 67", "SE", "+46701234567"),
        ("+47 912 34 567", "SE", "+4791234567"),
        ("+1 415 555 2671", "NO", "+14155552671"),
    ],
)
def test_it_normalises_to_e164(value, region, expected):
    assert normalize_phone(value, region=region) == expected


def test_it_reads_numbers_without_a_country_code_as_norwegian_by_default():
    assert normalize_phone("912 34 567") == "+4791234567"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "letters"),
        ("912 34 ABC", "letters"),  # not read as a keypad word
        ("912 34 567 ext 3", "letters"),
        ("912 34 567 #2", "extension"),
        ("+", "unreadable"),
        ("1", "unreadable"),
        ("+999 1234", "country_code"),
        ("112", "too_short"),
        ("+47 9", "too_short"),
        ("912345678", "too_long"),
        ("+4791234567890123456", "too_long"),
        ("12345", "invalid"),
    ],
)
def test_it_refuses_what_is_not_a_phone_number(value, code):
    with pytest.raises(PhoneError) as refused:
        normalize_phone(value)
    assert refused.value.code == code
    assert isinstance(refused.value, ValueError)
    assert str(refused.value) == refused.value.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12345", "Not a valid phone number."),
        ("abc", "Not a valid phone number: it contains letters."),
        ("112", "Not a valid phone number: it has too few digits."),
    ],
)
def test_it_explains_the_refusal_in_words(value, message):
    with english(), pytest.raises(PhoneError) as refused:
        normalize_phone(value)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [
        ("+4791234567", True),  # Norwegian mobiles start with 4 or 9
        ("+4741234567", True),
        ("+4722222222", False),  # Oslo landline
        ("+4780012345", False),  # freephone
        ("+46701234567", True),  # Swedish mobile
        ("+14155552671", True),  # the USA cannot tell mobiles from landlines; allowed
        ("91234567", False),  # not E.164
        ("+47912", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_it_tells_mobiles_that_can_receive_sms(e164, mobile):
    assert is_mobile(e164) is mobile
