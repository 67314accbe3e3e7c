"""POST /api/v1/requisitions/ and /attest/ (docs: api.md "Validation on create", "Errors")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portal import roles
from portal.services import portal_user_create
from requisitions.models import IdempotencyKey, Patient, Requisition
from requisitions.national_id import _with_check_digits, make_synthetic_national_id
from tests.requisitions import factories
from tests.requisitions.factories import address, answers, appointment, order_body, soon

# Faster drop-ins for the conftest fixtures of the same names (see factories).
api = factories.api
reference_data = factories.reference_data

pytestmark = pytest.mark.django_db

URL = "/api/v1/requisitions/"


def create(client, body, **extra):
    return client.post(URL, body, format="json", **extra)


def messages_at(errors, path):
    """The messages at ``path`` in a 400 body; fails unless they are non-empty human-readable text.

    List items are keyed by their index, as DRF does (``{"trips": {"1": {"pickup_at": [...]}}}``),
    whether the serializer or a service found the problem.
    """
    node = errors
    for part in path:
        assert isinstance(node, dict), (path, errors)
        node = node[str(part)]
    assert isinstance(node, list) and node and all(isinstance(text, str) and text for text in node), (path, errors)
    return node


def _set(path, value):
    """A body change: put ``value`` at ``path`` (None for the value deletes the key)."""

    def change(body):
        node = body
        for part in path[:-1]:
            node = node[part]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


def _impossible_date_id() -> str:
    """An 11-digit number with valid check digits but born on 31 February."""
    for individual in range(100, 500):
        number = _with_check_digits(f"310285{individual:03d}")
        if number:
            return number
    raise AssertionError("no number found")


def _wrong_checksum_id() -> str:
    valid = make_synthetic_national_id(7)
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def _two_outbound(body):
    body["trips"][1]["direction"] = "outbound"
    body["trips"][1]["appointment_at"] = appointment(days=22)


def _return_before_outbound(body):
    body["trips"][1]["pickup_at"] = appointment(days=20)


def _past(body):
    body["trips"][0]["appointment_at"] = (timezone.localtime() - dt.timedelta(hours=1)).isoformat()


PATIENT = ("patient",)
ADDRESS = ("patient", "address")

# Every row of the contract's validation table: (id, change to a valid body, error path).
INVALID = [
    ("national_id_too_short", _set((*PATIENT, "national_id"), "1234567890"), (*PATIENT, "national_id")),
    ("national_id_too_long", _set((*PATIENT, "national_id"), "123456789012"), (*PATIENT, "national_id")),
    ("national_id_letters", _set((*PATIENT, "national_id"), "1234567890a"), (*PATIENT, "national_id")),
    ("national_id_checksum", _set((*PATIENT, "national_id"), _wrong_checksum_id()), (*PATIENT, "national_id")),
    ("national_id_impossible_date", _set((*PATIENT, "national_id"), _impossible_date_id()), (*PATIENT, "national_id")),
    ("national_id_missing", _set((*PATIENT, "national_id"), None), (*PATIENT, "national_id")),
    ("phone_too_short", _set((*PATIENT, "phone"), "12"), (*PATIENT, "phone")),
    ("phone_letters", _set((*PATIENT, "phone"), "912 34 ABC"), (*PATIENT, "phone")),
    ("phone_unknown_country", _set((*PATIENT, "phone"), "+999 1234 5678"), (*PATIENT, "phone")),
    ("phone_not_text", _set((*PATIENT, "phone"), ["91234567"]), (*PATIENT, "phone")),
    ("postal_code_unknown", _set((*ADDRESS, "postal_code"), "9998"), (*ADDRESS, "postal_code")),
    ("postal_code_five_digits", _set((*ADDRESS, "postal_code"), "04500"), (*ADDRESS, "postal_code")),
    ("postal_code_elsewhere", _set((*ADDRESS, "postal_code"), "3001"), (*ADDRESS, "postal_code")),
    ("municipality_unknown", _set((*ADDRESS, "municipality"), "9999"), (*ADDRESS, "municipality")),
    ("municipality_three_digits", _set((*ADDRESS, "municipality"), "301"), (*ADDRESS, "municipality")),
    ("municipality_not_digits", _set((*ADDRESS, "municipality"), "Oslo"), (*ADDRESS, "municipality")),
    (
        "trip_from_municipality",
        _set(("trips", 0, "from", "municipality"), "9999"),
        ("trips", 0, "from", "municipality"),
    ),
    ("trip_to_municipality", _set(("trips", 0, "to", "municipality"), "0000"), ("trips", 0, "to", "municipality")),
    (
        "return_from_municipality",
        _set(("trips", 1, "from", "municipality"), "12"),
        ("trips", 1, "from", "municipality"),
    ),
    ("return_to_municipality", _set(("trips", 1, "to", "municipality"), "abcd"), ("trips", 1, "to", "municipality")),
    ("trip_postal_code_elsewhere", _set(("trips", 0, "to", "postal_code"), "3901"), ("trips", 0, "to", "postal_code")),
    ("answers_unknown_question", _set(("answers", "favourite_colour"), "blue"), ("answers", "favourite_colour")),
    ("answers_wrong_type", _set(("answers", "needs_monitoring"), "no"), ("answers", "needs_monitoring")),
    ("answers_enum", _set(("answers", "mobility"), "hopping"), ("answers", "mobility")),
    ("answers_range", _set(("answers", "companions"), 5), ("answers", "companions")),
    ("answers_missing", _set(("answers", "must_lie_down"), None), ("answers", "must_lie_down")),
    ("answers_not_an_object", _set(("answers",), ["taxi"]), ("answers",)),
    ("answers_acute", _set(("answers", "acute_symptoms"), True), ("answers", "acute_symptoms")),
    ("level_unknown", _set(("level",), "rocket"), ("level",)),
    ("level_below", _set(("level",), "helseekspress"), ("level",)),
    ("level_public_transport", _set(("level",), "public_transport"), ("level",)),
    ("level_recommended_public_transport", _set(("answers",), answers("public_transport")), ("level",)),
    (
        "deviation_reason_missing",
        lambda body: body.update(level="white_car", deviation_code="clinical_judgement"),
        ("deviation_reason",),
    ),
    (
        "deviation_reason_short",
        lambda body: body.update(level="white_car", deviation_code="other", deviation_reason="  For kort  "),
        ("deviation_reason",),
    ),
    ("trips_empty", _set(("trips",), []), ("trips",)),
    ("trips_not_a_list", _set(("trips",), {"direction": "outbound"}), ("trips", "non_field_errors")),
    ("trips_two_outbound", _two_outbound, ("trips",)),
    ("trips_only_a_return", lambda body: body["trips"].pop(0), ("trips",)),
    ("trips_return_before_outbound", _return_before_outbound, ("trips", 1, "pickup_at")),
    ("trip_direction_unknown", _set(("trips", 0, "direction"), "sideways"), ("trips", 0, "direction")),
    ("appointment_missing", _set(("trips", 0, "appointment_at"), None), ("trips", 0, "appointment_at")),
    ("appointment_null", lambda body: body["trips"][0].update(appointment_at=None), ("trips", 0, "appointment_at")),
    ("appointment_naive", _set(("trips", 0, "appointment_at"), "2031-11-24T10:00:00"), ("trips", 0, "appointment_at")),
    ("appointment_date_only", _set(("trips", 0, "appointment_at"), "2031-11-24"), ("trips", 0, "appointment_at")),
    ("appointment_not_iso", _set(("trips", 0, "appointment_at"), "24.11.2031 10:00"), ("trips", 0, "appointment_at")),
    ("appointment_number", _set(("trips", 0, "appointment_at"), 1890000000), ("trips", 0, "appointment_at")),
    ("appointment_past", _past, ("trips", 0, "appointment_at")),
    ("return_pickup_naive", _set(("trips", 1, "pickup_at"), "2031-11-24T14:00"), ("trips", 1, "pickup_at")),
]


@pytest.mark.parametrize(("change", "path"), [row[1:] for row in INVALID], ids=[row[0] for row in INVALID])
def test_it_refuses_bad_input_naming_the_path(api, clinician, change, path):
    body = order_body()
    change(body)
    response = create(api(clinician), body)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == [path[0]]
    messages_at(errors, path)
    assert not Requisition.objects.exists()


def test_it_refuses_synthetic_national_ids_when_the_setting_forbids_them(api, clinician, settings):
    settings.ALLOW_SYNTHETIC_NATIONAL_IDS = False
    response = create(api(clinician), order_body())
    assert response.status_code == 400
    messages_at(response.json(), ("patient", "national_id"))


def test_messages_are_norwegian_by_default(api, clinician):
    body = order_body()
    body["patient"]["national_id"] = _wrong_checksum_id()
    response = create(api(clinician), body)
    assert response.json() == {"patient": {"national_id": ["Ugyldig fødselsnummer: kontrollsifferet stemmer ikke."]}}


def test_messages_are_in_english_when_asked_for(api, clinician):
    body = order_body()
    body["patient"]["national_id"] = _wrong_checksum_id()
    response = create(api(clinician), body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {
        "patient": {"national_id": ["Invalid national ID number: the check digits do not match."]}
    }


@pytest.mark.parametrize(
    "payload",
    ["{not json", "", "[]", '[{"patient": {}}]', "null", '"order"', "17", "true"],
)
def test_a_body_that_is_not_a_json_object_is_400_never_500(api, clinician, payload):
    response = api(clinician).generic("POST", URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    "payload",
    ["{not json", "[]", "null"],
)
def test_a_bad_body_with_an_idempotency_key_is_400_too(api, clinician, payload):
    response = api(clinician).generic(
        "POST", URL, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad-body"
    )
    assert response.status_code == 400
    assert not IdempotencyKey.objects.exists()


# --- success ------------------------------------------------------------------------------------------


def test_a_clinicians_order_is_submitted_with_the_recommendation(api, clinician, django_capture_on_commit_callbacks):
    body = order_body(answers=answers("taxi", isolation=True))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = create(api(clinician), body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "submitted"  # routing runs after commit
    assert len(callbacks) == 1
    assert (created["recommended_level"], created["level"]) == ("taxi", "taxi")
    assert created["above_recommendation"] is False
    assert created["requirements"] == ["isolation", "no_shared_ride"]
    assert created["late"] is False
    assert created["requisitioner"] == "lege"
    assert created["unit"] == "Majorstuen legekontor"
    assert created["checklist_version"] == "hso-2026.1"
    assert [trip["direction"] for trip in created["trips"]] == ["outbound", "return"]
    assert created["trips"][0]["from"] == address("0301", street="Hjemmeveien 1")
    assert [(e["action"], e["to_status"], e["actor"]) for e in created["events"]] == [
        ("requisition.submitted", "submitted", "lege")
    ]
    saved = Requisition.objects.get(pk=created["id"])
    assert (saved.status, saved.office.code) == ("routed", "PR-OUS")


@pytest.mark.django_db(transaction=True)
def test_the_response_is_routed_when_tasks_run_eagerly(api, clinician):
    """Outside a test transaction the order commits, routing runs at once, and the 201 shows it."""
    response = create(api(clinician), order_body())
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "routed"
    assert created["office"] == {
        "code": "PR-OUS",
        "name": "Pasientreiser Oslo universitetssykehus",
        "kind": "PASIENTREISER",
    }
    assert [event["to_status"] for event in created["events"]] == ["submitted", "routed"]


@pytest.mark.parametrize(
    ("level_of", "pickup", "office"),
    [
        ("ambulance", "0301", "AMK-OSLO"),
        ("white_car", "0301", "PR-OUS"),
        ("white_car", "3301", "AMK-VESTREVIKEN"),
        ("wheelchair_taxi", "4001", "PR-TELEMARK"),
    ],
)
def test_it_routes_by_level_and_pickup(api, clinician, django_capture_on_commit_callbacks, level_of, pickup, office):
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api(clinician), order_body(level_of=level_of, pickup=pickup))
    assert response.status_code == 201, response.json()
    saved = Requisition.objects.select_related("office").get(pk=response.json()["id"])
    assert (saved.status, saved.level, saved.office.code) == ("routed", level_of, office)


def test_an_order_after_the_cut_off_is_late(api, clinician):
    body = order_body(with_return=False)
    body["trips"][0]["appointment_at"] = soon()
    response = create(api(clinician), body)
    assert response.status_code == 201, response.json()
    assert response.json()["late"] is True


def test_a_level_above_the_recommendation_needs_and_keeps_a_reason(api, clinician):
    body = order_body(level="white_car", deviation_code="patient_safety", deviation_reason="  Faller ofte i bilen.  ")
    response = create(api(clinician), body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["recommended_level"], created["level"], created["above_recommendation"]) == (
        "taxi",
        "white_car",
        True,
    )
    assert (created["deviation_code"], created["deviation_reason"]) == ("patient_safety", "Faller ofte i bilen.")


def test_choosing_the_recommended_level_needs_no_reason(api, clinician):
    response = create(api(clinician), order_body(level="taxi", deviation_code="other", deviation_reason="ignored"))
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["level"], created["above_recommendation"], created["deviation_reason"]) == ("taxi", False, "")


def test_a_return_may_give_its_time_as_appointment_at(api, clinician):
    """The contract's trip shape has ``appointment_at`` on every leg, the return included."""
    body = order_body()
    back = body["trips"][1]
    back["appointment_at"] = back.pop("pickup_at")
    response = create(api(clinician), body)
    assert response.status_code == 201, response.json()
    assert response.json()["trips"][1]["appointment_at"] == back["appointment_at"]


def test_a_return_appointment_before_the_outbound_is_refused(api, clinician):
    body = order_body()
    back = body["trips"][1]
    back.pop("pickup_at")
    back["appointment_at"] = appointment(days=20)
    response = create(api(clinician), body)
    assert response.status_code == 400
    messages_at(response.json(), ("trips", 1, "appointment_at"))


def test_the_patient_is_upserted_by_national_id(api, clinician):
    first = order_body(seed=3)
    second = order_body(seed=3)
    second["patient"].update(phone="987 65 432", name="Test Pasient Nytt-Navn")
    assert create(api(clinician), first).status_code == 201
    assert create(api(clinician), second).status_code == 201
    patient = Patient.objects.get()
    assert (patient.phone, patient.name) == ("+4798765432", "Test Pasient Nytt-Navn")
    assert patient.requisitions.count() == 2


def test_the_phone_is_stored_in_e164(api, clinician):
    body = order_body()
    body["patient"]["phone"] = "0047 912 34 567"
    response = create(api(clinician), body)
    assert response.status_code == 201
    assert response.json()["patient"]["phone"] == "+4791234567"


# --- who may order ------------------------------------------------------------------------------------


def test_login_is_required(api, reference_data):
    assert create(api(None), order_body()).status_code == 401


@pytest.mark.parametrize("persona", ["office_worker", "auditor", "outsider"])
def test_only_requisitioners_and_clerks_may_order(api, request, persona):
    response = create(api(request.getfixturevalue(persona)), order_body())
    assert response.status_code == 403
    assert not Requisition.objects.exists()


def test_a_clerks_order_awaits_the_named_clinicians_attestation(api, clerk, clinician):
    response = create(api(clerk), order_body(requisitioner="lege"))
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["requisitioner"], created["office"]) == ("awaiting_attestation", "lege", None)
    assert [(e["action"], e["actor"]) for e in created["events"]] == [("requisition.entered", "sekretaer")]
    assert Requisition.objects.get().entered_by == clerk


@pytest.mark.parametrize(
    "named",
    [None, "", "nobody", "sykepleier", "sekretaer", "revisor", ["lege"]],
    ids=["missing", "blank", "unknown", "other_units_clinician", "a_clerk", "an_auditor", "not_text"],
)
def test_a_clerk_must_name_a_clinician_of_the_unit(api, clerk, clinician, ward_nurse, auditor, named):
    body = order_body() if named is None else order_body(requisitioner=named)
    response = create(api(clerk), body)
    assert response.status_code == 400
    assert list(response.json()) == ["requisitioner"]
    messages_at(response.json(), ("requisitioner",))
    assert not Requisition.objects.exists()


def test_a_clinician_orders_for_themselves_whoever_they_name(api, clinician, ward_nurse):
    response = create(api(clinician), order_body(requisitioner="sykepleier"))
    assert response.status_code == 201
    assert response.json()["requisitioner"] == "lege"


@pytest.fixture
def awaiting(api, clerk, clinician):
    response = create(api(clerk), order_body(requisitioner="lege"))
    assert response.status_code == 201
    return response.json()["id"]


def attest_url(pk):
    return f"{URL}{pk}/attest/"


def test_the_named_clinician_attests_and_the_order_is_routed(
    api, clinician, awaiting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(clinician).post(attest_url(awaiting))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    saved = Requisition.objects.get(pk=awaiting)
    assert (saved.status, saved.office.code) == ("routed", "PR-OUS")
    assert saved.submitted_at is not None
    assert list(saved.events.values_list("action", "actor__username")) == [
        ("requisition.entered", "sekretaer"),
        ("requisition.submitted", "lege"),
        ("routing.routed", None),
    ]


def test_attesting_twice_is_a_conflict(api, clinician, awaiting):
    assert api(clinician).post(attest_url(awaiting)).status_code == 200
    response = api(clinician).post(attest_url(awaiting))
    assert response.status_code == 409
    assert response.json()["detail"]


def test_the_clerk_cannot_attest(api, clerk, awaiting):
    response = api(clerk).post(attest_url(awaiting))
    assert response.status_code == 403
    assert Requisition.objects.get(pk=awaiting).status == "awaiting_attestation"


def test_another_clinician_of_the_unit_cannot_attest(api, gp_practice, awaiting):
    colleague = portal_user_create(username="lege2", role=roles.REQUISITIONER, unit=gp_practice)
    assert api(colleague).post(attest_url(awaiting)).status_code == 403


@pytest.mark.parametrize(
    ("persona", "status"),
    [("auditor", 403), ("ward_nurse", 404), ("office_worker", 404), ("outsider", 404)],
)
def test_others_cannot_attest(api, request, awaiting, persona, status):
    assert api(request.getfixturevalue(persona)).post(attest_url(awaiting)).status_code == status
    assert Requisition.objects.get(pk=awaiting).status == "awaiting_attestation"


def test_attesting_needs_login(api, awaiting):
    assert api(None).post(attest_url(awaiting)).status_code == 401


# --- Idempotency-Key --------------------------------------------------------------------------------


def test_a_repeat_with_the_same_key_returns_the_first_response(api, clinician):
    client, body = api(clinician), order_body()
    first = create(client, body, HTTP_IDEMPOTENCY_KEY="order-1")
    again = create(client, body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert Requisition.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(api, clinician):
    client = api(clinician)
    assert create(client, order_body(seed=1), HTTP_IDEMPOTENCY_KEY="order-1").status_code == 201
    response = create(client, order_body(seed=2), HTTP_IDEMPOTENCY_KEY="order-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()
    assert Requisition.objects.count() == 1


def test_a_key_still_in_progress_is_a_conflict(api, clinician):
    from requisitions.api.idempotency import _hash

    body = order_body()
    IdempotencyKey.objects.create(user=clinician, key="order-1", request_hash=_hash(body), status_code=None)
    response = create(api(clinician), body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()
    assert not Requisition.objects.exists()


def test_keys_belong_to_their_user(api, clinician, ward_nurse):
    assert create(api(clinician), order_body(), HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    response = create(api(ward_nurse), order_body(pickup="3301"), HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201
    assert Requisition.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(api, clinician):
    client, body = api(clinician), order_body()
    bad = {**body, "level": "rocket"}
    assert create(client, bad, HTTP_IDEMPOTENCY_KEY="order-1").status_code == 400
    assert create(client, body, HTTP_IDEMPOTENCY_KEY="order-1").status_code == 201


def test_an_overlong_key_is_400(api, clinician):
    response = create(api(clinician), order_body(), HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
