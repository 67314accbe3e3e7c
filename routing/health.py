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
    """``{"unrouted": n, "oldest_unrouted_seconds": s, "routing_failed": r, "webhook_deliveries_failed": f}``.

    ``unrouted`` counts orders still ``submitted`` (normally routed within a second; the sweeper retries
    those older than a minute); ``routing_failed`` orders wait for an administrator. None for every
    figure when the database does not answer.
    """
    now = now or timezone.now()
    try:
        backlog = Requisition.objects.filter(status=states.SUBMITTED).aggregate(
            n=Count("pk"), oldest=Min("submitted_at")
        )
        routing_failed = Requisition.objects.filter(status=states.ROUTING_FAILED).count()
        failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
    except DatabaseError:
        return dict.fromkeys(("unrouted", "oldest_unrouted_seconds", "routing_failed", "webhook_deliveries_failed"))
    oldest = backlog["oldest"]
    return {
        "unrouted": backlog["n"],
        "oldest_unrouted_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
        "routing_failed": routing_failed,
        "webhook_deliveries_failed": failed,
    }
