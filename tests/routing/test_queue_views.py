from __future__ import annotations

import pytest

from requisitions.models import Status
from tests.requisitions.factories import requisition_for

pytestmark = pytest.mark.django_db


def test_the_queue_shows_the_offices_open_orders(client, clinician, office_worker, other_office_worker):
    requisition = requisition_for(clinician)
    client.force_login(office_worker)
    assert requisition.patient.name in client.get("/kontor/").content.decode()
    client.force_login(other_office_worker)
    assert requisition.patient.name not in client.get("/kontor/").content.decode()
    assert client.get(f"/kontor/{requisition.pk}/").status_code == 404


def test_requisitioners_cannot_open_the_queue(client, clinician):
    client.force_login(clinician)
    assert client.get("/kontor/").status_code == 403


def test_the_queue_has_a_bounded_number_of_queries(client, clinician, office_worker, django_assert_max_num_queries):
    for _ in range(8):
        requisition_for(clinician)
    client.force_login(office_worker)
    with django_assert_max_num_queries(10):
        response = client.get("/kontor/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_bulk_accept_accepts_and_reports_the_rest(client, clinician, office_worker):
    first, second = requisition_for(clinician), requisition_for(clinician)
    client.force_login(office_worker)
    client.post(f"/kontor/{second.pk}/handling/", {"to": "accepted"})
    client.post("/kontor/aksepter/", {"ids": [first.pk, second.pk]})
    first.refresh_from_db()
    assert first.status == Status.ACCEPTED


def test_an_impossible_action_is_explained(client, clinician, office_worker):
    requisition = requisition_for(clinician)
    client.force_login(office_worker)
    response = client.post(f"/kontor/{requisition.pk}/handling/", {"to": "completed"}, follow=True)
    requisition.refresh_from_db()
    assert requisition.status == Status.ROUTED
    assert response.context["messages"]


def test_scheduling_needs_a_pickup_time(client, clinician, office_worker):
    requisition = requisition_for(clinician)
    client.force_login(office_worker)
    client.post(f"/kontor/{requisition.pk}/handling/", {"to": "accepted"})
    client.post(f"/kontor/{requisition.pk}/handling/", {"to": "scheduled", "pickup_at": ""})
    requisition.refresh_from_db()
    assert requisition.status == Status.ACCEPTED
    client.post(f"/kontor/{requisition.pk}/handling/", {"to": "scheduled", "pickup_at": "2030-01-01T08:00"})
    requisition.refresh_from_db()
    assert requisition.status == Status.SCHEDULED


def test_a_returned_order_is_answered_and_routed_again(
    client, clinician, office_worker, django_capture_on_commit_callbacks
):
    requisition = requisition_for(clinician)
    client.force_login(office_worker)
    client.post(f"/kontor/{requisition.pk}/handling/", {"to": "returned", "note": "Trenger pasienten rullestol?"})
    client.force_login(clinician)
    assert "Trenger pasienten rullestol?" in client.get(f"/bestillinger/{requisition.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/bestillinger/{requisition.pk}/send-igjen/", {"answer": "Nei, går med rullator"})
    requisition.refresh_from_db()
    assert requisition.status == Status.ROUTED
    assert "rullator" in requisition.notes


@pytest.mark.parametrize(
    ("municipality", "level", "expected"),
    [
        ("0301", "taxi", "Pasientreiser Oslo universitetssykehus"),
        ("3301", "white_car", "AMK Vestre Viken"),
        ("4601", "taxi", "Pasientreiser Oslo universitetssykehus"),
    ],  # Bergen: outside the region, the unit's trust
)
def test_the_order_form_previews_the_office(client, clinician, municipality, level, expected):
    client.force_login(clinician)
    html = client.get(f"/kontor/forhandsvisning/?municipality={municipality}&level={level}").content.decode()
    assert expected in html


def test_the_preview_is_for_ordering_roles_only(client, office_worker):
    client.force_login(office_worker)
    assert client.get("/kontor/forhandsvisning/?municipality=0301&level=taxi").status_code == 403


def test_the_level_section_asks_for_the_preview_once_the_pickup_is_known(client, clinician):
    from tests.requisitions.test_web_order import form_data

    client.force_login(clinician)
    html = client.post("/bestillinger/sjekkliste/?oob=1", form_data(), HTTP_HX_REQUEST="true").content.decode()
    assert "/kontor/forhandsvisning/?municipality=0301&amp;level=taxi" in html
