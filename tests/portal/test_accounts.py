from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from portal import roles
from portal.models import RequisitioningUnit, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_create_portal_user_prints_only_the_token(reference_data, capsys):
    call_command(
        "create_portal_user",
        "gp",
        "--role",
        "requisitioner",
        "--unit",
        "Ny legekontor",
        "--password",
        "Secret-pass-9876",
        "--token",
    )
    out = capsys.readouterr().out.strip()
    user = User.objects.get(username="gp")
    assert out == Token.objects.get(user=user).key
    assert roles.roles_of(user) == {"requisitioner"}
    assert user.unit == RequisitioningUnit.objects.get(name="Ny legekontor")
    assert user.check_password("Secret-pass-9876")


def test_running_it_twice_keeps_one_user_and_token(reference_data, capsys):
    for _ in range(2):
        call_command("create_portal_user", "staff", "--role", "office_staff", "--office", "AMK-OSLO", "--token")
    first, second = capsys.readouterr().out.split()
    assert first == second
    assert User.objects.get(username="staff").office.code == "AMK-OSLO"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "office_staff"], "office"),
        (["--role", "office_staff", "--office", "NOPE"], "NOPE"),
        (["--role", "requisitioner"], "unit"),
        (["--role", "clerk"], "unit"),
    ],
)
def test_it_refuses_incomplete_roles(reference_data, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_portal_user", "x", *args)


@pytest.mark.parametrize(
    ("persona", "heading"),
    [
        ("clinician", "Bestill pasienttransport"),
        ("office_worker", "Kø for Pasientreiser Oslo"),
        ("auditor", "Rekvireringsmønstre"),
    ],
)
def test_each_role_gets_its_home_page(client, request, persona, heading):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_the_home_page_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_page_is_norwegian_with_a_skip_link(client, db):
    html = client.get("/login/").content.decode()
    assert 'lang="nb"' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert "Brukernavn" in html


def test_english_can_be_chosen(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}, follow=True)
    assert "Username" in response.content.decode()


def test_repeated_failed_logins_lock_the_account(client, clinician, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": clinician.username, "password": "wrong-password"})
    response = client.post("/login/", {"username": clinician.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
