"""Who sees which requisitions: GET /api/v1/requisitions/ and /requisitions/{id}/ (docs: api.md)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.requisitions import factories
from tests.requisitions.factories import order_body, requisition_for

# Faster drop-ins for the conftest fixtures of the same names (see factories).
api = factories.api
reference_data = factories.reference_data

pytestmark = pytest.mark.django_db

URL = "/api/v1/requisitions/"


def detail_url(pk):
    return f"{URL}{pk}/"


@pytest.fixture
def orders(clinician, clerk, ward_nurse):
    """One order of each kind, first trips 10, 20, 30 and 40 days ahead."""
    return SimpleNamespace(
        oslo=requisition_for(clinician, days=10, seed=1),  # routed to PR-OUS
        porsgrunn=requisition_for(
            clinician,
            days=20,
            seed=2,
            pickup="4001",
            level="white_car",
            deviation_code="other",
            deviation_reason="Må ligge etter operasjonen.",
        ),
        drammen=requisition_for(ward_nurse, days=30, seed=3, pickup="3301"),  # another unit's
        awaiting=requisition_for(clerk, requisitioner=clinician, days=40, seed=4),  # not routed yet
    )


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_orders_are_where_the_tests_expect_them(orders):
    assert (orders.oslo.status, orders.oslo.office.code) == ("routed", "PR-OUS")
    assert (orders.porsgrunn.status, orders.porsgrunn.office.code) == ("routed", "AMK-VESTFOLD")
    assert (orders.drammen.status, orders.drammen.office.code) == ("routed", "PR-VESTREVIKEN")
    assert (orders.awaiting.status, orders.awaiting.office) == ("awaiting_attestation", None)


# --- the list -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("clinician", {"oslo", "porsgrunn", "awaiting"}),
        ("clerk", {"oslo", "porsgrunn", "awaiting"}),
        ("ward_nurse", {"drammen"}),
        ("office_worker", {"oslo"}),
        ("other_office_worker", set()),
        ("auditor", {"oslo", "porsgrunn", "drammen", "awaiting"}),
    ],
)
def test_the_list_holds_what_the_caller_may_see(api, request, orders, persona, visible):
    response = api(request.getfixturevalue(persona)).get(URL)
    assert ids(response) == {getattr(orders, name).pk for name in visible}
    assert response.json()["count"] == len(visible)


def test_an_office_sees_the_orders_routed_to_it(api, clinician, other_office_worker):
    telemark = requisition_for(clinician, pickup="4001")
    assert telemark.office.code == "PR-TELEMARK"
    assert ids(api(other_office_worker).get(URL)) == {telemark.pk}


def test_the_list_needs_login(api, orders):
    assert api(None).get(URL).status_code == 401


def test_someone_without_a_role_gets_403_on_the_list(api, orders, outsider):
    assert api(outsider).get(URL).status_code == 403


def test_a_list_row_has_the_contract_fields_newest_first(api, orders, clinician):
    rows = api(clinician).get(URL).json()["results"]
    assert [row["id"] for row in rows] == [orders.awaiting.pk, orders.porsgrunn.pk, orders.oslo.pk]
    porsgrunn = rows[1]
    assert {"id", "status", "recommended_level", "level", "office"} <= set(porsgrunn)
    assert (porsgrunn["recommended_level"], porsgrunn["level"], porsgrunn["above_recommendation"]) == (
        "taxi",
        "white_car",
        True,
    )
    assert porsgrunn["office"] == {"code": "AMK-VESTFOLD", "name": "AMK Sykehuset i Vestfold", "kind": "AMK"}
    assert rows[0]["office"] is None


def _day(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("query", "visible"),
    [
        ("status=routed", {"oslo", "porsgrunn", "drammen"}),
        ("status=awaiting_attestation", {"awaiting"}),
        ("status=completed", set()),
        ("level=taxi", {"oslo", "drammen", "awaiting"}),
        ("level=white_car", {"porsgrunn"}),
        ("level=ambulance", set()),
        (f"from={_day(15)}", {"porsgrunn", "drammen", "awaiting"}),
        (f"to={_day(15)}", {"oslo"}),
        (f"from={_day(10)}&to={_day(10)}", {"oslo"}),
        (f"from={_day(20)}&to={_day(30)}", {"porsgrunn", "drammen"}),
        (f"status=routed&level=taxi&from={_day(5)}&to={_day(25)}", {"oslo"}),
        ("status=&level=", {"oslo", "porsgrunn", "drammen", "awaiting"}),
    ],
)
def test_the_list_filters(api, orders, auditor, query, visible):
    assert ids(api(auditor).get(f"{URL}?{query}")) == {getattr(orders, name).pk for name in visible}


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ("status=lost", "status"),
        ("status=ROUTED", "status"),
        ("level=rocket", "level"),
        ("level=public", "level"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=24.11.2026", "to"),
        ("to=2026-02-30", "to"),
    ],
)
def test_a_bad_filter_is_400_naming_it(api, orders, auditor, query, bad):
    response = api(auditor).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert bad in response.json()


def test_the_list_costs_the_same_queries_however_many_rows(api, clinician, auditor, django_assert_max_num_queries):
    client = api(auditor)
    requisition_for(clinician, seed=1)
    with CaptureQueriesContext(connection) as one:
        assert len(ids(client.get(URL))) == 1
    for seed in range(2, 8):
        requisition_for(clinician, seed=seed)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(ids(client.get(URL))) == 7
    assert len(one.captured_queries) <= 5


# --- one requisition ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "name", "status"),
    [
        ("clinician", "oslo", 200),
        ("clinician", "awaiting", 200),
        ("clerk", "oslo", 200),
        ("clinician", "drammen", 404),
        ("ward_nurse", "oslo", 404),
        ("ward_nurse", "drammen", 200),
        ("office_worker", "oslo", 200),
        ("office_worker", "porsgrunn", 404),
        ("office_worker", "awaiting", 404),
        ("other_office_worker", "oslo", 404),
        ("auditor", "drammen", 200),
        ("auditor", "awaiting", 200),
        ("outsider", "oslo", 404),
        ("outsider", "awaiting", 404),
    ],
)
def test_a_requisition_is_404_for_whoever_may_not_see_it(api, request, orders, persona, name, status):
    response = api(request.getfixturevalue(persona)).get(detail_url(getattr(orders, name).pk))
    assert response.status_code == status


def test_the_detail_needs_login(api, orders):
    assert api(None).get(detail_url(orders.oslo.pk)).status_code == 401


@pytest.mark.parametrize("pk", ["999999", "abc", "0"])
def test_an_unknown_requisition_is_404(api, orders, auditor, pk):
    assert api(auditor).get(f"{URL}{pk}/").status_code == 404


def test_the_detail_has_the_contract_fields(api, orders, office_worker):
    body = api(office_worker).get(detail_url(orders.oslo.pk)).json()
    assert (body["id"], body["status"], body["recommended_level"], body["level"]) == (
        orders.oslo.pk,
        "routed",
        "taxi",
        "taxi",
    )
    assert body["office"] == {
        "code": "PR-OUS",
        "name": "Pasientreiser Oslo universitetssykehus",
        "kind": "PASIENTREISER",
    }
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in body["events"]] == [
        ("requisition.submitted", "", "submitted", "lege"),
        ("routing.routed", "submitted", "routed", None),
    ]
    assert all(set(e) == {"at", "action", "from_status", "to_status", "actor", "note"} for e in body["events"])
    assert body["patient"]["national_id"] == order_body(seed=1)["patient"]["national_id"]
    assert body["first_trip_at"].endswith(("+01:00", "+02:00"))


def test_the_detail_costs_a_fixed_number_of_queries(api, orders, auditor, django_assert_max_num_queries):
    """Sign-in and roles, the order with its prefetches, and an access-log row: nothing per event or trip."""
    client = api(auditor)
    with django_assert_max_num_queries(12):
        assert client.get(detail_url(orders.oslo.pk)).status_code == 200


# --- read-only viewers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["cancel/", "transition/", "attest/"],
)
def test_the_auditor_may_look_but_not_change(api, orders, auditor, path):
    response = api(auditor).post(
        f"{detail_url(orders.oslo.pk)}{path}", {"reason": "x", "to": "accepted"}, format="json"
    )
    assert response.status_code == 403
    orders.oslo.refresh_from_db()
    assert orders.oslo.status == "routed"
