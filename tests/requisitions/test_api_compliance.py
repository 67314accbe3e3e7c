"""GET /api/v1/compliance/me/ and /api/v1/compliance/requisitioners/ (api.md "Compliance figures")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portal import roles
from portal.models import Office, RequisitioningUnit
from portal.services import portal_user_create
from requisitions import compliance, rollup, states
from requisitions.models import ComplianceDaily
from tests.conftest import PASSWORD
from tests.requisitions.factories import advance, order_body, requisition_for, soon

pytestmark = pytest.mark.django_db

ME = "/api/v1/compliance/me/"
LIST = "/api/v1/compliance/requisitioners/"


@pytest.fixture
def colleague(gp_practice):
    return portal_user_create(username="lege2", role=roles.REQUISITIONER, password=PASSWORD, unit=gp_practice)


def late_body(seed: int) -> dict:
    body = order_body(seed=seed, with_return=False)
    body["trips"][0]["appointment_at"] = soon()
    return body


def above_body(seed: int) -> dict:
    return order_body(
        seed=seed,
        level="white_car",
        deviation_code="clinical_judgement",
        deviation_reason="Pasienten tåler ikke å sitte lenge.",
    )


def day_row(user, *, day: dt.date | None = None, office: Office | None = None, **counts) -> ComplianceDaily:
    """A roll-up row written directly: the dashboards read the roll-up, whatever filled it."""
    counts.setdefault("orders", 10)
    counts.setdefault("level_taxi", counts["orders"])
    return ComplianceDaily.objects.create(
        requisitioner=user, unit=user.unit, office=office, day=day or timezone.localdate(), **counts
    )


# --- who may call -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ME, LIST])
def test_login_is_required(api, url):
    assert api(None).get(url).status_code == 401


@pytest.mark.parametrize(
    ("persona", "me", "listing"),
    [
        ("clinician", 200, 403),
        ("ward_nurse", 200, 403),
        ("clerk", 403, 403),
        ("office_worker", 403, 403),
        ("auditor", 403, 200),
        ("outsider", 403, 403),
    ],
)
def test_each_role_gets_its_own_view(api, request, persona, me, listing):
    client = api(request.getfixturevalue(persona))
    assert client.get(ME).status_code == me
    assert client.get(LIST).status_code == listing


# --- /me/ ---------------------------------------------------------------------------------------------


def test_me_counts_the_callers_orders_beside_the_unit_and_peers(api, clinician, colleague, clerk, office_worker):
    late = requisition_for(clinician, body=late_body(1))
    requisition_for(clinician, body=above_body(2))
    returned = requisition_for(colleague, body=order_body(seed=3))
    advance(returned, by=office_worker, to=states.RETURNED, note="Hvilken etasje?")
    requisition_for(clerk, requisitioner=colleague, body=order_body(seed=4))  # not attested: not an order
    advance(late, by=clinician, to=states.CANCELLED, note="Pasienten er innlagt")
    rollup.rollup_flush()  # events only mark their days; the refresh (beat, in production) recomputes them

    response = api(clinician).get(ME)

    assert response.status_code == 200
    data = response.json()
    assert data["username"] == "lege"
    assert data["orders"] == 2
    assert data["by_level"]["taxi"] == 1 and data["by_level"]["white_car"] == 1
    assert (data["late"], data["above_recommendation"], data["cancelled"], data["late_cancellations"]) == (1, 1, 1, 1)
    assert data["late_rate"] == 0.5 and data["returned_rate"] == 0.0
    assert set(compliance.RATES) <= set(data)
    today = timezone.localdate()
    assert data["period"] == {"from": str(today - dt.timedelta(days=89)), "to": str(today)}

    assert data["unit"]["name"] == "Majorstuen legekontor" and data["unit"]["kind"] == "GP_PRACTICE"
    assert (data["unit"]["orders"], data["unit"]["returned"]) == (3, 1)

    peers = data["peers"]
    assert (peers["kind"], peers["requisitioners"]) == ("GP_PRACTICE", 2)
    assert peers["late_rate"] == 0.25  # median of 0.5 (lege) and 0.0 (lege2)
    assert peers["returned_rate"] == 0.5  # median of 0.0 and 1.0


def test_me_without_orders_has_zero_rates_and_still_peers(api, ward_nurse, clinician):
    requisition_for(clinician, body=late_body(1))
    data = api(ward_nurse).get(ME).json()
    assert data["orders"] == 0
    assert all(data[name] == 0 for name in compliance.RATES)
    assert data["peers"]["kind"] == "WARD" and data["peers"]["requisitioners"] == 0


def test_from_and_to_narrow_the_period(api, clinician):
    day_row(clinician, day=dt.date(2026, 3, 1), orders=1)
    day_row(clinician, day=dt.date(2026, 3, 2), orders=2, late=2)
    day_row(clinician, day=dt.date(2026, 3, 3), orders=4)

    def orders(query):
        return api(clinician).get(ME + query).json()["orders"]

    assert orders("?from=2026-03-02&to=2026-03-02") == 2
    assert orders("?from=2026-03-02&to=2026-03-03") == 6
    assert orders("?from=2026-03-01&to=2026-03-03") == 7
    assert orders("?to=2026-03-02") == 3  # 90 days back from `to`
    assert orders("?from=2026-03-03") == 4  # up to today


@pytest.mark.parametrize(
    ("query", "param"),
    [("?from=2026-13-01", "from"), ("?to=yesterday", "to"), ("?from=2026-03-05&to=2026-03-01", "from")],
)
@pytest.mark.parametrize("url", [ME, LIST])
def test_a_bad_date_is_a_400_naming_the_parameter(api, clinician, auditor, url, query, param):
    user = clinician if url == ME else auditor
    response = api(user).get(url + query)
    assert response.status_code == 400
    assert list(response.json()) == [param]


# --- the auditor's list ---------------------------------------------------------------------------------


def test_the_list_holds_a_record_per_requisitioner_with_username_and_unit(api, auditor, clinician, ward_nurse):
    requisition_for(clinician, body=late_body(1))
    requisition_for(ward_nurse, body=order_body(seed=2, pickup="3301"))
    rollup.rollup_flush()
    response = api(auditor).get(LIST)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    records = {record["username"]: record for record in data["results"]}
    assert records["lege"]["unit"] == "Majorstuen legekontor"
    assert records["lege"]["unit_kind"] == "GP_PRACTICE"
    assert (records["lege"]["orders"], records["lege"]["late"], records["lege"]["late_rate"]) == (1, 1, 1.0)
    assert records["sykepleier"]["unit"] == "Drammen sykehus, medisinsk post"
    assert records["lege"]["outlier"] is False and records["lege"]["outlier_reasons"] == []
    assert set(data["peers"]) == {"GP_PRACTICE", "WARD"}


def test_an_outlier_is_marked_against_peers_of_the_same_unit_kind(api, auditor, clinician, colleague, ward_nurse):
    third = portal_user_create(username="lege3", role=roles.REQUISITIONER, password=PASSWORD, unit=clinician.unit)
    day_row(clinician, orders=10, late=6, returned=1)  # late 0.6, returned 0.1
    day_row(colleague, orders=10, late=1, returned=1)  # late 0.1
    day_row(third, orders=10, late=2, returned=1)  # late 0.2: the median
    day_row(ward_nurse, orders=10, late=9)  # a ward: other peers (median 0.9), not an outlier

    records = {r["username"]: r for r in api(auditor).get(LIST).json()["results"]}

    assert records["lege"]["outlier"] is True
    assert records["lege"]["outlier_reasons"] == ["late_rate"]
    assert records["lege2"]["outlier"] is False and records["lege3"]["outlier"] is False
    assert records["sykepleier"]["outlier"] is False


def test_too_few_orders_are_never_an_outlier(api, auditor, clinician, colleague):
    day_row(clinician, orders=9, late=9)
    day_row(colleague, orders=10)
    records = {r["username"]: r for r in api(auditor).get(LIST).json()["results"]}
    assert records["lege"]["outlier"] is False


def test_the_list_filters_by_unit_name_or_id_and_by_office(api, auditor, clinician, ward_nurse):
    ous = Office.objects.get(code="PR-OUS")
    vestre_viken = Office.objects.exclude(pk=ous.pk).filter(kind=Office.Kind.PASIENTREISER).first()
    day_row(clinician, office=ous, orders=3)
    day_row(clinician, office=vestre_viken, orders=5)
    day_row(ward_nurse, office=vestre_viken, orders=2)

    def listing(**params):
        return {r["username"]: r["orders"] for r in api(auditor).get(LIST, params).json()["results"]}

    assert listing() == {"lege": 8, "sykepleier": 2}
    assert listing(unit="Majorstuen legekontor") == {"lege": 8}
    assert listing(unit=str(ward_nurse.unit_id)) == {"sykepleier": 2}
    assert listing(office="PR-OUS") == {"lege": 3}
    assert listing(office=vestre_viken.code, unit="majorstuen legekontor") == {"lege": 5}


@pytest.mark.parametrize(
    ("query", "param"), [("?unit=Nowhere", "unit"), ("?unit=999999", "unit"), ("?office=XX", "office")]
)
def test_an_unknown_unit_or_office_is_a_400_naming_it(api, auditor, query, param):
    response = api(auditor).get(LIST + query)
    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_the_list_is_paginated_with_a_bounded_number_of_queries(api, auditor, clinician, django_assert_max_num_queries):
    unit = RequisitioningUnit.objects.get(pk=clinician.unit_id)
    for n in range(60):
        user = portal_user_create(username=f"lege-{n:02d}", role=roles.REQUISITIONER, password=PASSWORD, unit=unit)
        day_row(user, orders=1)
    client = api(auditor)
    with django_assert_max_num_queries(6):
        first = client.get(LIST).json()
    assert first["count"] == 60 and len(first["results"]) == 50 and first["next"]
    assert len(client.get(first["next"]).json()["results"]) == 10


def test_rows_outside_the_period_do_not_show(api, auditor, clinician):
    day_row(clinician, day=timezone.localdate() - dt.timedelta(days=120))
    assert api(auditor).get(LIST).json()["results"] == []
    assert api(auditor).get(LIST + "?from=2000-01-01").json()["count"] == 1


def test_another_unit_kind_has_its_own_peers(api, ward_nurse, clinician):
    day_row(clinician, orders=10, late=10)
    day_row(ward_nurse, orders=10, late=1)
    data = api(ward_nurse).get(ME).json()
    assert data["peers"]["late_rate"] == 0.1


def test_own_figures_count_an_order_at_once_without_waiting_for_the_refresh_task(api, clinician):
    from requisitions.models_compliance import ComplianceDirty

    requisition_for(clinician)
    assert ComplianceDirty.objects.exists()  # not yet taken by the beat task
    assert api(clinician).get("/api/v1/compliance/me/").json()["orders"] == 1
