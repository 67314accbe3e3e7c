from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/offices/",
        "/api/v1/postal-codes/0150/",
        "/api/v1/routing/preview/?municipality=0301&level=taxi",
    ],
)
def test_anonymous_calls_get_401(api, reference_data, path):
    response = api(None).get(path)
    assert response.status_code == 401


def test_it_lists_all_offices(api, clinician):
    response = api(clinician).get("/api/v1/offices/")
    assert response.status_code == 200
    codes = {office["code"]: office for office in response.json()}
    assert len(codes) == 11
    assert codes["PR-OUS"] == {
        "code": "PR-OUS",
        "name": "Pasientreiser Oslo universitetssykehus",
        "kind": "PASIENTREISER",
        "trust": "OUS",
    }


def test_a_postal_code_gives_place_and_municipality(api, office_worker):
    response = api(office_worker).get("/api/v1/postal-codes/3570/")
    assert response.status_code == 200
    assert response.json() == {
        "postal_code": "3570",
        "place": "ÅL",
        "municipality": {"number": "3328", "name": "Ål"},
    }


@pytest.mark.parametrize("code", ["9998", "abcd", "12345"])
def test_an_unknown_postal_code_is_404(api, clinician, code):
    assert api(clinician).get(f"/api/v1/postal-codes/{code}/").status_code == 404


@pytest.mark.parametrize(
    ("municipality", "level", "office"),
    [
        ("0301", "ambulance", "AMK-OSLO"),
        ("0301", "white_car", "PR-OUS"),
        ("3301", "white_car", "AMK-VESTREVIKEN"),
        ("4001", "taxi", "PR-TELEMARK"),
        ("0301", "public_transport", None),
    ],
)
def test_the_preview_names_the_office(api, auditor, municipality, level, office):
    response = api(auditor).get(f"/api/v1/routing/preview/?municipality={municipality}&level={level}")
    assert response.status_code == 200
    body = response.json()
    assert (body["office"] or {}).get("code") == office
    if office:
        assert set(body["office"]) == {"code", "name", "kind"}


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ("municipality=9999&level=taxi", {"municipality"}),
        ("municipality=0301&level=rocket", {"level"}),
        ("", {"municipality", "level"}),
        ("municipality=0301", {"level"}),
    ],
)
def test_the_preview_refuses_unknown_parameters_by_name(api, clinician, query, bad):
    response = api(clinician).get(f"/api/v1/routing/preview/?{query}")
    assert response.status_code == 400
    assert set(response.json()) == bad


def test_the_schema_and_docs_are_served_without_a_cdn(client, reference_data):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
