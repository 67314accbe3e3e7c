"""Phone numbers: normalise what people type to E.164, and tell mobiles apart. Pure, no ORM.

Numbers without a country code are read as numbers in ``region`` (Norway by default), so
"912 34 567" becomes "+4791234567"; foreign numbers need their "+" or "00" prefix.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils import translation
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult

# Numbers that can receive an SMS. FIXED_LINE_OR_MOBILE only occurs where the numbering plan cannot
# tell the two apart (the USA, for instance; never Norway); we give those the benefit of the doubt.
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _(message: str) -> str:
    """gettext at raise time; falls back to English where Django is not set up (plain pytest, scripts)."""
    try:
        return translation.gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):
        return message


class PhoneError(ValueError):
    """A phone number was refused. ``code`` is stable for callers; ``message`` is for users."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalize_phone(value: str, *, region: str = "NO") -> str:
    """The number in E.164 form ("+4791234567"), or PhoneError.

    Codes: ``empty``, ``letters``, ``unreadable``, ``country_code``, ``too_short``, ``too_long``,
    ``extension``, ``invalid`` (the right length but no such number in that country's numbering
    plan). Letters are refused rather than read as a keypad word ("912 34 ABC").
    """
    text = value.strip()
    if not text:
        raise PhoneError("empty", _("The phone number is empty."))
    if any(ch.isalpha() for ch in text):
        raise PhoneError("letters", _("Not a valid phone number: it contains letters."))
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise PhoneError("country_code", _("Not a valid phone number: unknown country code.")) from None
        if exc.error_type == NumberParseException.TOO_SHORT_NSN:
            raise PhoneError("too_short", _("Not a valid phone number: it has too few digits.")) from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise PhoneError("too_long", _("Not a valid phone number: it has too many digits.")) from None
        raise PhoneError("unreadable", _("Not a valid phone number.")) from None

    if number.extension:
        raise PhoneError("extension", _("Not a valid phone number: extensions are not supported."))
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == ValidationResult.INVALID_COUNTRY_CODE:
            raise PhoneError("country_code", _("Not a valid phone number: unknown country code."))
        if reason == ValidationResult.TOO_SHORT:
            raise PhoneError("too_short", _("Not a valid phone number: it has too few digits."))
        if reason == ValidationResult.TOO_LONG:
            raise PhoneError("too_long", _("Not a valid phone number: it has too many digits."))
        raise PhoneError("invalid", _("Not a valid phone number."))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True when the number (E.164, as from normalize_phone) is a mobile that can receive an SMS.

    Anything that is not a valid number answers False.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE_TYPES
