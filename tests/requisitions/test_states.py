"""The status machine in requisitions.states against the contract's table (docs: api.md). No database."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation

from requisitions import states
from requisitions.models import Status
from requisitions.states import ADMIN, CLINICIAN, OFFICE, SYSTEM, UNIT, TransitionError, check_transition

ACTORS = (CLINICIAN, UNIT, OFFICE, SYSTEM, ADMIN)
# "Its unit" / "the requisitioner's unit" includes the clinician who ordered: they belong to it.
UNIT_SIDE = {UNIT, CLINICIAN}

# The contract's "Statuses and transitions" table, written out independently of the code.
CONTRACT = {
    ("awaiting_attestation", "submitted"): {CLINICIAN},
    ("awaiting_attestation", "cancelled"): UNIT_SIDE,
    ("submitted", "routed"): {SYSTEM},
    ("submitted", "routing_failed"): {SYSTEM},
    ("routed", "accepted"): {OFFICE},
    ("routed", "returned"): {OFFICE},
    ("routed", "cancelled"): {OFFICE, *UNIT_SIDE},
    ("accepted", "scheduled"): {OFFICE},
    ("accepted", "returned"): {OFFICE},
    ("accepted", "cancelled"): {OFFICE, *UNIT_SIDE},
    ("scheduled", "completed"): {OFFICE},
    ("scheduled", "no_show"): {OFFICE},
    ("scheduled", "accepted"): {OFFICE},
    ("scheduled", "cancelled"): {OFFICE, *UNIT_SIDE},
    ("returned", "submitted"): UNIT_SIDE,
    ("returned", "cancelled"): UNIT_SIDE,
    ("routing_failed", "submitted"): {ADMIN},
    ("routing_failed", "cancelled"): {ADMIN},
}
FINAL = ("completed", "no_show", "cancelled")

ALLOWED = sorted((source, target, actor) for (source, target), who in CONTRACT.items() for actor in who)
WRONG_ACTOR = sorted(
    (source, target, actor) for (source, target), who in CONTRACT.items() for actor in ACTORS if actor not in who
)
IMPOSSIBLE = sorted(pair for pair in itertools.product(Status.values, repeat=2) if pair not in CONTRACT)


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def test_the_table_is_the_contracts():
    assert {pair: set(who) for pair, who in states.TRANSITIONS.items()} == CONTRACT


def test_the_status_names_are_the_models():
    named = {getattr(states, name) for name in dir(states) if name.isupper() and isinstance(getattr(states, name), str)}
    assert set(Status.values) <= named


@pytest.mark.parametrize(("source", "target", "actor"), ALLOWED)
def test_each_allowed_transition_passes_for_its_actor(source, target, actor):
    assert check_transition(source, target, {actor}) == states.Transition(source, target, actor)


@pytest.mark.parametrize(("source", "target", "actor"), WRONG_ACTOR)
def test_the_wrong_actor_is_forbidden(source, target, actor):
    with pytest.raises(TransitionError) as refused:
        check_transition(source, target, {actor})
    assert refused.value.forbidden is True
    # The message names the statuses as users know them, not their codes.
    assert states.label(source) in refused.value.message
    assert states.label(target) in refused.value.message


@pytest.mark.parametrize(("source", "target"), IMPOSSIBLE)
def test_a_transition_not_in_the_table_is_a_conflict_for_everyone(source, target):
    with pytest.raises(TransitionError) as refused:
        check_transition(source, target, set(ACTORS))
    assert refused.value.forbidden is False
    assert states.label(source) in refused.value.message


@pytest.mark.parametrize("source", FINAL)
def test_final_statuses_go_nowhere(source):
    assert states.allowed_targets(source, set(ACTORS)) == []
    with pytest.raises(TransitionError, match="already"):
        check_transition(source, "accepted", set(ACTORS))


@pytest.mark.parametrize("status", sorted(set(Status.values) - set(FINAL)))
def test_staying_in_the_same_status_is_refused_as_already_there(status):
    with pytest.raises(TransitionError, match="already") as refused:
        check_transition(status, status, set(ACTORS))
    assert refused.value.forbidden is False


def test_no_actors_at_all_is_forbidden_not_a_conflict():
    with pytest.raises(TransitionError) as refused:
        check_transition("routed", "accepted", frozenset())
    assert refused.value.forbidden is True


def test_the_deciding_actor_is_named_when_several_may_act():
    assert check_transition("routed", "cancelled", {UNIT, OFFICE}).actor == OFFICE
    assert check_transition("routed", "cancelled", {UNIT, CLINICIAN, SYSTEM}).actor == CLINICIAN


@pytest.mark.parametrize(
    ("source", "actors", "targets"),
    [
        ("routed", {OFFICE}, ["accepted", "returned", "cancelled"]),
        ("routed", UNIT_SIDE, ["cancelled"]),
        ("scheduled", {OFFICE}, ["completed", "no_show", "accepted", "cancelled"]),
        ("awaiting_attestation", {CLINICIAN}, ["submitted", "cancelled"]),
        ("awaiting_attestation", {UNIT}, ["cancelled"]),
        ("returned", {OFFICE}, []),
        ("submitted", {UNIT, CLINICIAN, OFFICE}, []),
        ("routing_failed", {ADMIN}, ["submitted", "cancelled"]),
    ],
)
def test_allowed_targets_lists_what_the_actors_may_do(source, actors, targets):
    assert states.allowed_targets(source, actors) == targets


def test_the_derived_sets():
    assert states.FINAL == set(FINAL)
    assert states.OFFICE_OPEN == {"routed", "accepted", "scheduled"}
    assert states.CANCELLABLE_BY_UNIT == {"awaiting_attestation", "routed", "accepted", "scheduled", "returned"}
