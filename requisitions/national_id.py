"""Norwegian national ID numbers (fødselsnummer and its relatives). Pure, no ORM.

An ID has 11 digits: ``DDMMYY`` (date of birth), ``III`` (individual number, which also gives the
century) and two mod-11 check digits. Kinds recognised here:

- ``fnr``: an ordinary fødselsnummer.
- ``dnr``: a D-number (day + 40), for people not (yet) registered as residents.
- ``hnr``: an H-number (month + 40), assigned by health services to patients without an fnr/dnr.
- ``synthetic``: a test number that can never belong to a real person. Skatteetaten's Tenor test
  numbers (also used by NAV/Dolly today) have month + 80, for both fnr and D-number shapes. NAV's older
  Dolly numbers had month + 40, which cannot be told apart from an H-number; the one combination no
  real number has, a D-number with month + 40, is treated as a Dolly test number.

Synthetic numbers are only accepted when the caller says so (``allow_synthetic``, an environment
setting), so a test number can never slip into production data.

FH-numbers (first digit 8 or 9, no date of birth) are refused with their own code.

The century comes from the individual number, per Skatteetaten:

==========  ==========  ===========
individual  year (YY)   born
==========  ==========  ===========
000–499     00–99       1900–1999
500–749     54–99       1854–1899
500–999     00–39       2000–2039
900–999     40–99       1940–1999
==========  ==========  ===========

Known limit: numbers issued from 1 January 2032 follow new rules (the first check digit may take
four values and the individual number no longer gives the century); this module implements the rules
in force today.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils import translation

FNR = "fnr"
DNR = "dnr"
HNR = "hnr"
SYNTHETIC = "synthetic"

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

_D_NUMBER_DAY_OFFSET = 40
_H_NUMBER_MONTH_OFFSET = 40
_SYNTHETIC_MONTH_OFFSET = 80


def _(message: str) -> str:
    """gettext at raise time; falls back to English where Django is not set up (plain pytest, scripts)."""
    try:
        return translation.gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):
        return message


class NationalIdError(ValueError):
    """A national ID number was refused. ``code`` is stable for callers; ``message`` is for users."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class NationalId:
    value: str  # the 11 digits, no spaces
    kind: str  # FNR | DNR | HNR | SYNTHETIC
    birth_date: date


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit for ``digits``, or None when the remainder makes it 10 (never issued)."""
    check = (11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True))) % 11
    return None if check == 10 else check


def _with_check_digits(first_nine: str) -> str | None:
    """``first_nine`` followed by both check digits, or None when no valid number starts that way."""
    k1 = _check_digit(first_nine, _K1_WEIGHTS)
    if k1 is None:
        return None
    k2 = _check_digit(f"{first_nine}{k1}", _K2_WEIGHTS)
    if k2 is None:
        return None
    return f"{first_nine}{k1}{k2}"


def _birth_year(yy: int, individual: int) -> int | None:
    """The four-digit birth year from the two-digit year and the individual number, per the table."""
    if individual <= 499:
        return 1900 + yy
    if individual <= 749 and yy >= 54:
        return 1800 + yy
    if yy <= 39:
        return 2000 + yy
    if individual >= 900:
        return 1900 + yy
    return None


def parse_national_id(value: str, *, allow_synthetic: bool, today: date | None = None) -> NationalId:
    """Validate a national ID number and say what kind it is.

    Whitespace is ignored. ``today``, when given, also refuses dates of birth in the future (a typing
    error); without it no clock is consulted. Raises NationalIdError with one of the codes
    ``not_digits``, ``length``, ``checksum``, ``fh_number``, ``century``, ``date``,
    ``synthetic_not_allowed``.
    """
    digits = "".join(value.split())
    if digits and not (digits.isascii() and digits.isdigit()):
        raise NationalIdError("not_digits", _("A national ID number can only contain digits."))
    if len(digits) != 11:
        raise NationalIdError("length", _("A national ID number has 11 digits."))
    if _with_check_digits(digits[:9]) != digits:
        raise NationalIdError("checksum", _("Invalid national ID number: the check digits do not match."))

    day, month, yy, individual = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6:9])
    if day >= 80:
        raise NationalIdError(
            "fh_number",
            _("Invalid national ID number: FH numbers (starting with 8 or 9) cannot be used here."),
        )

    is_d_number = day > _D_NUMBER_DAY_OFFSET
    if is_d_number:
        day -= _D_NUMBER_DAY_OFFSET
    if month > _SYNTHETIC_MONTH_OFFSET:
        kind = SYNTHETIC
        month -= _SYNTHETIC_MONTH_OFFSET
    elif month > _H_NUMBER_MONTH_OFFSET:
        # No real H-number is also a D-number; that shape comes from NAV's Dolly test data.
        kind = SYNTHETIC if is_d_number else HNR
        month -= _H_NUMBER_MONTH_OFFSET
    else:
        kind = DNR if is_d_number else FNR

    year = _birth_year(yy, individual)
    if year is None:
        raise NationalIdError(
            "century",
            _("Invalid national ID number: the individual number does not match any birth year."),
        )
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise NationalIdError("date", _("Invalid national ID number: the date of birth is not a real date.")) from None
    if today is not None and birth_date > today:
        raise NationalIdError("date", _("Invalid national ID number: the date of birth is in the future."))

    if kind == SYNTHETIC and not allow_synthetic:
        raise NationalIdError(
            "synthetic_not_allowed",
            _("This is a test national ID number; test numbers are not allowed here."),
        )
    return NationalId(value=digits, kind=kind, birth_date=birth_date)


# --- synthetic numbers for tests and demo data ------------------------------------------------------

_SYNTHETIC_FIRST_BIRTH_DATE = date(1920, 1, 1)
_SYNTHETIC_BIRTH_DAYS = (date(2019, 12, 31) - _SYNTHETIC_FIRST_BIRTH_DATE).days


def make_synthetic_national_id(seed: int, *, d_number: bool = False) -> str:
    """A valid synthetic (month + 80, Tenor-style) national ID number, the same for the same seed.

    The date of birth falls in 1920–2019. Synthetic numbers can never be issued to a real person, so
    they are safe in tests, fixtures and demo data. ``d_number`` also adds 40 to the day.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    while True:
        born = _SYNTHETIC_FIRST_BIRTH_DATE + timedelta(days=rng.randint(0, _SYNTHETIC_BIRTH_DAYS))
        individual = rng.randint(0, 499) if born.year < 2000 else rng.randint(500, 999)
        day = born.day + (_D_NUMBER_DAY_OFFSET if d_number else 0)
        month = born.month + _SYNTHETIC_MONTH_OFFSET
        number = _with_check_digits(f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}")
        if number is not None:
            return number


def synthetic_national_ids(seed: int = 0, *, d_number: bool = False) -> Iterator[str]:
    """An endless stream of distinct synthetic national ID numbers (deterministic for the seed)."""
    seen: set[str] = set()
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    while True:
        number = make_synthetic_national_id(rng.getrandbits(64), d_number=d_number)
        if number not in seen:
            seen.add(number)
            yield number
