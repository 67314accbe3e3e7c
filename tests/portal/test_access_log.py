"""The access log: portal.access_log.log_access and POST /api/v1/patients/access-log/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from portal.access_log import log_access
from portal.models import AccessLog
from tests.requisitions.factories import order_body, requisition_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def requisition(clinician):
    return requisition_for(clinician, body=order_body(seed=11))


URL = "/api/v1/patients/access-log/"


def look_up(client, national_id):
    return client.post(URL, {"national_id": national_id}, format="json")


def test_log_access_writes_one_row_per_requisition(clinician, requisition, django_assert_num_queries):
    with django_assert_num_queries(1):
        entries = log_access(clinician, [requisition], "requisition-detail")
    [entry] = AccessLog.objects.all()
    assert entries[0].pk == entry.pk
    assert (entry.user, entry.requisition_id, entry.patient_id) == (clinician, requisition.pk, requisition.patient_id)
    assert (entry.page, entry.via) == ("requisition-detail", "web")
    assert entry.at is not None


def test_log_access_takes_ids_and_skips_unknown_ones(clinician, requisition):
    log_access(clinician, [requisition.pk, 987654], "queue", via="api")
    assert list(AccessLog.objects.values_list("requisition_id", "patient_id", "via")) == [
        (requisition.pk, requisition.patient_id, "api")
    ]


def test_log_access_logs_a_patient_without_a_requisition_and_once_per_pair(auditor, requisition):
    log_access(auditor, [requisition, requisition], "search", patient_ids=[requisition.patient_id])
    logged = list(AccessLog.objects.values_list("requisition_id", flat=True))
    assert len(logged) == 2 and set(logged) == {None, requisition.pk}


def test_log_access_ignores_anonymous_users(requisition):
    assert log_access(AnonymousUser(), [requisition], "requisition-detail") == []
    assert not AccessLog.objects.exists()


def test_log_access_refuses_an_unknown_channel(clinician, requisition):
    with pytest.raises(ValueError, match="via"):
        log_access(clinician, [requisition], "requisition-detail", via="fax")


def test_the_detail_api_logs_who_saw_the_order(api, clinician, office_worker, requisition):
    assert api(office_worker).get(f"/api/v1/requisitions/{requisition.pk}/").status_code == 200
    [entry] = AccessLog.objects.all()
    assert (entry.user, entry.requisition_id, entry.via) == (office_worker, requisition.pk, "api")


def test_a_refused_detail_request_is_not_logged(api, other_office_worker, requisition):
    assert api(other_office_worker).get(f"/api/v1/requisitions/{requisition.pk}/").status_code == 404
    assert not AccessLog.objects.exists()


def test_the_auditor_sees_who_has_seen_the_patient_newest_first(api, auditor, clinician, office_worker, requisition):
    api(clinician).get(f"/api/v1/requisitions/{requisition.pk}/")
    api(office_worker).get(f"/api/v1/requisitions/{requisition.pk}/")

    response = look_up(api(auditor), requisition.patient.national_id)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["username"], r["page"], r["requisition_id"]) for r in results] == [
        ("revisor", "patient-access-log", None),  # the auditor's own look is logged first
        ("pr_ous", "requisition-detail", requisition.pk),
        ("lege", "requisition-detail", requisition.pk),
    ]
    assert results[1]["office"] == "PR-OUS" and results[1]["unit"] is None
    assert results[2]["unit"] == "Majorstuen legekontor" and results[2]["name"] == "Lise Lege"
    assert results[2]["via"] == "api" and results[2]["at"]


def test_other_patients_do_not_show(api, auditor, clinician, requisition):
    other = requisition_for(clinician, body=order_body(seed=12))
    log_access(clinician, [other], "requisition-detail")
    results = look_up(api(auditor), requisition.patient.national_id).json()["results"]
    assert [r["page"] for r in results] == ["patient-access-log"]


def test_an_unknown_patient_is_a_404(api, auditor):
    assert look_up(api(auditor), "01010112345").status_code == 404
    assert not AccessLog.objects.exists()


def test_login_is_required(api, requisition):
    assert look_up(api(None), requisition.patient.national_id).status_code == 401


@pytest.mark.parametrize("persona", ["clinician", "clerk", "office_worker", "outsider"])
def test_only_auditors_may_read_the_access_log(api, request, persona, requisition):
    assert look_up(api(request.getfixturevalue(persona)), requisition.patient.national_id).status_code == 403


def test_web_pages_that_show_patients_are_logged(client, clinician, office_worker, requisition):
    client.force_login(clinician)
    client.get("/bestillinger/")
    client.get(f"/bestillinger/{requisition.pk}/")
    client.force_login(office_worker)
    client.get("/kontor/")
    client.get("/kontor/", HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-rows")  # the automatic refresh
    client.get(f"/kontor/{requisition.pk}/")
    seen = list(AccessLog.objects.order_by("pk").values_list("user__username", "page", "requisition_id"))
    assert seen == [
        ("lege", "order-list", requisition.pk),
        ("lege", "order-detail", requisition.pk),
        ("pr_ous", "office-queue", requisition.pk),
        ("pr_ous", "office-detail", requisition.pk),
    ]
