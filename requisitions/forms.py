"""The web order form: parses what the user typed into the services' Order, and maps the services'
error paths back to the form's fields so every message appears next to its field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import StyledForm
from portal.models import PostalCode
from requisitions import beon
from requisitions.models import DeviationCode, Level, Patient
from requisitions.national_id import NationalIdError, parse_national_id
from requisitions.phone import PhoneError, normalize_phone
from requisitions.services import Address, Order, PatientInput, TripInput

OSLO = ZoneInfo("Europe/Oslo")
WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]
MAX_SERIES_WEEKS = 12


def answers_from_post(ruleset: beon.RuleSet, data) -> dict:
    """Checklist answers from form data (fields named q_<question id>); unanswered ones are left out."""
    answers = {}
    for question in ruleset.questions:
        if not question.asked:
            continue
        raw = data.get(f"q_{question.id}")
        if question.type == "bool":
            if raw in ("yes", "no"):
                answers[question.id] = raw == "yes"
            elif raw is None and question.default is not None and f"q_{question.id}__present" in data:
                answers[question.id] = False  # an unticked optional checkbox
        elif raw not in (None, ""):
            if question.type == "int":
                try:
                    answers[question.id] = int(raw)
                except ValueError:
                    answers[question.id] = raw  # the engine names the type error
            else:
                answers[question.id] = raw
    return answers


def _postal(code: str) -> PostalCode | None:
    code = (code or "").strip()
    if not (len(code) == 4 and code.isdigit()):
        return None
    return PostalCode.objects.select_related("municipality").filter(code=code).first()


class OrderForm(StyledForm):
    # Patient
    national_id = forms.CharField(label=gettext_lazy("National ID number (11 digits)"), max_length=20)
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=160)
    phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=32)
    street = forms.CharField(label=gettext_lazy("Home address"), max_length=160)
    postal_code = forms.CharField(label=gettext_lazy("Postal code"), max_length=4)
    # Outbound trip
    pickup_at_home = forms.BooleanField(label=gettext_lazy("Pick up at the home address"), required=False)
    from_street = forms.CharField(label=gettext_lazy("Pickup address"), max_length=160, required=False)
    from_postal_code = forms.CharField(label=gettext_lazy("Pickup postal code"), max_length=4, required=False)
    to_street = forms.CharField(label=gettext_lazy("Place of treatment (address)"), max_length=160)
    to_postal_code = forms.CharField(label=gettext_lazy("Postal code of the place of treatment"), max_length=4)
    appointment_date = forms.DateField(label=gettext_lazy("Appointment date"))
    appointment_time = forms.TimeField(label=gettext_lazy("Appointment time"))
    # Return trip
    return_trip = forms.BooleanField(label=gettext_lazy("Return trip"), required=False)
    return_when_ready = forms.BooleanField(
        label=gettext_lazy("Pickup when ready (the place of treatment calls)"), required=False
    )
    return_date = forms.DateField(label=gettext_lazy("Return pickup date"), required=False)
    return_time = forms.TimeField(label=gettext_lazy("Return pickup time"), required=False)
    # Level
    level = forms.ChoiceField(label=gettext_lazy("Transport level"), choices=Level.choices, required=False)
    deviation_code = forms.ChoiceField(
        label=gettext_lazy("Reason code for a higher level"),
        choices=[("", "—"), *DeviationCode.choices],
        required=False,
    )
    deviation_reason = forms.CharField(
        label=gettext_lazy("Reason for a higher level than recommended"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    notes = forms.CharField(
        label=gettext_lazy("Message to the office"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    # Series
    repeat = forms.BooleanField(label=gettext_lazy("Recurring trips (e.g. dialysis)"), required=False)
    repeat_weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_until = forms.DateField(label=gettext_lazy("Last date of the series"), required=False)

    def clean_national_id(self):
        try:
            return parse_national_id(
                self.cleaned_data["national_id"], allow_synthetic=settings.ALLOW_SYNTHETIC_NATIONAL_IDS
            ).value
        except NationalIdError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None

    def _clean_postal(self, name: str, *, required: bool = True):
        value = self.cleaned_data.get(name, "")
        if not value and not required:
            return None
        postal = _postal(value)
        if postal is None:
            raise forms.ValidationError(_("Unknown postal code: %s.") % value)
        return postal

    def clean_postal_code(self):
        return self._clean_postal("postal_code")

    def clean_to_postal_code(self):
        return self._clean_postal("to_postal_code")

    def clean_from_postal_code(self):
        return self._clean_postal("from_postal_code", required=False)

    def clean(self):
        data = super().clean()
        if not data.get("pickup_at_home"):
            if not data.get("from_street"):
                self.add_error("from_street", _("Give the pickup address, or pick up at the home address."))
            if not data.get("from_postal_code") and "from_postal_code" not in self.errors:
                self.add_error("from_postal_code", _("Give the postal code of the pickup address."))
        if data.get("return_trip") and not data.get("return_when_ready"):
            if not data.get("return_date") and "return_date" not in self.errors:
                self.add_error("return_date", _("Give the date of the return pickup, or choose pickup when ready."))
            if not data.get("return_time") and "return_time" not in self.errors:
                self.add_error("return_time", _("Give the time of the return pickup, or choose pickup when ready."))
        if data.get("repeat"):
            if not data.get("repeat_weekdays"):
                self.add_error("repeat_weekdays", _("Choose at least one weekday."))
            until = data.get("repeat_until")
            first = data.get("appointment_date")
            if not until:
                self.add_error("repeat_until", _("Give the last date of the series."))
            elif first and until < first:
                self.add_error("repeat_until", _("The last date must be on or after the first appointment."))
            elif first and until > first + dt.timedelta(weeks=MAX_SERIES_WEEKS):
                self.add_error("repeat_until", _("A series lasts at most %d weeks.") % MAX_SERIES_WEEKS)
        return data

    # --- building the services' input ----------------------------------------------------------------

    def _address(self, street: str, postal: PostalCode) -> Address:
        return Address(street=street.strip(), postal_code=postal.code, municipality=postal.municipality)

    def home(self) -> Address:
        return self._address(self.cleaned_data["street"], self.cleaned_data["postal_code"])

    def trips_on(self, day: dt.date) -> list[TripInput]:
        data = self.cleaned_data
        home = self.home()
        origin = home if data.get("pickup_at_home") else self._address(data["from_street"], data["from_postal_code"])
        destination = self._address(data["to_street"], data["to_postal_code"])
        appointment = dt.datetime.combine(day, data["appointment_time"], tzinfo=OSLO)
        trips = [TripInput(direction="outbound", origin=origin, destination=destination, appointment_at=appointment)]
        if data.get("return_trip"):
            pickup = None
            if not data.get("return_when_ready"):
                # A series returns on the same day as each appointment.
                return_day = day + (data["return_date"] - data["appointment_date"])
                pickup = dt.datetime.combine(return_day, data["return_time"], tzinfo=OSLO)
            trips.append(
                TripInput(
                    direction="return",
                    origin=destination,
                    destination=origin,
                    pickup_at=pickup,
                    pickup_when_ready=bool(data.get("return_when_ready")),
                )
            )
        return trips

    def series_dates(self) -> list[dt.date]:
        data = self.cleaned_data
        first = data["appointment_date"]
        if not data.get("repeat"):
            return [first]
        weekdays = set(data["repeat_weekdays"])
        days = (data["repeat_until"] - first).days
        return [first + dt.timedelta(n) for n in range(days + 1) if (first + dt.timedelta(n)).weekday() in weekdays]

    def order_for(self, day: dt.date, answers: dict) -> Order:
        data = self.cleaned_data
        return Order(
            patient=PatientInput(
                national_id=data["national_id"], name=data["name"].strip(), phone=data["phone"], address=self.home()
            ),
            answers=answers,
            trips=self.trips_on(day),
            level=data.get("level") or None,
            deviation_code=data.get("deviation_code") or "",
            deviation_reason=data.get("deviation_reason") or "",
            notes=data.get("notes") or "",
        )


# Error paths from the services (requisitions.services.InputError) → form field names.
_TRIP_FIELDS = {
    (0, "appointment_at"): "appointment_time",
    (1, "pickup_at"): "return_time",
    (0, "from"): "from_street",
    (0, "to"): "to_street",
}


def _flatten(errors, prefix=()):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, (*prefix, str(key)))
    elif isinstance(errors, list) and errors and all(isinstance(item, str) for item in errors):
        yield prefix, errors
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            yield from _flatten(value, (*prefix, index))
    else:
        yield prefix, [str(errors)]


def apply_service_errors(form: OrderForm, errors: dict, *, answer_errors: dict) -> None:
    """Put InputError messages on the form (or into ``answer_errors`` for checklist questions)."""
    for path, messages in _flatten(errors):
        head = path[0] if path else "__all__"
        if head == "answers" and len(path) > 1:
            answer_errors.setdefault(path[1], []).extend(messages)
            continue
        if head == "trips" and len(path) > 2:
            field = _TRIP_FIELDS.get((path[1], path[2]), "appointment_time")
        elif head == "trips":
            field = "appointment_time"
        elif head in form.fields:
            field = head
        else:
            field = None
        for message in messages:
            form.add_error(field, message)


def known_patient(unit, national_id: str) -> Patient | None:
    """A patient this unit has ordered for before (and only then), for prefilling the form."""
    try:
        value = parse_national_id(national_id, allow_synthetic=settings.ALLOW_SYNTHETIC_NATIONAL_IDS).value
    except NationalIdError:
        return None
    return Patient.objects.filter(national_id=value, requisitions__unit=unit).select_related("municipality").first()
