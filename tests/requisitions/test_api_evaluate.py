"""POST /api/v1/beon/evaluate/ (docs: api.md "Endpoints", beon-checklist.md)."""

from __future__ import annotations

import pytest

from requisitions import beon
from tests.requisitions import factories
from tests.requisitions.factories import BASE_ANSWERS, answers

# Faster drop-ins for the conftest fixtures of the same names (see factories).
api = factories.api
reference_data = factories.reference_data

pytestmark = pytest.mark.django_db

URL = "/api/v1/beon/evaluate/"
RS = beon.default_ruleset()


def evaluate(client, body, **extra):
    return client.post(URL, body, format="json", **extra)


@pytest.fixture
def signed_in(api, outsider):
    """ "Any signed-in user" may evaluate: even one with no role in the portal."""
    return api(outsider)


def test_login_is_required(api):
    response = evaluate(api(None), {"answers": answers()})
    assert response.status_code == 401


@pytest.mark.parametrize("persona", ["clinician", "clerk", "office_worker", "auditor", "outsider"])
def test_any_signed_in_user_may_evaluate(api, request, persona):
    response = evaluate(api(request.getfixturevalue(persona)), {"answers": answers()})
    assert response.status_code == 200


def test_the_result_has_the_contract_shape(signed_in):
    response = evaluate(signed_in, {"answers": answers("taxi")})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"checklist_version", "level", "requirements", "reasons", "stop"}
    assert body["checklist_version"] == beon.DEFAULT_VERSION
    assert body["stop"] is None
    assert isinstance(body["requirements"], list)
    assert body["reasons"] and all(set(reason) == {"question", "text"} for reason in body["reasons"])


@pytest.mark.parametrize(
    ("changes", "level", "requirements"),
    [
        ({}, "public_transport", []),
        ({"reduced_orientation": True, "helseekspress_available": True}, "helseekspress", []),
        ({"reduced_orientation": True}, "taxi", []),
        ({"mental_health_barrier": True, "can_travel_independently": True}, "taxi", []),
        ({"mobility": "electric_wheelchair"}, "wheelchair_taxi", ["wheelchair_space"]),
        ({"mobility": "wheelchair_cannot_transfer"}, "wheelchair_taxi", ["wheelchair_space"]),
        ({"must_lie_down": True}, "white_car", ["stretcher"]),
        ({"mobility": "bedbound"}, "white_car", ["stretcher"]),
        ({"needs_monitoring": True}, "ambulance", []),
        ({"needs_medical_equipment": True}, "ambulance", []),
        ({"oxygen": "needs_supply"}, "ambulance", ["oxygen"]),
        ({"danger_to_self_or_others": True}, "ambulance", ["escort_personnel", "no_shared_ride"]),
        (
            {"isolation": True, "front_seat": True, "door_to_door": True, "child_seat": True},
            "taxi",
            ["child_seat", "door_to_door", "front_seat", "isolation", "no_shared_ride"],
        ),
        ({"reduced_orientation": True, "companions": 1, "companion_reason": "Dement."}, "taxi", ["companion"]),
        ({"oxygen": "own_equipment", "front_seat": True}, "public_transport", []),
    ],
)
def test_it_recommends_each_level_with_its_requirements(signed_in, changes, level, requirements):
    response = evaluate(signed_in, {"answers": {**BASE_ANSWERS, **changes}})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["level"], body["requirements"], body["stop"]) == (level, requirements, None)


def test_acute_symptoms_stop_with_call_113_and_no_level(signed_in):
    response = evaluate(signed_in, {"answers": answers("ambulance", acute_symptoms=True, must_lie_down=True)})
    assert response.status_code == 200
    body = response.json()
    assert body["stop"] == "call_113"
    assert body["level"] is None
    assert body["requirements"] == []
    assert [reason["question"] for reason in body["reasons"]] == ["acute_symptoms"]


def test_it_evaluates_a_named_checklist_version(signed_in):
    response = evaluate(signed_in, {"answers": answers(), "checklist_version": beon.DEFAULT_VERSION})
    assert response.status_code == 200
    assert response.json()["checklist_version"] == beon.DEFAULT_VERSION


def _without(question):
    return {key: value for key, value in BASE_ANSWERS.items() if key != question}


@pytest.mark.parametrize(
    ("bad_answers", "question"),
    [
        ({**BASE_ANSWERS, "favourite_colour": "blue"}, "favourite_colour"),
        ({**BASE_ANSWERS, "needs_monitoring": "yes"}, "needs_monitoring"),
        ({**BASE_ANSWERS, "needs_monitoring": 1}, "needs_monitoring"),
        ({**BASE_ANSWERS, "companions": "1"}, "companions"),
        ({**BASE_ANSWERS, "companions": 1.5}, "companions"),
        ({**BASE_ANSWERS, "companions": 3}, "companions"),
        ({**BASE_ANSWERS, "companions": -1}, "companions"),
        ({**BASE_ANSWERS, "mobility": "flying"}, "mobility"),
        ({**BASE_ANSWERS, "oxygen": "lots"}, "oxygen"),
        ({**BASE_ANSWERS, "alone_reason": 42}, "alone_reason"),
        ({**BASE_ANSWERS, "can_share_ride": False}, "alone_reason"),
        ({**BASE_ANSWERS, "companions": 1}, "companion_reason"),
        (_without("acute_symptoms"), "acute_symptoms"),
        (_without("mobility"), "mobility"),
        ({**BASE_ANSWERS, "must_lie_down": None}, "must_lie_down"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_bad_answer_is_400_naming_the_question(signed_in, bad_answers, question):
    response = evaluate(signed_in, {"answers": bad_answers})
    assert response.status_code == 400
    errors = response.json()["answers"]
    assert list(errors) == [question]
    assert errors[question] and all(isinstance(text, str) and text for text in errors[question])


def test_it_names_every_bad_question_at_once(signed_in):
    bad = {**_without("mobility"), "needs_monitoring": "yes", "unknown": True}
    response = evaluate(signed_in, {"answers": bad})
    assert response.status_code == 400
    assert set(response.json()["answers"]) == {"mobility", "needs_monitoring", "unknown"}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "answers"),
        ({"answers": None}, "answers"),
        ({"answers": ["acute_symptoms"]}, "answers"),
        ({"answers": "all good"}, "answers"),
        ({"answers": BASE_ANSWERS, "checklist_version": "hso-1999.9"}, "checklist_version"),
        ({"answers": BASE_ANSWERS, "checklist_version": ""}, "checklist_version"),
    ],
)
def test_a_malformed_body_is_400_naming_the_field(signed_in, body, path):
    response = evaluate(signed_in, body)
    assert response.status_code == 400
    assert path in response.json()


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ('["acute_symptoms"]', "application/json"),
        ("null", "application/json"),
        ('"answers"', "application/json"),
        ("42", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(signed_in, payload, content_type):
    response = signed_in.generic("POST", URL, payload, content_type=content_type)
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


def test_reasons_are_norwegian_by_default(signed_in):
    body = evaluate(signed_in, {"answers": answers("white_car")}).json()
    assert body["reasons"] == [{"question": "must_lie_down", "text": "Må ligge under transporten."}]


def test_reasons_are_english_when_asked_for(signed_in):
    body = evaluate(signed_in, {"answers": answers("white_car")}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["reasons"] == [{"question": "must_lie_down", "text": "Must lie down during transport."}]


@pytest.mark.parametrize("language", ["nb", "en"])
def test_every_reason_is_in_the_asked_language(signed_in, language):
    expected = beon.evaluate(RS, answers("helseekspress")).as_dict(language)["reasons"]
    body = evaluate(signed_in, {"answers": answers("helseekspress")}, HTTP_ACCEPT_LANGUAGE=language).json()
    assert body["reasons"] == expected
    assert len(expected) == 3


def test_the_evaluation_writes_nothing(signed_in, django_assert_max_num_queries):
    """Evaluating is a read: signing in and loading published versions, no writes."""
    with django_assert_max_num_queries(3) as captured:
        evaluate(signed_in, {"answers": answers()})
    assert not [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
