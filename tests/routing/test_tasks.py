"""Routing and sweeping tasks, run eagerly: what they change, and that running them twice is harmless."""

from __future__ import annotations

import datetime as dt
import json
import logging
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import OperationalError
from django.test import TestCase
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from portal.models import HealthTrust
from requisitions.models import Requisition, RequisitionEvent, Trip
from requisitions.services import requisition_create
from routing import delivery, tasks
from routing.health import routing_backlog
from routing.models import Coverage
from routing.services import requisition_route
from tests.requisitions.factories import order, order_body, reference_data, requisition_for  # noqa: F401

pytestmark = pytest.mark.django_db

OUTSIDE_REGION = {"street": "Kirkegata 1", "postal_code": "4001", "municipality": "1103"}  # Stavanger


def submitted(user, **kwargs) -> Requisition:
    """An order saved and submitted but not routed (the test transaction never commits)."""
    return requisition_create(order=order(**kwargs), entered_by=user, requisitioner=user, unit=user.unit)


def routing_events(requisition) -> list[tuple[str, str, str]]:
    return list(
        RequisitionEvent.objects.filter(requisition=requisition, action__startswith="routing.").values_list(
            "action", "to_status", "note"
        )
    )


def run(task, *args):
    """Run a task the way a worker would: arguments round-tripped through JSON, eagerly."""
    return task.apply(args=json.loads(json.dumps(args))).get()


def test_a_submitted_order_is_routed_to_the_office_of_the_pickup_municipality(clinician):
    requisition = submitted(clinician)
    assert run(tasks.route_requisition, requisition.pk) == "routed"
    requisition.refresh_from_db()
    assert requisition.status == "routed"
    assert requisition.office.code == "PR-OUS"
    assert requisition.routed_at is not None
    assert routing_events(requisition) == [("routing.routed", "routed", "PR-OUS")]


def test_an_ambulance_order_goes_to_the_amk(clinician):
    requisition = submitted(clinician, level_of="ambulance")
    run(tasks.route_requisition, requisition.pk)
    requisition.refresh_from_db()
    assert requisition.office.code == "AMK-OSLO"


def test_a_pickup_outside_the_region_goes_to_the_units_trust(clinician):
    body = order_body()
    body["trips"][0]["from"] = OUTSIDE_REGION
    body["trips"][1]["to"] = OUTSIDE_REGION
    requisition = submitted(clinician, body=body)
    run(tasks.route_requisition, requisition.pk)
    requisition.refresh_from_db()
    assert requisition.status == "routed"
    assert requisition.office == HealthTrust.objects.get(code="OUS").default_pasientreiser


def test_submitting_routes_the_order_after_commit(clinician):
    requisition = requisition_for(clinician)  # commits: the real receiver enqueues the task
    assert requisition.status == "routed"


def test_routing_twice_routes_once_with_one_event(clinician):
    requisition = submitted(clinician)
    assert run(tasks.route_requisition, requisition.pk) == "routed"
    assert run(tasks.route_requisition, requisition.pk) is None
    assert routing_events(requisition) == [("routing.routed", "routed", "PR-OUS")]


@pytest.mark.parametrize("status", ["awaiting_attestation", "routed", "cancelled", "routing_failed"])
def test_only_a_submitted_order_is_touched(clinician, status):
    requisition = submitted(clinician)
    Requisition.objects.filter(pk=requisition.pk).update(status=status)
    assert requisition_route(requisition_id=requisition.pk) is None
    requisition.refresh_from_db()
    assert requisition.status == status
    assert requisition.office is None
    assert routing_events(requisition) == []


def test_an_unknown_requisition_is_nothing_to_do(db):
    assert run(tasks.route_requisition, 987654) is None


def test_no_covering_office_marks_the_order_routing_failed(clinician, caplog):
    requisition = submitted(clinician)
    Coverage.objects.filter(municipality__number="0301").delete()
    assert run(tasks.route_requisition, requisition.pk) == "routing_failed"
    requisition.refresh_from_db()
    assert requisition.status == "routing_failed"
    assert requisition.office is None
    [(action, target, note)] = routing_events(requisition)
    assert (action, target) == ("routing.failed", "routing_failed")
    assert "no office covers level taxi" in note
    assert f"requisition {requisition.pk} marked routing_failed" in caplog.text


def test_outside_the_region_without_a_trust_is_routing_failed(clinician):
    body = order_body()
    body["trips"][0]["from"] = OUTSIDE_REGION
    body["trips"][1]["to"] = OUTSIDE_REGION
    requisition = submitted(clinician, body=body)
    unit = clinician.unit
    unit.trust = None
    unit.municipality = None
    unit.save()
    assert requisition_route(requisition_id=requisition.pk) == "routing_failed"
    [(_action, _target, note)] = routing_events(requisition)
    assert note == "pickup municipality 1103 is outside the region and the unit has no trust"


def test_an_order_without_an_outbound_trip_is_routing_failed_not_a_crash(clinician):
    requisition = submitted(clinician)
    Trip.objects.filter(requisition=requisition, direction="outbound").delete()
    assert requisition_route(requisition_id=requisition.pk) == "routing_failed"
    assert routing_events(requisition)[0][2] == "the order has no outbound trip"


def test_the_office_cut_off_decides_lateness_when_routed(clinician):
    requisition = submitted(clinician, days=21)
    Requisition.objects.filter(pk=requisition.pk).update(late=True)  # as if the default cut-off said so
    requisition_route(requisition_id=requisition.pk)
    requisition.refresh_from_db()
    assert requisition.late is False


def test_a_broker_outage_at_submit_keeps_the_order_and_is_logged(clinician, caplog):
    with (
        mock.patch.object(tasks.route_requisition, "delay", side_effect=BrokerError("Connection refused")),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        requisition = requisition_create(
            order=order(), entered_by=clinician, requisitioner=clinician, unit=clinician.unit
        )
    requisition.refresh_from_db()
    assert requisition.status == "submitted"
    assert "on_commit" in caplog.text and "Connection refused" in caplog.text


def _age(requisition, seconds: float) -> None:
    Requisition.objects.filter(pk=requisition.pk).update(submitted_at=timezone.now() - dt.timedelta(seconds=seconds))


def test_the_sweeper_routes_orders_left_submitted_over_a_minute(clinician, caplog):
    caplog.set_level(logging.INFO, logger="routing.tasks")
    stale = submitted(clinician, seed=1)
    fresh = submitted(clinician, seed=2)
    _age(stale, 61)
    _age(fresh, 30)
    assert run(tasks.sweep_unrouted) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("routed", "submitted")
    assert "sweeper re-enqueued 1 unrouted requisitions" in caplog.text


def test_the_sweeper_takes_a_shorter_threshold(clinician):
    requisition = submitted(clinician)
    _age(requisition, 2)
    assert run(tasks.sweep_unrouted, 1) == 1
    requisition.refresh_from_db()
    assert requisition.status == "routed"


def test_sweeping_twice_routes_once(clinician):
    requisition = submitted(clinician)
    _age(requisition, 120)
    with mock.patch.object(tasks.route_requisition, "delay") as delay:
        run(tasks.sweep_unrouted)
        run(tasks.sweep_unrouted)
    assert delay.call_args_list == [mock.call(requisition.pk)] * 2
    for call in delay.call_args_list:
        run(tasks.route_requisition, *call.args)
    assert routing_events(requisition) == [("routing.routed", "routed", "PR-OUS")]


def test_the_sweeper_leaves_routed_orders_alone(clinician):
    requisition = requisition_for(clinician)
    _age(requisition, 3600)
    with mock.patch.object(tasks.route_requisition, "delay") as delay:
        assert run(tasks.sweep_unrouted) == 0
    delay.assert_not_called()


@pytest.mark.parametrize(
    "task", [tasks.route_requisition, tasks.sweep_unrouted, tasks.deliver_webhook, tasks.send_pickup_sms]
)
def test_every_task_is_acknowledged_late_and_requeued_if_the_worker_dies(task):
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_database_errors_are_retried_with_backoff():
    assert tasks.route_requisition.max_retries == 5
    assert tasks.route_requisition.retry_backoff
    assert set(tasks.DB_ERRORS) <= set(tasks.route_requisition.autoretry_for)


def test_the_backlog_counts_unrouted_orders_and_the_oldest_age(clinician):
    assert routing_backlog() == {
        "unrouted": 0,
        "oldest_unrouted_seconds": 0,
        "routing_failed": 0,
        "webhook_deliveries_failed": 0,
    }
    first = submitted(clinician, seed=1)
    submitted(clinician, seed=2)
    requisition_for(clinician, seed=3)  # routed: not counted
    Requisition.objects.filter(pk=first.pk).update(status="routing_failed")
    _age(submitted(clinician, seed=4), 90)
    backlog = routing_backlog()
    assert (backlog["unrouted"], backlog["routing_failed"]) == (2, 1)
    assert 90 <= backlog["oldest_unrouted_seconds"] <= 95


@pytest.mark.parametrize(("eager", "retried"), [(False, True), (True, False)])
def test_a_delivery_asks_celery_to_retry_after_its_backoff_unless_run_eagerly(eager, retried):
    task = mock.Mock()
    task.request.is_eager = eager
    task.retry.side_effect = Retry()
    outcome = delivery.Outcome("retry", 42.0)
    if retried:
        with pytest.raises(Retry):
            tasks._retry_later(task, outcome)
        task.retry.assert_called_once_with(countdown=42.0)
    else:
        assert tasks._retry_later(task, outcome) == "retry"  # the row stays due; the sweeper takes it
        task.retry.assert_not_called()


def test_the_backlog_says_none_when_the_database_does_not_answer(db):
    with mock.patch.object(Requisition.objects, "filter", side_effect=OperationalError("down")):
        assert set(routing_backlog().values()) == {None}
