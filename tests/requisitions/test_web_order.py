"""The web order journey through Django's test client: form, review, submit, errors, access."""

from __future__ import annotations

import datetime as dt

import pytest

from requisitions.models import Requisition, Status
from requisitions.national_id import make_synthetic_national_id
from tests.requisitions.factories import requisition_for

pytestmark = pytest.mark.django_db
DAY = (dt.date.today() + dt.timedelta(days=10)).isoformat()


def form_data(**changes):
    data = {
        "national_id": make_synthetic_national_id(7),
        "name": "Kari Nordmann",
        "phone": "912 34 567",
        "street": "Storgata 1",
        "postal_code": "0150",
        "pickup_at_home": "on",
        "to_street": "Kirkeveien 166",
        "to_postal_code": "0450",
        "appointment_date": DAY,
        "appointment_time": "10:00",
        "q_acute_symptoms": "no",
        "q_can_travel_independently": "no",
        "q_needs_monitoring": "no",
        "q_needs_medical_equipment": "no",
        "q_must_lie_down": "no",
        "q_mobility": "walks_with_aid",
        "q_oxygen": "none",
        "q_companions": "0",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_needs_an_ordering_role(client, office_worker, outsider):
    for user in (office_worker, outsider):
        client.force_login(user)
        assert client.get("/bestillinger/ny/").status_code == 403
    client.logout()
    assert client.get("/bestillinger/ny/").status_code == 302


def test_the_form_renders_the_checklist_in_norwegian(client, clinician):
    client.force_login(clinician)
    html = client.get("/bestillinger/ny/").content.decode()
    assert "Har pasienten akutte symptomer" in html
    assert 'name="q_mobility"' in html


def test_review_then_submit_creates_a_routed_order(client, clinician, django_capture_on_commit_callbacks):
    client.force_login(clinician)
    review = client.post("/bestillinger/ny/", form_data(action="review"))
    assert review.status_code == 200
    assert "Se over bestillingen" in review.content.decode()
    assert not Requisition.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/bestillinger/ny/", form_data(action="submit"))
    requisition = Requisition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bestillinger/{requisition.pk}/"
    assert requisition.status == Status.ROUTED
    assert requisition.level == "taxi"
    assert requisition.patient.phone == "+4791234567"


def test_errors_are_shown_next_to_their_fields_and_input_is_kept(client, clinician):
    client.force_login(clinician)
    response = client.post(
        "/bestillinger/ny/", form_data(action="review", national_id="01010112345", q_mobility=None, postal_code="9998")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_national_id_error"' in html
    assert 'id="id_postal_code_error"' in html
    assert 'value="Kari Nordmann"' in html
    assert 'id="q_must_lie_down_no" value="no" checked' in html
    assert not Requisition.objects.exists()


def test_a_level_below_the_recommendation_is_refused(client, clinician):
    client.force_login(clinician)
    response = client.post("/bestillinger/ny/", form_data(action="submit", level="helseekspress"))
    assert response.status_code == 400
    assert not Requisition.objects.exists()


def test_a_higher_level_needs_a_reason(client, clinician):
    client.force_login(clinician)
    response = client.post("/bestillinger/ny/", form_data(action="submit", level="white_car"))
    assert response.status_code == 400
    assert 'id="id_deviation_reason_error"' in response.content.decode()
    ok = client.post(
        "/bestillinger/ny/",
        form_data(
            action="submit",
            level="white_car",
            deviation_code="clinical_judgement",
            deviation_reason="Falt to ganger i dag",
        ),
    )
    assert ok.status_code == 302
    assert Requisition.objects.get().above_recommendation


def test_a_series_creates_one_order_per_weekday(client, clinician, django_capture_on_commit_callbacks):
    client.force_login(clinician)
    first = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday() + 7)  # a Monday 1-2 weeks ahead
    data = form_data(
        action="submit",
        appointment_date=first.isoformat(),
        repeat="on",
        repeat_weekdays=["0", "2", "4"],
        repeat_until=(first + dt.timedelta(days=13)).isoformat(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/bestillinger/ny/", data).status_code == 302
    orders = Requisition.objects.order_by("first_trip_at")
    assert orders.count() == 6
    assert {o.first_trip_at.date().weekday() for o in orders} == {0, 2, 4}
    assert len({o.series_id for o in orders}) == 1
    # Cancelling the rest of the series from the third date cancels four.
    third = orders[2]
    client.post(f"/bestillinger/{third.pk}/kanseller/", {"reason": "Behandlingen avsluttet", "scope": "rest_of_series"})
    assert Requisition.objects.filter(status=Status.CANCELLED).count() == 4


def test_a_known_patient_is_prefilled_only_for_the_same_unit(client, clinician, ward_nurse):
    requisition = requisition_for(clinician)
    national_id = requisition.patient.national_id
    client.force_login(clinician)
    html = client.get(f"/bestillinger/pasient/?national_id={national_id}", HTTP_HX_REQUEST="true").content.decode()
    assert requisition.patient.name in html
    client.force_login(ward_nurse)
    html = client.get(f"/bestillinger/pasient/?national_id={national_id}", HTTP_HX_REQUEST="true").content.decode()
    assert requisition.patient.name not in html


def test_the_checklist_partial_updates_the_recommendation(client, clinician):
    client.force_login(clinician)
    response = client.post("/bestillinger/sjekkliste/?oob=1", form_data(q_must_lie_down="yes"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Syketransportbil" in html
    assert 'hx-swap-oob="true"' in html


def test_detail_is_404_for_another_unit_and_cancel_works_for_own(client, clinician, ward_nurse):
    requisition = requisition_for(clinician)
    client.force_login(ward_nurse)
    assert client.get(f"/bestillinger/{requisition.pk}/").status_code == 404
    client.force_login(clinician)
    assert client.get(f"/bestillinger/{requisition.pk}/").status_code == 200
    client.post(f"/bestillinger/{requisition.pk}/kanseller/", {"reason": "Pasienten er innlagt"})
    requisition.refresh_from_db()
    assert requisition.status == Status.CANCELLED
    assert requisition.cancel_reason == "Pasienten er innlagt"


def test_copy_prefills_a_new_order(client, clinician):
    requisition = requisition_for(clinician)
    client.force_login(clinician)
    html = client.get(f"/bestillinger/ny/?copy={requisition.pk}").content.decode()
    assert f'value="{requisition.patient.national_id}"' in html


def test_the_list_has_a_bounded_number_of_queries(client, clinician, django_assert_max_num_queries):
    for _ in range(5):
        requisition_for(clinician)
    client.force_login(clinician)
    with django_assert_max_num_queries(12):
        assert client.get("/bestillinger/").status_code == 200
