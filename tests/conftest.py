"""Shared fixtures: reference data, API clients and the fixed personas of the house style.

``api(user)`` gives an APIClient signed in with the user's token; all clients share one request handler,
so the middleware (and WhiteNoise's scan of the static files) loads once per run, not once per client.
"""

from __future__ import annotations

import pytest
from django.core.management.color import no_style
from django.db import connection, transaction
from rest_framework.test import APIClient, ForceAuthClientHandler

from portal import roles
from portal.models import HealthTrust, Municipality, Office, PostalCode, RequisitioningUnit
from portal.reference import load_reference_data
from portal.services import api_token_for, portal_user_create, unit_get_or_create
from routing.models import Coverage

PASSWORD = "Persona-pass-2026"


# --- reference data ----------------------------------------------------------------------------------

# Insert order matters only for readability: the foreign keys are deferred until commit.
_REFERENCE_MODELS = (HealthTrust, Office, Municipality, PostalCode, Coverage)
_snapshot: dict = {}


def _insert_statement(model) -> tuple[str, list[tuple]]:
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    rows = [tuple(f.get_db_prep_value(row[f.attname], connection) for f in fields) for row in model.objects.values()]
    table = connection.ops.quote_name(model._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows  # noqa: S608 - names from model meta


@pytest.fixture
def reference_data(db):
    """The region's reference data. The first test loads it with ``load_reference_data``; later tests
    insert the same rows again with one ``executemany`` per table, a fraction of the time."""
    if not _snapshot:
        _snapshot["report"] = load_reference_data()
        _snapshot["inserts"] = [_insert_statement(model) for model in _REFERENCE_MODELS]
        return _snapshot["report"]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, rows in _snapshot["inserts"]:
            cursor.executemany(sql, rows)
        for sql in connection.ops.sequence_reset_sql(no_style(), list(_REFERENCE_MODELS)):
            cursor.execute(sql)
    return _snapshot["report"]


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


_handlers: list = []


@pytest.fixture
def api():
    """``api(user)``: an APIClient signed in with the user's token (anonymous for None)."""

    def client_for(user):
        client = api_client_for(user)
        if not _handlers:
            _handlers.append(ForceAuthClientHandler(enforce_csrf_checks=False))
        client.handler = _handlers[0]
        return client

    return client_for


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration and tests/e2e carry their marker without repeating it."""
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _fresh_checklist_cache():
    """Published checklist versions are cached per process; a rolled-back test must not leave one behind."""
    from requisitions import checklists

    checklists.forget_published()
    yield
    checklists.forget_published()
