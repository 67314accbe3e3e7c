"""POST /requisitions/{id}/transition/ and /cancel/ (docs: api.md "Statuses and transitions")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from requisitions.models import Requisition
from tests.requisitions import factories
from tests.requisitions.factories import requisition_for, requisition_in

# Faster drop-ins for the conftest fixtures of the same names (see factories).
api = factories.api
reference_data = factories.reference_data

pytestmark = pytest.mark.django_db

URL = "/api/v1/requisitions/"


def transition(client, pk, **body):
    return client.post(f"{URL}{pk}/transition/", body, format="json")


def cancel(client, pk, **body):
    return client.post(f"{URL}{pk}/cancel/", body, format="json")


def status_of(pk) -> str:
    return Requisition.objects.get(pk=pk).status


def pickup_for(requisition) -> str:
    return timezone.localtime(requisition.first_trip_at - dt.timedelta(minutes=45)).isoformat()


@pytest.fixture
def make(clinician, office_worker):
    """An order of the clinician's unit, routed to office_worker's office and moved on to a status."""

    def make(status: str = "routed", **kwargs) -> Requisition:
        return requisition_in(status, clinician=clinician, office_worker=office_worker, **kwargs)

    return make


@pytest.fixture
def routed(make):
    return make("routed")


# --- the office's path -------------------------------------------------------------------------------


def test_the_office_accepts_schedules_and_completes(api, routed, office_worker):
    client = api(office_worker)
    accepted = transition(client, routed.pk, to="accepted")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted"

    scheduled = transition(client, routed.pk, to="scheduled", pickup_at=pickup_for(routed), provider="Oslo Taxi 12")
    assert scheduled.status_code == 200, scheduled.json()
    body = scheduled.json()
    assert (body["status"], body["pickup_at"], body["provider_note"]) == (
        "scheduled",
        pickup_for(routed),
        "Oslo Taxi 12",
    )

    completed = transition(client, routed.pk, to="completed")
    assert completed.status_code == 200
    events = completed.json()["events"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in events[-3:]] == [
        ("requisition.accepted", "routed", "accepted", "pr_ous"),
        ("requisition.scheduled", "accepted", "scheduled", "pr_ous"),
        ("requisition.completed", "scheduled", "completed", "pr_ous"),
    ]


@pytest.mark.parametrize(
    ("source", "target", "extra"),
    [
        ("routed", "accepted", {}),
        ("routed", "returned", {"note": "Hvilken avdeling?"}),
        ("routed", "cancelled", {"note": "Pasienten er innlagt."}),
        ("accepted", "returned", {"note": "Mangler hentested."}),
        ("accepted", "cancelled", {"note": "Timen er avlyst."}),
        ("scheduled", "completed", {}),
        ("scheduled", "no_show", {"note": "Ikke hjemme."}),
        ("scheduled", "accepted", {}),
        ("scheduled", "cancelled", {"note": "Timen er flyttet."}),
    ],
)
def test_the_office_makes_each_of_its_transitions(api, make, office_worker, source, target, extra):
    requisition = make(source)
    response = transition(api(office_worker), requisition.pk, to=target, **extra)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status_of(requisition.pk) == target
    assert response.json()["events"][-1]["note"] == extra.get("note", "")


def test_scheduling_needs_a_pickup_time(api, make, office_worker):
    requisition = make("accepted")
    response = transition(api(office_worker), requisition.pk, to="scheduled")
    assert response.status_code == 400
    assert list(response.json()) == ["pickup_at"]
    assert status_of(requisition.pk) == "accepted"


@pytest.mark.parametrize("pickup_at", ["2031-11-24T09:15:00", "kvart over ni", "2031-11-24"])
def test_the_pickup_time_needs_an_offset(api, make, office_worker, pickup_at):
    requisition = make("accepted")
    response = transition(api(office_worker), requisition.pk, to="scheduled", pickup_at=pickup_at)
    assert response.status_code == 400
    assert list(response.json()) == ["pickup_at"]


def test_unscheduling_clears_the_pickup_time(api, make, office_worker):
    requisition = make("scheduled")
    assert requisition.pickup_at is not None
    response = transition(api(office_worker), requisition.pk, to="accepted")
    assert response.status_code == 200
    assert response.json()["pickup_at"] is None


@pytest.mark.parametrize("note", [None, "", "   "])
def test_returning_needs_a_note(api, routed, office_worker, note):
    body = {} if note is None else {"note": note}
    response = transition(api(office_worker), routed.pk, to="returned", **body)
    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    assert status_of(routed.pk) == "routed"


def test_a_returned_order_carries_the_offices_question(api, routed, office_worker, clinician):
    transition(api(office_worker), routed.pk, to="returned", note="  Hvilken inngang?  ")
    body = api(clinician).get(f"{URL}{routed.pk}/").json()
    assert (body["status"], body["question"]) == ("returned", "Hvilken inngang?")


@pytest.mark.parametrize("note", [None, "  "])
def test_the_office_cancels_only_with_a_reason(api, routed, office_worker, note):
    body = {} if note is None else {"note": note}
    response = transition(api(office_worker), routed.pk, to="cancelled", **body)
    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    assert status_of(routed.pk) == "routed"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("completed", "accepted"),
        ("completed", "cancelled"),
        ("no_show", "completed"),
        ("routed", "completed"),
        ("routed", "scheduled"),
        ("routed", "no_show"),
        ("accepted", "accepted"),
        ("accepted", "completed"),
        ("returned", "accepted"),
        ("returned", "returned"),
    ],
)
def test_an_impossible_transition_is_409_with_a_reason(api, make, office_worker, source, target):
    requisition = make(source)
    response = transition(
        api(office_worker), requisition.pk, to=target, note="Forsøk.", pickup_at=pickup_for(requisition)
    )
    assert response.status_code == 409
    assert response.json()["detail"]
    assert status_of(requisition.pk) == source


def test_the_conflict_message_says_why_in_english_too(api, make, office_worker):
    requisition = make("completed")
    response = api(office_worker).post(
        f"{URL}{requisition.pk}/transition/", {"to": "accepted"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json() == {"detail": "The order is already completed and cannot be changed."}


def test_the_office_cannot_cancel_an_order_it_returned(api, make, office_worker):
    requisition = make("returned")
    response = transition(api(office_worker), requisition.pk, to="cancelled", note="Ikke svar.")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [{}, {"to": "teleported"}, {"to": "submitted"}, {"to": "routed"}, {"to": None}, ["accepted"]],
    ids=["missing", "unknown", "submitted", "routed", "null", "a_list"],
)
def test_a_bad_transition_body_is_400(api, routed, office_worker, body):
    response = api(office_worker).post(f"{URL}{routed.pk}/transition/", body, format="json")
    assert response.status_code == 400
    assert status_of(routed.pk) == "routed"


def test_a_transition_body_that_is_not_json_is_400(api, routed, office_worker):
    response = api(office_worker).generic(
        "POST", f"{URL}{routed.pk}/transition/", "{to: accepted", content_type="application/json"
    )
    assert response.status_code == 400


# --- who may call /transition/ --------------------------------------------------------------------------


def test_transition_needs_login(api, routed):
    assert transition(api(None), routed.pk, to="accepted").status_code == 401


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 403),
        ("clerk", 403),
        ("auditor", 403),
        ("other_office_worker", 404),
        ("ward_nurse", 404),
        ("outsider", 404),
    ],
)
def test_only_the_offices_staff_may_transition(api, request, routed, persona, status):
    response = transition(api(request.getfixturevalue(persona)), routed.pk, to="cancelled", note="Ikke min.")
    assert response.status_code == status
    assert status_of(routed.pk) == "routed"


def test_an_unknown_requisition_is_404(api, office_worker):
    assert transition(api(office_worker), 999999, to="accepted").status_code == 404


# --- /cancel/ ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["clinician", "clerk", "office_worker"])
@pytest.mark.parametrize("source", ["routed", "accepted", "scheduled"])
def test_the_unit_or_the_office_cancels_with_a_reason(api, request, make, persona, source):
    requisition = make(source)
    response = cancel(api(request.getfixturevalue(persona)), requisition.pk, reason="  Timen er avlyst.  ")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Timen er avlyst.")
    assert body["events"][-1]["action"] == "requisition.cancelled"


def test_the_unit_cancels_a_returned_order(api, make, clerk):
    requisition = make("returned")
    assert cancel(api(clerk), requisition.pk, reason="Trengs ikke lenger.").status_code == 200


def test_the_unit_cancels_an_order_awaiting_attestation(api, clerk, clinician):
    requisition = requisition_for(clerk, requisitioner=clinician)
    response = cancel(api(clerk), requisition.pk, reason="Feil pasient.")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"note": "Avlyst."}])
def test_cancelling_needs_a_reason(api, routed, clinician, body):
    response = cancel(api(clinician), routed.pk, **body)
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert status_of(routed.pk) == "routed"


@pytest.mark.parametrize("source", ["completed", "no_show"])
def test_a_finished_order_cannot_be_cancelled(api, make, clinician, source):
    requisition = make(source)
    response = cancel(api(clinician), requisition.pk, reason="For sent.")
    assert response.status_code == 409
    assert response.json()["detail"]


def test_cancelling_twice_is_a_conflict(api, routed, clinician):
    assert cancel(api(clinician), routed.pk, reason="Avlyst.").status_code == 200
    assert cancel(api(clinician), routed.pk, reason="Avlyst.").status_code == 409


def test_cancel_needs_login(api, routed):
    assert cancel(api(None), routed.pk, reason="Avlyst.").status_code == 401


@pytest.mark.parametrize(
    ("persona", "status"),
    [("auditor", 403), ("ward_nurse", 404), ("other_office_worker", 404), ("outsider", 404)],
)
def test_others_cannot_cancel(api, request, routed, persona, status):
    response = cancel(api(request.getfixturevalue(persona)), routed.pk, reason="Ikke min.")
    assert response.status_code == status
    assert status_of(routed.pk) == "routed"


def test_a_returned_order_is_answered_and_resubmitted_through_the_api(
    api, clinician, office_worker, django_capture_on_commit_callbacks
):
    requisition = requisition_in("returned", clinician=clinician, office_worker=office_worker)
    url = f"/api/v1/requisitions/{requisition.pk}/resubmit/"
    assert api(clinician).post(url, {}, format="json").status_code == 400
    assert api(office_worker).post(url, {"answer": "Ja"}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api(clinician).post(url, {"answer": "Pasienten bruker rullator"}, format="json")
    assert response.status_code == 200
    requisition.refresh_from_db()
    assert requisition.status == "routed"
    assert "rullator" in requisition.notes
    again = api(clinician).post(url, {"answer": "Igjen"}, format="json")
    assert again.status_code == 409
