"""Figures for /health/: how many orders wait for routing and for how long. No personal data."""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone

from requisitions import states
from requisitions.models import Requisition
from routing.models import WebhookDelivery


def routing_backlog(now: dt.datetime | None = None) -> dict:
    """``{"unrouted": n, "oldest_unrouted_seconds": s, "webhook_deliveries_failed": f}``.

    Counts orders still ``submitted`` (normally routed within a second; the sweeper retries those older
    than a minute). None for every figure when the database does not answer.
    """
    now = now or timezone.now()
    try:
        backlog = Requisition.objects.filter(status=states.SUBMITTED).aggregate(
            n=Count("pk"), oldest=Min("submitted_at")
        )
        failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
    except DatabaseError:
        return {"unrouted": None, "oldest_unrouted_seconds": None, "webhook_deliveries_failed": None}
    oldest = backlog["oldest"]
    return {
        "unrouted": backlog["n"],
        "oldest_unrouted_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
        "webhook_deliveries_failed": failed,
    }
