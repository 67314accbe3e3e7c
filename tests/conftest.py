"""Shared fixtures: reference data and the fixed personas of the house style."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from portal import roles
from portal.models import RequisitioningUnit
from portal.reference import load_reference_data
from portal.services import api_token_for, portal_user_create, unit_get_or_create

PASSWORD = "Persona-pass-2026"


@pytest.fixture
def reference_data(db):
    return load_reference_data()


@pytest.fixture
def gp_practice(reference_data):
    return unit_get_or_create(name="Majorstuen legekontor", municipality_number="0301")


@pytest.fixture
def ward(reference_data):
    return unit_get_or_create(
        name="Drammen sykehus, medisinsk post", kind=RequisitioningUnit.Kind.WARD, municipality_number="3301"
    )


def _persona(username, role, **kwargs):
    return portal_user_create(username=username, role=role, password=PASSWORD, **kwargs)


@pytest.fixture
def clinician(gp_practice):
    return _persona(
        "lege",
        roles.REQUISITIONER,
        unit=gp_practice,
        hpr_number="1234567",
        first_name="Lise",
        last_name="Lege",
    )


@pytest.fixture
def clerk(gp_practice):
    return _persona("sekretaer", roles.CLERK, unit=gp_practice, first_name="Siri", last_name="Sekretær")


@pytest.fixture
def ward_nurse(ward):
    return _persona("sykepleier", roles.REQUISITIONER, unit=ward, first_name="Sander", last_name="Sykepleier")


@pytest.fixture
def office_worker(reference_data):
    return _persona("pr_ous", roles.OFFICE_STAFF, office_code="PR-OUS", first_name="Olav", last_name="Kontor")


@pytest.fixture
def other_office_worker(reference_data):
    return _persona("pr_telemark", roles.OFFICE_STAFF, office_code="PR-TELEMARK")


@pytest.fixture
def auditor(reference_data):
    return _persona("revisor", roles.AUDITOR, first_name="Randi", last_name="Revisor")


@pytest.fixture
def outsider(db):
    from portal.models import User

    user = User.objects.create_user("utenforstaende", password=PASSWORD)
    return user


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def api():
    return api_client_for


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration and tests/e2e carry their marker without repeating it."""
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
