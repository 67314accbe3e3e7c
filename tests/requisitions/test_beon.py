"""The BEON engine and the shipped rule set ``hso-2026.1`` (docs: beon-checklist.md). No database."""

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from requisitions import beon

RS = beon.default_ruleset()
SHIPPED = Path(beon.__file__).parent / "rulesets" / "hso-2026.1.json"
BASE = {
    "acute_symptoms": False,
    "can_travel_independently": False,
    "needs_monitoring": False,
    "needs_medical_equipment": False,
    "must_lie_down": False,
    "mobility": "walks_unaided",
}
ALONE = {"can_share_ride": False, "alone_reason": "Urolig og forvirret i møte med fremmede."}
COMPANION_REASON = "Pasienten er et barn og trenger begge foreldre med."


def answers(**changes):
    return {**BASE, **changes}


def shipped_document():
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages are compared in English, the source language, with or without Django set up."""
    if apps.ready:
        with translation.override("en"):
            yield
    else:
        yield


# --- constants ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "rank"),
    [
        ("public_transport", 0),
        ("helseekspress", 1),
        ("taxi", 2),
        ("wheelchair_taxi", 3),
        ("white_car", 4),
        ("ambulance", 5),
    ],
)
def test_it_ranks_levels_from_the_lowest(level, rank):
    assert beon.level_rank(level) == rank
    assert beon.LEVELS[rank] == level


@pytest.mark.parametrize("level", ["helicopter", "", None, "Taxi"])
def test_it_refuses_to_rank_an_unknown_level(level):
    with pytest.raises(ValueError, match="Unknown level"):
        beon.level_rank(level)


def test_it_lists_the_ten_requirement_codes_sorted():
    assert beon.REQUIREMENTS == (
        "child_seat",
        "companion",
        "door_to_door",
        "escort_personnel",
        "front_seat",
        "isolation",
        "no_shared_ride",
        "oxygen",
        "stretcher",
        "wheelchair_space",
    )


def test_the_shipped_rule_set_is_hso_2026_1_and_loaded_once():
    assert RS.version == beon.DEFAULT_VERSION == "hso-2026.1"
    assert RS.valid_from == date(2026, 1, 1)
    assert beon.default_ruleset() is RS
    assert RS in beon.shipped_rulesets()
    assert RS.document == shipped_document()
    assert [level.id for level in RS.levels] == list(beon.LEVELS)


# --- rules: first match decides the level ------------------------------------------------------------

HX = {"helseekspress_available": True}


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        # rule 2: ambulance
        pytest.param({"needs_monitoring": True}, "ambulance", id="monitoring"),
        pytest.param({"needs_medical_equipment": True}, "ambulance", id="medical-equipment"),
        pytest.param({"oxygen": "needs_supply"}, "ambulance", id="oxygen-supply"),
        pytest.param({"danger_to_self_or_others": True}, "ambulance", id="danger"),
        pytest.param({"needs_monitoring": True, "must_lie_down": True, **HX}, "ambulance", id="ambulance-over-lying"),
        pytest.param({"needs_monitoring": True, "mobility": "electric_wheelchair"}, "ambulance", id="over-wheelchair"),
        # rule 3: lying
        pytest.param({"must_lie_down": True}, "white_car", id="lying"),
        pytest.param({"mobility": "bedbound"}, "white_car", id="bedbound"),
        pytest.param({"must_lie_down": True, **HX}, "helseekspress", id="lying-helseekspress"),
        pytest.param({"mobility": "bedbound", **HX}, "helseekspress", id="bedbound-helseekspress"),
        pytest.param({"must_lie_down": True, **HX, **ALONE}, "white_car", id="lying-helseekspress-alone"),
        pytest.param({"must_lie_down": True, **HX, "isolation": True}, "white_car", id="lying-helseekspress-isolation"),
        pytest.param(
            {"must_lie_down": True, "mobility": "electric_wheelchair"},
            "white_car",
            id="lying-over-wheelchair",
        ),
        pytest.param({"must_lie_down": True, "reduced_orientation": True}, "white_car", id="lying-over-criterion"),
        # rule 4: stays in the wheelchair
        pytest.param({"mobility": "wheelchair_cannot_transfer"}, "wheelchair_taxi", id="wheelchair-no-transfer"),
        pytest.param({"mobility": "electric_wheelchair"}, "wheelchair_taxi", id="electric-wheelchair"),
        pytest.param({"mobility": "electric_wheelchair", **HX}, "wheelchair_taxi", id="wheelchair-ignores-hx"),
        pytest.param(
            {"mobility": "wheelchair_cannot_transfer", "reduced_orientation": True},
            "wheelchair_taxi",
            id="wheelchair-over-criterion",
        ),
        # rule 5: a health criterion
        pytest.param({"reduced_orientation": True}, "taxi", id="orientation"),
        pytest.param({"reduced_general_condition": True}, "taxi", id="general-condition"),
        pytest.param({"mental_health_barrier": True}, "taxi", id="mental-health"),
        pytest.param({"isolation": True}, "taxi", id="isolation"),
        pytest.param({"mobility": "walks_with_aid"}, "taxi", id="walks-with-aid"),
        pytest.param({"mobility": "wheelchair_can_transfer"}, "taxi", id="wheelchair-can-transfer"),
        pytest.param({"reduced_orientation": True, **HX}, "helseekspress", id="orientation-helseekspress"),
        pytest.param({"reduced_general_condition": True, **HX}, "helseekspress", id="condition-helseekspress"),
        pytest.param({"mental_health_barrier": True, **HX}, "helseekspress", id="mental-helseekspress"),
        pytest.param({"mobility": "walks_with_aid", **HX}, "helseekspress", id="aid-helseekspress"),
        pytest.param({"mobility": "wheelchair_can_transfer", **HX}, "helseekspress", id="transfer-helseekspress"),
        pytest.param({"isolation": True, **HX}, "taxi", id="isolation-never-helseekspress"),
        pytest.param({"reduced_orientation": True, **HX, **ALONE}, "taxi", id="criterion-hx-alone"),
        pytest.param({"reduced_orientation": True, "can_travel_independently": True}, "taxi", id="need-wins"),
        # rule 6: otherwise
        pytest.param({}, "public_transport", id="nothing"),
        pytest.param({"can_travel_independently": True}, "public_transport", id="travels-independently"),
        pytest.param({**HX}, "public_transport", id="helseekspress-alone-is-no-criterion"),
        pytest.param({"oxygen": "own_equipment"}, "public_transport", id="own-oxygen"),
        pytest.param({**ALONE}, "public_transport", id="cannot-share-is-no-criterion"),
        pytest.param(
            {"front_seat": True, "door_to_door": True, "child_seat": True},
            "public_transport",
            id="comfort-needs-are-no-criterion",
        ),
    ],
)
def test_it_recommends_the_level_of_the_first_matching_rule(changes, level):
    result = beon.evaluate(RS, answers(**changes))
    assert (result.level, result.stop) == (level, None)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"needs_monitoring": True},
        {"must_lie_down": True, "isolation": True, "front_seat": True},
        {"mobility": "electric_wheelchair", "companions": 1, "companion_reason": "Tolk."},
    ],
)
def test_it_stops_with_call_113_when_symptoms_are_acute(changes):
    result = beon.evaluate(RS, answers(acute_symptoms=True, **changes))
    assert result.stop == "call_113"
    assert result.level is None
    assert result.requirements == ()
    assert [reason.question for reason in result.reasons] == ["acute_symptoms"]
    assert "113" in result.reasons[0].text("nb")
    assert result.as_dict()["level"] is None


def test_it_recommends_ambulance_when_monitoring_is_needed():
    assert beon.evaluate(RS, answers(needs_monitoring=True)).level == "ambulance"


# --- requirements ------------------------------------------------------------------------------------

TAXI = {"reduced_orientation": True}


@pytest.mark.parametrize(
    ("changes", "requirements"),
    [
        pytest.param({"must_lie_down": True}, ("stretcher",), id="lying"),
        pytest.param({"mobility": "bedbound"}, ("stretcher",), id="bedbound"),
        pytest.param({"must_lie_down": True, **HX}, ("stretcher",), id="lying-on-helseekspress"),
        pytest.param({"mobility": "wheelchair_cannot_transfer"}, ("wheelchair_space",), id="wheelchair"),
        pytest.param({"mobility": "electric_wheelchair"}, ("wheelchair_space",), id="electric-wheelchair"),
        pytest.param({**TAXI, "oxygen": "own_equipment"}, ("oxygen",), id="own-oxygen"),
        pytest.param({"oxygen": "needs_supply"}, ("oxygen",), id="oxygen-supply"),
        pytest.param({"isolation": True}, ("isolation", "no_shared_ride"), id="isolation"),
        pytest.param({"danger_to_self_or_others": True}, ("escort_personnel", "no_shared_ride"), id="danger"),
        pytest.param({**TAXI, **ALONE}, ("no_shared_ride",), id="cannot-share"),
        pytest.param({**TAXI, "companions": 1, "companion_reason": "Demens."}, ("companion",), id="one-companion"),
        pytest.param({**TAXI, "companions": 2, "companion_reason": COMPANION_REASON}, ("companion",), id="two"),
        pytest.param({**TAXI, "front_seat": True}, ("front_seat",), id="front-seat"),
        pytest.param({**TAXI, "door_to_door": True}, ("door_to_door",), id="door-to-door"),
        pytest.param({**TAXI, "child_seat": True}, ("child_seat",), id="child-seat"),
        pytest.param({**TAXI}, (), id="none"),
        pytest.param(
            {"isolation": True, "danger_to_self_or_others": True, **ALONE},
            ("escort_personnel", "isolation", "no_shared_ride"),
            id="no-shared-ride-once",
        ),
        pytest.param(
            {
                "mobility": "bedbound",
                "oxygen": "own_equipment",
                "child_seat": True,
                "front_seat": True,
                "door_to_door": True,
                "companions": 1,
                "companion_reason": "Mor.",
                "isolation": True,
            },
            (
                "child_seat",
                "companion",
                "door_to_door",
                "front_seat",
                "isolation",
                "no_shared_ride",
                "oxygen",
                "stretcher",
            ),
            id="sorted",
        ),
    ],
)
def test_it_adds_the_requirements_sorted_and_without_duplicates(changes, requirements):
    result = beon.evaluate(RS, answers(**changes))
    assert result.level != "public_transport"
    assert result.requirements == requirements


@pytest.mark.parametrize(
    "changes",
    [
        {"front_seat": True},
        {"door_to_door": True},
        {"child_seat": True},
        {"companions": 1, "companion_reason": "Mor."},
        {"oxygen": "own_equipment"},
        {**ALONE},
        {"front_seat": True, "child_seat": True, "oxygen": "own_equipment", **ALONE},
    ],
)
def test_public_transport_carries_no_requirements(changes):
    result = beon.evaluate(RS, answers(**changes))
    assert result.level == "public_transport"
    assert result.requirements == ()


# --- reasons -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "questions"),
    [
        pytest.param({"needs_monitoring": True}, ["needs_monitoring"], id="monitoring"),
        pytest.param(
            {
                "needs_monitoring": True,
                "needs_medical_equipment": True,
                "oxygen": "needs_supply",
                "danger_to_self_or_others": True,
            },
            ["needs_monitoring", "needs_medical_equipment", "oxygen", "danger_to_self_or_others"],
            id="every-true-answer-of-any",
        ),
        pytest.param(
            {"needs_monitoring": True, "can_travel_independently": True},
            ["needs_monitoring", "can_travel_independently"],
            id="need-wins-over-travelling-alone",
        ),
        pytest.param({"must_lie_down": True}, ["must_lie_down"], id="lying"),
        pytest.param({"must_lie_down": True, "mobility": "bedbound"}, ["must_lie_down", "mobility"], id="both-lying"),
        pytest.param(
            {"must_lie_down": True, **HX},
            ["must_lie_down", "helseekspress_available", "can_share_ride"],
            id="lying-helseekspress",
        ),
        pytest.param({"must_lie_down": True, **HX, **ALONE}, ["must_lie_down", "can_share_ride"], id="hx-no-sharing"),
        pytest.param(
            {"must_lie_down": True, **HX, "isolation": True},
            ["must_lie_down", "isolation"],
            id="hx-isolation",
        ),
        pytest.param({"mobility": "electric_wheelchair"}, ["mobility"], id="wheelchair"),
        pytest.param(
            {"reduced_orientation": True, "reduced_general_condition": True},
            ["reduced_orientation", "reduced_general_condition"],
            id="criteria",
        ),
        pytest.param(
            {"mental_health_barrier": True, **HX},
            ["mental_health_barrier", "helseekspress_available", "can_share_ride"],
            id="criterion-helseekspress",
        ),
        pytest.param({"isolation": True, **HX}, ["isolation", "isolation"], id="isolation-taxi"),
        pytest.param(
            {"mobility": "walks_with_aid", "can_travel_independently": True},
            ["mobility", "can_travel_independently"],
            id="criterion-need-wins",
        ),
        pytest.param({}, ["can_travel_independently"], id="public-no-criterion"),
        pytest.param({"can_travel_independently": True}, ["can_travel_independently"], id="public-travels"),
    ],
)
def test_the_reasons_name_the_answers_that_drove_the_result(changes, questions):
    result = beon.evaluate(RS, answers(**changes))
    assert [reason.question for reason in result.reasons] == questions
    assert len(set(result.reasons)) == len(result.reasons)
    for reason in result.reasons:
        assert reason.text("nb") and reason.text("en") and reason.text_nb != reason.text_en


def test_it_leaves_traffic_grounds_to_the_office_when_no_health_criterion_is_met():
    (reason,) = beon.evaluate(RS, answers(can_travel_independently=False)).reasons
    assert "No health criterion is met" in reason.text("en")
    assert "Pasientreiser office" in reason.text("en")
    assert "Ingen helsekriterier er oppfylt" in reason.text("nb")
    assert "pasientreisekontoret" in reason.text("nb")


@pytest.mark.parametrize(
    "changes",
    [
        {"reduced_orientation": True},
        {"needs_monitoring": True},
        {"must_lie_down": True},
        {"mobility": "bedbound"},
    ],
)
def test_it_says_the_need_wins_when_the_patient_could_travel_independently(changes):
    result = beon.evaluate(RS, answers(can_travel_independently=True, **changes))
    last = result.reasons[-1]
    assert last.question == "can_travel_independently"
    assert "comes first" in last.text("en")
    assert "går foran" in last.text("nb")


def test_the_result_serialises_to_the_api_shape_in_either_language():
    result = beon.evaluate(RS, answers(isolation=True))
    assert result.as_dict() == {
        "checklist_version": "hso-2026.1",
        "level": "taxi",
        "requirements": ["isolation", "no_shared_ride"],
        "reasons": [{"question": "isolation", "text": "Helsekriterium: krever smitteisolering under transporten."}],
        "stop": None,
    }
    assert result.as_dict("en")["reasons"][0]["text"] == "Health criterion: needs infection isolation during transport."
    json.dumps(result.as_dict())


def test_the_result_is_immutable_and_keeps_the_validated_answers_with_defaults():
    result = beon.evaluate(RS, answers())
    assert result.answers == {**BASE, **{q.id: q.default for q in RS.questions if not q.required}}
    assert result.rule == "public_transport"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = "taxi"
    with pytest.raises(TypeError):
        result.answers["mobility"] = "bedbound"


# --- answer validation -------------------------------------------------------------------------------

MOBILITY_OPTIONS = (
    "Must be one of: walks_unaided, walks_with_aid, wheelchair_can_transfer, "
    "wheelchair_cannot_transfer, electric_wheelchair, bedbound."
)
ALONE_REQUIRED = (
    "Required when the patient cannot share the ride and neither infection isolation, "
    "risk of harm nor significantly reduced general condition explains it."
)
COMPANION_REQUIRED = "Required when the patient has a companion: give the health reason."
TWO_COMPANIONS = "Two companions must be justified in full: write at least 20 characters."


@pytest.mark.parametrize(
    ("given", "question", "message"),
    [
        pytest.param({"foo": 1}, "foo", "Unknown question.", id="unknown"),
        pytest.param({"Mobility": "bedbound"}, "Mobility", "Unknown question.", id="unknown-case"),
        pytest.param({"needs_monitoring": "yes"}, "needs_monitoring", "Must be true or false.", id="string-for-bool"),
        pytest.param({"needs_monitoring": 1}, "needs_monitoring", "Must be true or false.", id="int-for-bool"),
        pytest.param({"isolation": 0}, "isolation", "Must be true or false.", id="zero-for-bool"),
        pytest.param({"companions": True}, "companions", "Must be a whole number from 0 to 2.", id="bool-for-int"),
        pytest.param({"companions": 1.0}, "companions", "Must be a whole number from 0 to 2.", id="float-for-int"),
        pytest.param({"companions": "1"}, "companions", "Must be a whole number from 0 to 2.", id="string-for-int"),
        pytest.param({"companions": 3}, "companions", "Must be a whole number from 0 to 2.", id="above-range"),
        pytest.param({"companions": -1}, "companions", "Must be a whole number from 0 to 2.", id="below-range"),
        pytest.param({"mobility": "hopping"}, "mobility", MOBILITY_OPTIONS, id="outside-enum"),
        pytest.param({"mobility": ["bedbound"]}, "mobility", MOBILITY_OPTIONS, id="list-for-enum"),
        pytest.param({"oxygen": True}, "oxygen", "Must be one of: none, own_equipment, needs_supply.", id="bool-enum"),
        pytest.param({**ALONE, "alone_reason": 5}, "alone_reason", "Must be text.", id="int-for-text"),
        pytest.param(
            {"companions": 1, "companion_reason": "x" * 1001},
            "companion_reason",
            "Must be at most 1000 characters.",
            id="text-too-long",
        ),
        pytest.param(
            {**ALONE, "alone_reason": "Urolig\x00"},
            "alone_reason",
            "Must not contain control characters.",
            id="control-character",
        ),
        pytest.param({"mobility": None}, "mobility", "This question must be answered.", id="null-required"),
        pytest.param({"can_share_ride": False}, "alone_reason", ALONE_REQUIRED, id="alone-without-reason"),
        pytest.param({**ALONE, "alone_reason": "  \n "}, "alone_reason", ALONE_REQUIRED, id="alone-blank"),
        pytest.param(
            {"can_share_ride": False, "reduced_orientation": True},
            "alone_reason",
            ALONE_REQUIRED,
            id="orientation-does-not-explain-alone",
        ),
        pytest.param({"companions": 1}, "companion_reason", COMPANION_REQUIRED, id="companion-without-reason"),
        pytest.param({"companions": 2, "companion_reason": " "}, "companion_reason", COMPANION_REQUIRED, id="blank"),
        pytest.param(
            {"companions": 2, "companion_reason": "Mor   og   far  med."},
            "companion_reason",
            TWO_COMPANIONS,
            id="two-companions-short",
        ),
    ],
)
def test_it_names_the_question_and_the_problem(given, question, message):
    with pytest.raises(beon.AnswerError) as caught:
        beon.evaluate(RS, answers(**given))
    assert caught.value.errors == {question: [message]}
    assert question in str(caught.value)


@pytest.mark.parametrize("missing", ["acute_symptoms", "can_travel_independently", "mobility", "must_lie_down"])
def test_it_requires_the_required_questions(missing):
    given = answers()
    del given[missing]
    with pytest.raises(beon.AnswerError) as caught:
        beon.validate_answers(RS, given)
    assert caught.value.errors == {missing: ["This question must be answered."]}


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"can_share_ride": False, "isolation": True}, id="isolation-explains-alone"),
        pytest.param({"can_share_ride": False, "danger_to_self_or_others": True}, id="danger-explains-alone"),
        pytest.param({"can_share_ride": False, "reduced_general_condition": True}, id="condition-explains-alone"),
        pytest.param({"companions": 1, "companion_reason": "x"}, id="one-companion-any-text"),
        pytest.param({"companions": 2, "companion_reason": "Mor og far: barn, 4 år."}, id="two-companions-spelled-out"),
        pytest.param({"companions": 0, "companion_reason": "kort"}, id="reason-without-companion-is-kept"),
        pytest.param({"isolation": None, "oxygen": None}, id="null-optional-takes-default"),
    ],
)
def test_it_accepts_answers_that_meet_the_conditional_requirements(given):
    beon.evaluate(RS, answers(**given))


def test_it_reports_every_problem_at_once():
    given = answers(mobility="hopping", companions=True, foo=1, bar=2, can_share_ride=False)
    del given["acute_symptoms"]
    with pytest.raises(beon.AnswerError) as caught:
        beon.evaluate(RS, given)
    assert set(caught.value.errors) == {
        "foo",
        "bar",
        "acute_symptoms",
        "mobility",
        "companions",
        "alone_reason",
    }


def test_it_skips_a_conditional_requirement_whose_driving_answer_is_invalid():
    with pytest.raises(beon.AnswerError) as caught:
        beon.evaluate(RS, answers(can_share_ride="no", companions="two"))
    assert set(caught.value.errors) == {"can_share_ride", "companions"}


@pytest.mark.parametrize("given", [None, [], "answers", 42])
def test_it_refuses_answers_that_are_not_an_object(given):
    with pytest.raises(beon.AnswerError) as caught:
        beon.validate_answers(RS, given)
    assert list(caught.value.errors) == ["__all__"]


def test_validation_fills_defaults_and_strips_text():
    values = beon.validate_answers(RS, answers(**{**ALONE, "alone_reason": "  Urolig.  \n"}))
    assert values["alone_reason"] == "Urolig."
    assert values["oxygen"] == "none"
    assert values["can_share_ride"] is False
    assert values["companions"] == 0
    assert set(values) == {q.id for q in RS.questions}
    assert beon.validate_answers(RS, values) == values


def test_it_gives_the_documents_own_messages_in_the_active_language(monkeypatch):
    monkeypatch.setattr(beon, "_active_language", lambda: "nb")
    with pytest.raises(beon.AnswerError) as caught:
        beon.evaluate(RS, answers(companions=1))
    assert caught.value.errors["companion_reason"] == [
        "Må fylles ut når pasienten har ledsager: oppgi den helsemessige begrunnelsen."
    ]


def test_validate_partial_evaluates_complete_answers_only():
    result, errors = beon.validate_partial(RS, answers(must_lie_down=True))
    assert (result.level, errors) == ("white_car", {})
    result, errors = beon.validate_partial(RS, {"acute_symptoms": False, "companions": 1})
    assert result is None
    assert errors["mobility"] == ["This question must be answered."]
    assert errors["companion_reason"] == [COMPANION_REQUIRED]


# --- the form: visible and required follow-up questions ----------------------------------------------

FOLLOW_UPS = ("alone_reason", "companion_reason")


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ({}, ()),
        ({"can_share_ride": True}, ()),
        ({"can_share_ride": False}, ("alone_reason",)),
        ({"can_share_ride": "no"}, ()),
        ({"companions": 0}, ()),
        ({"companions": 1}, ("companion_reason",)),
        ({"companions": 2, "can_share_ride": False}, ("alone_reason", "companion_reason")),
        ({"companions": "2"}, ()),
    ],
)
def test_the_form_shows_follow_up_questions_only_when_relevant(given, shown):
    visible = [q.id for q in RS.visible_questions(given)]
    assert tuple(qid for qid in visible if qid in FOLLOW_UPS) == shown
    assert "helseekspress_available" not in visible
    assert visible[0] == "acute_symptoms"


@pytest.mark.parametrize(
    ("given", "extra"),
    [
        ({}, set()),
        ({"can_share_ride": False}, {"alone_reason"}),
        ({"can_share_ride": False, "isolation": True}, set()),
        ({"companions": 1}, {"companion_reason"}),
    ],
)
def test_it_tells_the_form_which_questions_are_required(given, extra):
    required = set(RS.required_questions(given))
    assert required == set(BASE) | extra


def test_questions_carry_labels_and_choices_in_both_languages():
    mobility = RS.question("mobility")
    assert mobility.label("nb") == "Forflytning"
    assert mobility.label("en") == "Mobility"
    assert mobility.option_values[-1] == "bedbound"
    assert ("bedbound", "Sengeliggende") in mobility.choices("nb")
    assert RS.question("companions").maximum == 2
    assert RS.question("acute_symptoms").help("en").startswith("For acute symptoms, call 113")
    with pytest.raises(KeyError):
        RS.question("foo")


# --- documents ---------------------------------------------------------------------------------------


def _set(path, value):
    """A document edit: ``path`` is a list of keys and indexes; value ``DELETE`` removes the key."""

    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


DELETE = object()


def _nested(condition, depth):
    for _ in range(depth):
        condition = {"not": condition}
    return condition


RULES = {rule["id"]: i for i, rule in enumerate(shipped_document()["rules"])}
QUESTIONS = {question["id"]: i for i, question in enumerate(shipped_document()["questions"])}


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        pytest.param(
            _set(["rules", 3, "when"], {"q": "foo", "eq": True}),
            "rules[3].when: unknown question 'foo'",
            id="unknown-question",
        ),
        pytest.param(
            _set(
                ["requirements", 0, "when"],
                {"any": [{"q": "isolation", "eq": True}, {"q": "foo", "eq": True}]},
            ),
            "requirements[0].when.any[1]: unknown question 'foo'",
            id="unknown-question-nested",
        ),
        pytest.param(
            _set(["questions", QUESTIONS["alone_reason"], "show_when"], {"q": "nope", "eq": False}),
            f"questions[{QUESTIONS['alone_reason']}].show_when: unknown question 'nope'",
            id="unknown-question-in-show-when",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"some": [{"q": "isolation", "eq": True}]}),
            "rules[1].when: unknown condition operator 'some' (expected all, any, not, ref or q)",
            id="bad-condition-operator",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "isolation", "is": True}),
            "rules[1].when: unknown operator 'is'",
            id="bad-leaf-operator",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "isolation", "eq": True, "ne": False}),
            "rules[1].when: a condition on a question takes exactly one operator (got 2)",
            id="two-leaf-operators",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "isolation", "gte": 1}),
            "rules[1].when.gte: operator 'gte' does not apply to bool question 'isolation'",
            id="operator-for-wrong-type",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "isolation", "eq": "yes"}),
            "rules[1].when.eq: 'isolation' is a bool question",
            id="string-for-bool",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "mobility", "in": ["walks_unaided", "hopping"]}),
            "rules[1].when.in[1]: 'hopping' is not an option of 'mobility'",
            id="not-an-option",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "companions", "eq": 5}),
            "rules[1].when.eq: 5 is outside the range of 'companions'",
            id="outside-range",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"q": "companions", "gte": True}),
            "rules[1].when.gte: 'companions' is an int question",
            id="bool-for-int",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"any": []}), "rules[1].when.any: must be a non-empty list", id="empty"
        ),
        pytest.param(_set(["rules", 1, "when"], {}), "rules[1].when: empty condition", id="empty-object"),
        pytest.param(
            _set(["rules", 1, "when"], {"not": {"q": "isolation", "eq": True}, "any": []}),
            "rules[1].when: a condition has exactly one of all, any, not, ref, q",
            id="two-kinds",
        ),
        pytest.param(_set(["rules", 1, "when"], ["isolation"]), "rules[1].when: must be an object", id="not-object"),
        pytest.param(
            _set(["rules", 1, "when"], _nested({"q": "isolation", "eq": True}, 25)),
            "rules[1].when" + ".not" * 21 + ": conditions nest at most 20 levels deep",
            id="too-deep",
        ),
        pytest.param(
            _set(["rules", 1, "when"], {"ref": "nope"}),
            "rules[1].when.ref: unknown condition 'nope'",
            id="unknown-ref",
        ),
        pytest.param(
            _set(["conditions", "needs_ambulance"], {"ref": "lying"}),
            "conditions.needs_ambulance.ref: unknown condition 'lying' (a definition may only use earlier",
            id="forward-ref",
        ),
        pytest.param(
            _set(["requirements", 2, "when"], {"q": "isolation", "eq": True, "reason": {"nb": "a", "en": "b"}}),
            "requirements[2].when.reason: reasons are only used in rules and named conditions",
            id="reason-in-requirement",
        ),
        pytest.param(
            _set(["rules", 0, "when", "reason"], {"nb": "Ring 113."}),
            "rules[0].when.reason: missing key 'en'",
            id="reason-without-english",
        ),
        pytest.param(
            _set(["rules", 1, "level"], "helicopter"),
            "rules[1].level: unknown level 'helicopter'",
            id="unknown-level",
        ),
        pytest.param(
            _set(["rules", 0, "stop"], "call_112"),
            "rules[0].stop: unknown stop 'call_112'",
            id="unknown-stop",
        ),
        pytest.param(
            _set(["rules", 0, "level"], "ambulance"),
            "rules[0]: a rule has exactly one of 'level' and 'stop'",
            id="level-and-stop",
        ),
        pytest.param(
            _set(["rules", 2, "id"], "acute"),
            "rules[2].id: duplicate rule id 'acute'",
            id="duplicate-rule",
        ),
        pytest.param(
            _set(["rules", 2, "when"], DELETE),
            "rules[2]: only the last rule may omit 'when'",
            id="catch-all-not-last",
        ),
        pytest.param(
            _set(["rules", len(RULES) - 1, "when"], {"q": "isolation", "eq": False}),
            f"rules[{len(RULES) - 1}]: the last rule must omit 'when'",
            id="no-catch-all",
        ),
        pytest.param(
            _set(["requirements", 0, "add"], ["jetpack"]),
            "requirements[0].add: unknown requirement 'jetpack'",
            id="unknown-requirement",
        ),
        pytest.param(
            _set(["questions", 1, "id"], "acute_symptoms"),
            "questions[1].id: duplicate question id 'acute_symptoms'",
            id="duplicate-question",
        ),
        pytest.param(
            _set(["questions", 0, "type"], "date"),
            "questions[0].type: must be one of bool, enum, int, text",
            id="unknown-type",
        ),
        pytest.param(
            _set(["questions", 0, "default"], False),
            "questions[0].default: a required question has no default",
            id="required-with-default",
        ),
        pytest.param(
            _set(["questions", QUESTIONS["isolation"], "default"], DELETE),
            f"questions[{QUESTIONS['isolation']}]: an optional question needs a default",
            id="optional-without-default",
        ),
        pytest.param(
            _set(["questions", QUESTIONS["oxygen"], "default"], "tank"),
            f"questions[{QUESTIONS['oxygen']}].default: 'tank' is not a valid enum answer",
            id="default-not-an-option",
        ),
        pytest.param(
            _set(["questions", QUESTIONS["companions"], "minimum"], 3),
            f"questions[{QUESTIONS['companions']}].maximum: must not be below minimum",
            id="minimum-above-maximum",
        ),
        pytest.param(
            _set(["questions", 0, "requried"], True),
            "questions[0]: unknown key 'requried'",
            id="misspelt-key",
        ),
        pytest.param(
            _set(["questions", 0, "label"], {"nb": "Akutt?", "en": " "}),
            "questions[0].label.en: must be a non-empty string",
            id="blank-label",
        ),
        pytest.param(
            _set(["levels"], shipped_document()["levels"][::-1]),
            "levels: must list exactly public_transport, helseekspress, taxi",
            id="levels-out-of-order",
        ),
        pytest.param(_set(["levels", 2, "id"], "limo"), "levels[2].id: unknown level 'limo'", id="unknown-level-entry"),
        pytest.param(_set(["valid_from"], "1. januar 2026"), "valid_from: must be an ISO date", id="bad-date"),
        pytest.param(_set(["valid_from"], "2026-02-30"), "valid_from: must be an ISO date", id="impossible-date"),
        pytest.param(_set(["version"], "hso 2026/1"), "version: must be 1-32 characters", id="bad-version"),
        pytest.param(_set(["format"], "beon-ruleset/2"), "format: must be 'beon-ruleset/1'", id="bad-format"),
        pytest.param(_set(["rulez"], []), "document: unknown key 'rulez'", id="unknown-top-level-key"),
        pytest.param(_set(["rules"], DELETE), "document: missing key 'rules'", id="missing-rules"),
    ],
)
def test_it_refuses_an_invalid_document_naming_the_path(edit, error):
    doc = shipped_document()
    edit(doc)
    with pytest.raises(beon.RuleSetError) as caught:
        beon.load_ruleset(doc)
    assert any(message.startswith(error) for message in caught.value.errors), caught.value.errors


def test_it_reports_every_document_problem_at_once():
    doc = shipped_document()
    doc["rules"][1]["level"] = "helicopter"
    doc["requirements"][0]["add"] = ["jetpack"]
    with pytest.raises(beon.RuleSetError) as caught:
        beon.load_ruleset(doc)
    assert len(caught.value.errors) == 2
    assert str(caught.value).startswith("2 problems: rules[1].level: unknown level 'helicopter'")


@pytest.mark.parametrize("document", [None, [], "hso-2026.1"])
def test_it_refuses_a_document_that_is_not_an_object(document):
    with pytest.raises(beon.RuleSetError, match="document: must be an object"):
        beon.load_ruleset(document)


def test_the_loaded_document_is_a_private_json_copy():
    doc = shipped_document()
    ruleset = beon.load_ruleset(doc)
    doc["rules"].clear()
    assert ruleset.document == shipped_document()
    assert json.loads(json.dumps(ruleset.document)) == ruleset.document


def test_a_new_version_changes_the_outcome_without_code():
    doc = shipped_document()
    doc["version"] = "hso-2027.1"
    doc["valid_from"] = "2027-01-01"
    doc["requirements"].append({"when": {"q": "reduced_orientation", "eq": True}, "add": ["door_to_door"]})
    doc["rules"][RULES["health_taxi"]]["when"] = {"ref": "health_criterion", "comment": "unchanged"}
    ruleset = beon.load_ruleset(doc)
    result = beon.evaluate(ruleset, answers(reduced_orientation=True))
    assert (result.checklist_version, result.level, result.requirements) == (
        "hso-2027.1",
        "taxi",
        ("door_to_door",),
    )
    assert beon.evaluate(RS, answers(reduced_orientation=True)).requirements == ()


def _ruleset(version, valid_from):
    doc = shipped_document()
    doc["version"], doc["valid_from"] = version, valid_from
    return beon.load_ruleset(doc)


OLD, NEW, ALSO_NEW = _ruleset("v1", "2026-01-01"), _ruleset("v2", "2027-01-01"), _ruleset("v2b", "2027-01-01")


@pytest.mark.parametrize(
    ("on", "version", "version_when_given_in_reverse"),
    [
        (date(2026, 1, 1), "v1", "v1"),
        (date(2026, 12, 31), "v1", "v1"),
        (date(2027, 1, 1), "v2b", "v2"),
        (date(2031, 6, 1), "v2b", "v2"),
    ],
)
def test_it_picks_the_latest_rule_set_in_force_on_a_date(on, version, version_when_given_in_reverse):
    """Same valid_from: the one given later wins (an admin's later publication)."""
    assert beon.ruleset_in_force([OLD, NEW, ALSO_NEW], on).version == version
    assert beon.ruleset_in_force([ALSO_NEW, NEW, OLD], on).version == version_when_given_in_reverse


def test_no_rule_set_is_in_force_before_the_first_valid_from():
    with pytest.raises(ValueError, match="No rule set is in force on 2025-12-31"):
        beon.ruleset_in_force([OLD, NEW], date(2025, 12, 31))
    with pytest.raises(ValueError, match="No rule set"):
        beon.ruleset_in_force([], date(2026, 6, 1))


def test_ruleset_in_force_wants_a_local_date_not_a_datetime():
    with pytest.raises(TypeError):
        beon.ruleset_in_force([OLD], datetime(2026, 6, 1, 12, 0))


# --- properties --------------------------------------------------------------------------------------

JUSTIFICATIONS = st.sampled_from(
    [
        "Urolig pasient, tåler ikke andre passasjerer.",
        "Barn under 12 år; begge foreldre må være med.",
        "Demens, trenger kjent person ved sin side hele veien.",
    ]
)
FREE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)


# Answers that end the ladder early are drawn less often, so the lower levels get explored too.
RARELY_TRUE = {"acute_symptoms", "needs_monitoring", "needs_medical_equipment", "danger_to_self_or_others"}


@st.composite
def valid_answers(draw):
    given = {}
    for question in RS.questions:
        if not question.required and draw(st.booleans()):
            continue
        if question.id in RARELY_TRUE:
            given[question.id] = draw(st.sampled_from((False, False, False, False, False, True)))
        elif question.type == "bool":
            given[question.id] = draw(st.booleans())
        elif question.type == "enum":
            given[question.id] = draw(st.sampled_from(question.option_values))
        elif question.type == "int":
            given[question.id] = draw(st.integers(question.minimum, question.maximum))
        else:
            given[question.id] = draw(FREE_TEXT)
    values = RS.partial_values(given)
    for question in RS.questions:
        needs_text = question.required_when is not None and question.required_when(values)
        if needs_text or any(check.when(values) for check in question.checks):
            given[question.id] = draw(JUSTIFICATIONS)
    return given


def spec_outcome(v):
    """docs: beon-checklist.md written out by hand, as an independent oracle."""
    if v["acute_symptoms"]:
        return None, (), "call_113"
    lying = v["must_lie_down"] or v["mobility"] == "bedbound"
    stays_in_wheelchair = v["mobility"] in ("wheelchair_cannot_transfer", "electric_wheelchair")
    criterion = (
        v["reduced_orientation"]
        or v["reduced_general_condition"]
        or v["mental_health_barrier"]
        or v["isolation"]
        or v["mobility"] in ("walks_with_aid", "wheelchair_can_transfer")
    )
    helseekspress = v["helseekspress_available"] and v["can_share_ride"] and not v["isolation"]
    if (
        v["needs_monitoring"]
        or v["needs_medical_equipment"]
        or v["oxygen"] == "needs_supply"
        or v["danger_to_self_or_others"]
    ):
        level = "ambulance"
    elif lying:
        level = "helseekspress" if helseekspress else "white_car"
    elif stays_in_wheelchair:
        level = "wheelchair_taxi"
    elif criterion:
        level = "helseekspress" if helseekspress else "taxi"
    else:
        return "public_transport", (), None
    rows = [
        (lying, {"stretcher"}),
        (stays_in_wheelchair, {"wheelchair_space"}),
        (v["oxygen"] != "none", {"oxygen"}),
        (v["isolation"], {"isolation", "no_shared_ride"}),
        (v["danger_to_self_or_others"], {"escort_personnel", "no_shared_ride"}),
        (not v["can_share_ride"], {"no_shared_ride"}),
        (v["companions"] >= 1, {"companion"}),
        (v["front_seat"], {"front_seat"}),
        (v["door_to_door"], {"door_to_door"}),
        (v["child_seat"], {"child_seat"}),
    ]
    return level, tuple(sorted(set().union(*(codes for held, codes in rows if held)))), None


@hypothesis_settings(max_examples=1000, deadline=None)
@given(valid_answers())
def test_any_valid_answer_set_gets_one_deterministic_well_formed_result(given):
    result = beon.evaluate(RS, given)
    assert beon.evaluate(RS, dict(given)) == result
    assert (result.level, result.requirements, result.stop) == spec_outcome(result.answers)
    if result.stop is not None:
        assert result.stop in beon.STOPS and result.level is None and result.requirements == ()
    else:
        assert result.level in beon.LEVELS
    assert list(result.requirements) == sorted(set(result.requirements))
    assert set(result.requirements) <= set(beon.REQUIREMENTS)
    if result.level == "public_transport":
        assert result.requirements == ()
    assert result.reasons
    assert all(reason.question is None or reason.question in result.answers for reason in result.reasons)
    assert beon.validate_answers(RS, result.answers) == dict(result.answers)
    json.dumps(result.as_dict("en"))


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([q.id for q in RS.questions] + ["foo"]),
        st.none() | st.booleans() | FREE_TEXT | st.integers(-3, 5),
    )
)
def test_any_input_either_evaluates_or_raises_answer_error(given):
    result, errors = beon.validate_partial(RS, given)
    if result is None:
        assert errors
        assert all(isinstance(message, str) for messages in errors.values() for message in messages)
    else:
        assert errors == {}
        assert result.level in beon.LEVELS or result.stop == "call_113"
    RS.visible_questions(given)


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


DOCUMENT_PATHS = [path for path in _paths(shipped_document()) if path]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "taxi", "isolation", "eq"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["q", "eq", "all", "nb"]), inner),
    max_leaves=6,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(DOCUMENT_PATHS), JSON_VALUES), min_size=1, max_size=3))
def test_any_edited_document_loads_or_raises_rule_set_error(edits):
    doc = shipped_document()
    for path, value in edits:
        try:
            _set(list(path), value)(doc)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the path
    try:
        ruleset = beon.load_ruleset(doc)
    except beon.RuleSetError as error:
        errors = error.errors
    else:
        errors = []
        assert ruleset.rules[-1].when is None
    assert all(isinstance(message, str) and ": " in message for message in errors)
