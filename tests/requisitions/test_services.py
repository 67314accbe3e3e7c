"""requisitions.services: check_* validate, requisition_* change (one service per write)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import TestCase
from django.utils import translation

from portal import roles
from portal.models import Municipality
from portal.services import portal_user_create, unit_get_or_create
from requisitions import states
from requisitions.models import Patient, Requisition, RequisitionEvent
from requisitions.selectors import actors_for
from requisitions.services import (
    Address,
    InputError,
    TripInput,
    check_level,
    check_trips,
    requisition_create,
    requisition_transition,
)
from tests.requisitions import factories
from tests.requisitions.factories import address, advance, order, order_body, requisition_for

# Faster drop-ins for the conftest fixtures of the same names (see factories).
reference_data = factories.reference_data

OSLO = ZoneInfo("Europe/Oslo")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=OSLO)  # a Monday


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


# --- check_level: pure ------------------------------------------------------------------------------------

REASON = "Pasienten faller ofte."


@pytest.mark.parametrize(
    ("level", "recommended", "code", "reason", "chosen"),
    [
        (None, "taxi", "", "", "taxi"),
        ("", "white_car", "", "", "white_car"),
        ("taxi", "taxi", "", "", "taxi"),
        ("white_car", "taxi", "clinical_judgement", REASON, "white_car"),
        ("ambulance", "helseekspress", "patient_safety", "1234567890", "ambulance"),
        ("wheelchair_taxi", "taxi", "other", "   Trenger rullestolplass.   ", "wheelchair_taxi"),
    ],
)
def test_check_level_returns_the_chosen_level(level, recommended, code, reason, chosen):
    assert check_level(level, recommended, code, reason) == chosen


@pytest.mark.parametrize(
    ("level", "recommended", "code", "reason", "errors"),
    [
        ("rocket", "taxi", "", "", {"level"}),
        ("helseekspress", "taxi", "", "", {"level"}),
        ("taxi", "ambulance", "other", REASON, {"level"}),
        ("public_transport", "taxi", "", "", {"level"}),
        ("public_transport", "public_transport", "", "", {"level"}),
        (None, "public_transport", "", "", {"level"}),
        ("white_car", "taxi", "", REASON, {"deviation_code"}),
        ("white_car", "taxi", "because", REASON, {"deviation_code"}),
        ("white_car", "taxi", "other", "", {"deviation_reason"}),
        ("white_car", "taxi", "other", "123456789", {"deviation_reason"}),
        ("white_car", "taxi", "other", "    1234 5678   ", {"deviation_reason"}),
        ("white_car", "taxi", "", "", {"deviation_code", "deviation_reason"}),
    ],
)
def test_check_level_refuses_with_the_fields_at_fault(level, recommended, code, reason, errors):
    with pytest.raises(InputError) as refused:
        check_level(level, recommended, code, reason)
    assert set(refused.value.errors) == errors


# --- check_trips: pure ------------------------------------------------------------------------------------

HERE = Address(street="Hjemmeveien 1", postal_code="0450", municipality=Municipality(number="0301", name="Oslo"))
THERE = Address(street="Sykehusveien 2", postal_code="0372", municipality=Municipality(number="0301", name="Oslo"))


def out(at=NOW + dt.timedelta(days=3)):
    return TripInput(direction="outbound", origin=HERE, destination=THERE, appointment_at=at)


def back(**times):
    return TripInput(direction="return", origin=THERE, destination=HERE, **times)


LATER = NOW + dt.timedelta(days=3, hours=4)
EARLIER = NOW + dt.timedelta(days=2)
PAST = NOW - dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "trips",
    [
        [out()],
        [out(), back(pickup_at=LATER)],
        [out(), back(appointment_at=LATER)],
        [out(), back(pickup_when_ready=True)],
        [back(pickup_at=LATER), out()],
    ],
    ids=["outbound_only", "return_pickup", "return_appointment", "return_when_ready", "return_listed_first"],
)
def test_check_trips_returns_the_outbound_leg(trips):
    assert check_trips(trips, now=NOW).direction == "outbound"


@pytest.mark.parametrize(
    ("trips", "path"),
    [
        ([], ("trips",)),
        ([out(), out()], ("trips",)),
        ([back(pickup_at=LATER)], ("trips",)),
        ([out(), back(pickup_at=LATER), back(pickup_at=LATER)], ("trips",)),
        ([out(at=None)], ("trips", 0, "appointment_at")),
        ([out(at=PAST)], ("trips", 0, "appointment_at")),
        ([out(at=NOW)], ("trips", 0, "appointment_at")),
        ([out(), back()], ("trips", 1, "pickup_at")),
        ([out(), back(pickup_at=PAST)], ("trips", 1, "pickup_at")),
        ([out(), back(pickup_at=EARLIER)], ("trips", 1, "pickup_at")),
        ([out(), back(pickup_at=NOW + dt.timedelta(days=3))], ("trips", 1, "pickup_at")),
        ([out(), back(appointment_at=EARLIER)], ("trips", 1, "appointment_at")),
        ([back(pickup_at=EARLIER), out()], ("trips", 0, "pickup_at")),
    ],
    ids=[
        "none",
        "two_outbound",
        "only_a_return",
        "two_returns",
        "no_appointment",
        "appointment_past",
        "appointment_now",
        "return_without_time",
        "return_pickup_past",
        "return_pickup_before_outbound",
        "return_pickup_at_the_appointment",
        "return_appointment_before_outbound",
        "return_listed_first_and_too_early",
    ],
)
def test_check_trips_refuses_with_the_path(trips, path):
    with pytest.raises(InputError) as refused:
        check_trips(trips, now=NOW)
    node = refused.value.errors
    for part in path:
        node = node[part]
    assert node and all(isinstance(message, str) for message in node)


# --- requisition_create -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clinicians_order_is_submitted_then_routed_after_commit(clinician):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        requisition = requisition_create(
            order=order(order_body()), entered_by=clinician, requisitioner=clinician, unit=clinician.unit
        )
        assert Requisition.objects.get(pk=requisition.pk).status == "submitted"
    assert len(callbacks) == 1
    requisition.refresh_from_db()
    assert (requisition.status, requisition.office.code) == ("routed", "PR-OUS")
    assert requisition.submitted_at is not None and requisition.routed_at is not None
    assert list(requisition.events.values_list("action", "from_status", "to_status", "actor", "note")) == [
        ("requisition.submitted", "", "submitted", clinician.pk, ""),
        ("routing.routed", "submitted", "routed", None, "PR-OUS"),
    ]


@pytest.mark.django_db
def test_the_order_keeps_the_checklist_result_it_was_made_with(clinician):
    requisition = requisition_for(clinician, answers={**order_body()["answers"], "front_seat": True})
    assert requisition.checklist_version == "hso-2026.1"
    assert requisition.answers["front_seat"] is True
    assert requisition.answers["companions"] == 0  # defaults are stored with the answers
    assert requisition.requirements == ["front_seat"]
    assert requisition.reasons == [
        {
            "question": "reduced_orientation",
            "nb": "Helsekriterium: betydelig redusert orienteringsevne.",
            "en": "Health criterion: significantly reduced orientation.",
        }
    ]
    assert requisition.first_trip_at == requisition.trips.get(direction="outbound").appointment_at


@pytest.mark.django_db
def test_a_clerks_order_waits_and_is_not_routed(clerk, clinician):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        requisition = requisition_create(
            order=order(order_body()), entered_by=clerk, requisitioner=clinician, unit=clerk.unit
        )
    assert callbacks == []
    requisition.refresh_from_db()
    assert (requisition.status, requisition.submitted_at, requisition.office) == ("awaiting_attestation", None, None)
    assert (requisition.entered_by, requisition.requisitioner) == (clerk, clinician)
    assert list(requisition.events.values_list("action", "actor")) == [("requisition.entered", clerk.pk)]


@pytest.mark.django_db
def test_attesting_submits_and_routes(clerk, clinician):
    requisition = requisition_for(clerk, requisitioner=clinician)
    requisition = advance(requisition, by=clinician, to="submitted")
    assert (requisition.status, requisition.office.code) == ("routed", "PR-OUS")
    assert requisition.submitted_at is not None


@pytest.mark.django_db
def test_a_refused_order_saves_nothing(clinician):
    body = order_body(answers={**order_body()["answers"], "acute_symptoms": True})
    with pytest.raises(InputError) as refused:
        requisition_create(order=order(body), entered_by=clinician, requisitioner=clinician, unit=clinician.unit)
    assert list(refused.value.errors["answers"]) == ["acute_symptoms"]
    assert not Requisition.objects.exists()
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_the_patient_is_updated_not_duplicated(clinician):
    requisition_for(clinician, seed=5)
    body = order_body(seed=5)
    body["patient"].update(phone="+4798765432", address=address("3301", street="Ny gate 3"))
    requisition_for(clinician, body=body)
    patient = Patient.objects.get()
    assert (patient.phone, patient.street, patient.municipality.number) == ("+4798765432", "Ny gate 3", "3301")


@pytest.mark.django_db
def test_an_order_no_office_covers_is_marked_routing_failed(reference_data):
    unit = unit_get_or_create(name="Legekontor uten foretak")
    doctor = portal_user_create(username="lege_uten", role=roles.REQUISITIONER, unit=unit)
    body = order_body()
    body["trips"][0]["from"] = address("4601", postal_code="5003", street="Bryggen 1")
    requisition = requisition_for(doctor, body=body)
    assert (requisition.status, requisition.office) == ("routing_failed", None)
    admin = portal_user_create(username="admin", role=roles.AUDITOR)
    admin.is_superuser = True
    admin.save()
    assert actors_for(admin, requisition) == {states.ADMIN}
    requisition = advance(requisition, by=admin, to="submitted")
    assert requisition.status == "routing_failed"  # retried, and still no office covers it
    assert list(requisition.events.values_list("to_status", flat=True)) == [
        "submitted",
        "routing_failed",
        "submitted",
        "routing_failed",
    ]


# --- requisition_transition ------------------------------------------------------------------------------


@pytest.fixture
def routed(clinician):
    return requisition_for(clinician)


@pytest.mark.django_db
def test_a_transition_records_who_from_what_to_what(routed, office_worker):
    advance(routed, by=office_worker, to="returned", note="  Hvilken inngang?  ")
    event = routed.events.order_by("pk").last()
    assert (event.actor, event.action, event.from_status, event.to_status, event.note) == (
        office_worker,
        "requisition.returned",
        "routed",
        "returned",
        "Hvilken inngang?",
    )
    assert Requisition.objects.get(pk=routed.pk).question == "Hvilken inngang?"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "note", "pickup", "field"),
    [
        ("scheduled", "", False, "pickup_at"),
        ("returned", "   ", True, "note"),
        ("cancelled", "", True, "reason"),
    ],
)
def test_a_transition_refuses_missing_details(routed, office_worker, target, note, pickup, field):
    if target == "scheduled":
        routed = advance(routed, by=office_worker, to="accepted")
    source = routed.status
    with pytest.raises(InputError) as refused:
        requisition_transition(
            requisition=routed,
            user=office_worker,
            actors=actors_for(office_worker, routed),
            target=target,
            note=note,
            pickup_at=routed.first_trip_at if pickup else None,
        )
    assert list(refused.value.errors) == [field]
    assert Requisition.objects.get(pk=routed.pk).status == source


@pytest.mark.django_db
def test_the_second_of_two_racing_actors_is_told_it_is_already_handled(routed, office_worker, clinician):
    """Both loaded the order while it was routed; the office accepts first, the stale cancel loses."""
    office_copy = Requisition.objects.get(pk=routed.pk)
    unit_copy = Requisition.objects.get(pk=routed.pk)
    requisition_transition(
        requisition=office_copy, user=office_worker, actors=actors_for(office_worker, office_copy), target="accepted"
    )
    assert unit_copy.status == "routed"  # stale in memory
    with pytest.raises(states.TransitionError, match="already handled") as refused:
        requisition_transition(
            requisition=unit_copy,
            user=clinician,
            actors=actors_for(clinician, unit_copy),
            target="cancelled",
            note="Avlyst.",
        )
    assert refused.value.forbidden is False
    routed.refresh_from_db()
    assert (routed.status, routed.cancel_reason) == ("accepted", "")
    assert list(RequisitionEvent.objects.filter(requisition=routed).values_list("to_status", flat=True)) == [
        "submitted",
        "routed",
        "accepted",
    ]


@pytest.mark.django_db
def test_the_same_transition_twice_from_stale_copies_happens_once(routed, office_worker, other_office_worker):
    first = Requisition.objects.get(pk=routed.pk)
    second = Requisition.objects.get(pk=routed.pk)
    actors = actors_for(office_worker, first)
    requisition_transition(requisition=first, user=office_worker, actors=actors, target="accepted")
    with pytest.raises(states.TransitionError, match="already handled"):
        requisition_transition(requisition=second, user=office_worker, actors=actors, target="accepted")
    assert routed.events.filter(to_status="accepted").count() == 1


@pytest.mark.django_db
def test_the_wrong_actor_is_forbidden_and_nothing_changes(routed, clinician):
    with pytest.raises(states.TransitionError) as refused:
        requisition_transition(
            requisition=routed, user=clinician, actors=actors_for(clinician, routed), target="accepted"
        )
    assert refused.value.forbidden is True
    assert Requisition.objects.get(pk=routed.pk).status == "routed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "actors"),
    [
        ("clinician", {states.UNIT, states.CLINICIAN}),
        ("clerk", {states.UNIT}),
        ("ward_nurse", set()),
        ("office_worker", {states.OFFICE}),
        ("other_office_worker", set()),
        ("auditor", set()),
        ("outsider", set()),
    ],
)
def test_actors_for_each_persona(request, routed, persona, actors):
    assert actors_for(request.getfixturevalue(persona), routed) == actors
