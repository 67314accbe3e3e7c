"""Celery tasks: ids in, services do the work; every task is safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from requisitions import states
from requisitions.models import Requisition
from routing.services import requisition_route

logger = logging.getLogger(__name__)

SWEEP_AFTER = dt.timedelta(seconds=60)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def route_requisition(requisition_id: int) -> str | None:
    return requisition_route(requisition_id=requisition_id)


@shared_task(acks_late=True)
def sweep_unrouted() -> int:
    """Re-enqueue orders left submitted too long (e.g. Redis was down when they were submitted)."""
    cutoff = timezone.now() - SWEEP_AFTER
    ids = list(
        Requisition.objects.filter(status=states.SUBMITTED, submitted_at__lte=cutoff)
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:1000]
    )
    for requisition_id in ids:
        route_requisition.delay(requisition_id)
    if ids:
        logger.info("sweeper re-enqueued %d unrouted requisitions", len(ids))
    return len(ids)
