from __future__ import annotations

from functools import partial

from django.db import transaction


def enqueue_routing(sender, requisition_id: int, **kwargs) -> None:
    """After commit, hand the order to the routing task. If Redis is down, the error is logged
    (robust=True) and the sweeper routes the order later: the order itself is already saved."""
    from routing.tasks import route_requisition

    transaction.on_commit(partial(route_requisition.delay, requisition_id), robust=True)
