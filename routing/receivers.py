"""Receivers of the requisitions app's signals: routing reacts to orders without requisitions importing it."""

from __future__ import annotations

from routing.delivery import enqueue_after_commit, pickup_sms_create


def enqueue_routing(sender, requisition_id: int, **kwargs) -> None:
    """After commit, hand the order to the routing task. If Redis is down, the error is logged
    (robust=True) and the sweeper routes the order later: the order itself is already saved."""
    enqueue_after_commit("route_requisition", requisition_id)


def queue_pickup_sms(sender, requisition_id: int, **kwargs) -> None:
    """In the scheduling transaction: record the pickup SMS (outbox row); its task is enqueued after
    commit, and the sweeper re-enqueues it if the broker was down."""
    pickup_sms_create(requisition_id=requisition_id)
