from __future__ import annotations

import copy

import pytest

from requisitions import beon
from requisitions.admin import ChecklistVersionForm
from requisitions.checklists import ruleset_in_force
from requisitions.models import ChecklistVersion

pytestmark = pytest.mark.django_db


def new_version(**changes):
    document = copy.deepcopy(dict(beon.default_ruleset().document))
    document.update(changes)
    return document


def test_a_valid_rule_set_is_accepted_and_takes_over_from_its_date():
    form = ChecklistVersionForm(data={"document": new_version(version="hso-2027.1", valid_from="2027-01-01")})
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.version, str(saved.valid_from)) == ("hso-2027.1", "2027-01-01")
    import datetime as dt

    assert ruleset_in_force(dt.date(2026, 12, 31)).version == "hso-2026.1"
    assert ruleset_in_force(dt.date(2027, 1, 1)).version == "hso-2027.1"


def test_an_invalid_rule_set_is_refused_with_the_path_of_the_problem():
    document = new_version(version="hso-2027.2")
    document["rules"][1]["when"] = {"q": "no_such_question", "eq": True}
    form = ChecklistVersionForm(data={"document": document})
    assert not form.is_valid()
    assert "no_such_question" in str(form.errors["document"])
    assert not ChecklistVersion.objects.exists()


def test_the_admin_pages_load(admin_client, clinician):
    from tests.requisitions.factories import requisition_for

    requisition = requisition_for(clinician)
    for url in [
        "/admin/requisitions/requisition/",
        f"/admin/requisitions/requisition/{requisition.pk}/change/",
        "/admin/requisitions/checklistversion/add/",
        "/admin/requisitions/helseekspressroute/",
    ]:
        assert admin_client.get(url).status_code == 200, url
