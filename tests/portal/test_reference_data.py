from __future__ import annotations

import datetime as dt

import pytest

from portal.models import HealthTrust, Municipality, Office, PostalCode
from portal.reference import load_reference_data
from routing.models import Coverage
from routing.resolver import resolve
from routing.selectors import area_for_municipality, area_for_trust


def _snapshot():
    return (
        list(HealthTrust.objects.values_list("code", "white_cars_from_pasientreiser", "default_amk__code")),
        list(Office.objects.values_list("code", "kind", "trust__code", "cut_off_time")),
        Municipality.objects.count(),
        PostalCode.objects.count(),
        list(Coverage.objects.values_list("municipality__number", "office_kind", "office__code", "valid_from")),
    )


def test_loading_twice_changes_nothing(reference_data):
    before = _snapshot()
    report = load_reference_data()
    assert _snapshot() == before
    assert (report.trusts, report.offices, report.municipalities) == (7, 11, 146)


def test_it_loads_the_region(reference_data):
    assert Municipality.objects.filter(trust__isnull=False).count() == 146
    assert Coverage.objects.count() == 292
    assert PostalCode.objects.get(code="0150").municipality.number == "0301"
    assert HealthTrust.objects.get(code="OUS").white_cars_from_pasientreiser
    assert not HealthTrust.objects.get(code="VV").white_cars_from_pasientreiser
    # Postal codes outside the region point at municipalities without a trust.
    bergen = PostalCode.objects.get(code="5003").municipality
    assert bergen.trust is None and bergen.name == "Bergen"


@pytest.mark.django_db
def test_every_municipality_routes_through_the_database(reference_data):
    day = dt.date(2026, 11, 27)
    for municipality in Municipality.objects.filter(trust__isnull=False).select_related("trust"):
        area = area_for_municipality(municipality)
        assert resolve("ambulance", area, on=day).kind == "AMK", municipality
        assert resolve("taxi", area, on=day).kind == "PASIENTREISER", municipality


@pytest.mark.parametrize(
    ("trust", "amk", "pr"), [("STHF", "AMK-VESTFOLD", "PR-TELEMARK"), ("SO", "AMK-OSLO", "PR-OSTFOLD")]
)
def test_each_trust_has_default_offices_for_pickups_outside_the_region(reference_data, trust, amk, pr):
    area = area_for_trust(HealthTrust.objects.get(code=trust))
    day = dt.date(2026, 11, 27)
    assert resolve("ambulance", area, on=day).code == amk
    assert resolve("taxi", area, on=day).code == pr
