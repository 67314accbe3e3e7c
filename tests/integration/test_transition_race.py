"""Two office workers move the same order at the same moment, each on its own PostgreSQL connection:
the conditional UPDATE lets exactly one win; the other is told someone else got there first."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import translation

from portal import roles
from portal.services import portal_user_create
from requisitions.models import Requisition, RequisitionEvent
from requisitions.selectors import actors_for
from requisitions.services import requisition_create, requisition_transition
from requisitions.states import TransitionError
from routing.services import requisition_route
from tests.requisitions.factories import order, reference_data  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

ALREADY_HANDLED = "Someone else has already handled this order. Reload to see its status."


@pytest.fixture
def routed(clinician, monkeypatch) -> Requisition:
    with monkeypatch.context() as patch:  # routed here and now, not by a worker
        patch.setattr("routing.receivers.enqueue_after_commit", lambda *args: None)
        requisition = requisition_create(
            order=order(), entered_by=clinician, requisitioner=clinician, unit=clinician.unit
        )
    assert requisition_route(requisition_id=requisition.pk) == "routed"
    return requisition


@pytest.fixture
def colleague(office_worker):
    return portal_user_create(username="pr_ous_2", role=roles.OFFICE_STAFF, office_code="PR-OUS", password=None)


@pytest.mark.parametrize("second_starts_after", [0.0, 0.2], ids=["simultaneous", "while_the_first_holds_the_row"])
def test_two_concurrent_accepts_one_wins_the_other_is_told(routed, office_worker, colleague, second_starts_after):
    barrier = threading.Barrier(2)
    outcomes: dict[str, tuple] = {}

    def accept(name: str, user, *, delay: float, hold: float) -> None:
        translation.activate("en")
        try:
            with transaction.atomic():
                requisition = Requisition.objects.get(pk=routed.pk)  # both read "routed"
                barrier.wait(timeout=10)
                time.sleep(delay)
                started = time.monotonic()
                try:
                    requisition_transition(
                        requisition=requisition,
                        user=user,
                        actors=actors_for(user, requisition),
                        target="accepted",
                    )
                except TransitionError as exc:
                    outcomes[name] = ("refused", exc.message, exc.forbidden, time.monotonic() - started)
                    return
                outcomes[name] = ("accepted",)
                time.sleep(hold)  # keep the transaction (and the row lock) open a little
        finally:
            translation.deactivate()
            connection.close()

    threads = [
        threading.Thread(target=accept, args=("first", office_worker), kwargs={"delay": 0, "hold": 0.5}),
        threading.Thread(target=accept, args=("second", colleague), kwargs={"delay": second_starts_after, "hold": 0}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a transition hung"

    results = sorted(outcome[0] for outcome in outcomes.values())
    assert results == ["accepted", "refused"], outcomes
    [refused] = [outcome for outcome in outcomes.values() if outcome[0] == "refused"]
    assert refused[1:3] == (ALREADY_HANDLED, False)  # a conflict (409), not forbidden
    if second_starts_after:
        assert outcomes["first"] == ("accepted",)
        assert refused[3] >= 0.2, "the second UPDATE should have waited for the first transaction"
    routed.refresh_from_db()
    assert routed.status == "accepted"
    assert RequisitionEvent.objects.filter(requisition=routed, action="requisition.accepted").count() == 1
