"""Celery tasks: ids in, services do the work; every task is safe to run twice (tests/routing/test_tasks.py).

All of them are idempotent, so all acknowledge late and are re-queued if the worker dies mid-task
(``reject_on_worker_lost``). Database hiccups are retried with backoff; the webhook and the SMS retry
their own I/O with exponential backoff, bounded by a count kept in the database.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from requisitions import states
from requisitions.models import Requisition
from routing import delivery
from routing.services import requisition_route

logger = logging.getLogger(__name__)

SWEEP_AFTER = dt.timedelta(seconds=60)
SWEEP_BATCH = 1000
DB_ERRORS = (OperationalError, InterfaceError)
IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}
DB_RETRY = {"autoretry_for": DB_ERRORS, "retry_backoff": 2, "retry_backoff_max": 60, "retry_jitter": True}


def _sweep_after() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "ROUTING_SWEEP_AFTER_SECONDS", SWEEP_AFTER.total_seconds()))


@shared_task(**IDEMPOTENT, **DB_RETRY, max_retries=5)
def route_requisition(requisition_id: int) -> str | None:
    """Route a submitted order; a repeat does nothing. If the retries run out it stays ``submitted``
    and the sweeper enqueues it again."""
    return requisition_route(requisition_id=requisition_id)


@shared_task(**IDEMPOTENT, expires=300)
def sweep_unrouted(older_than_seconds: float | None = None) -> int:
    """Beat, every minute: re-enqueue orders left ``submitted`` too long (e.g. Redis was down at submit),
    and outbox rows (webhook, SMS) whose task was lost. Enqueueing twice is harmless."""
    older_than = _sweep_after() if older_than_seconds is None else dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Requisition.objects.filter(status=states.SUBMITTED, submitted_at__lte=timezone.now() - older_than)
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for requisition_id in ids:
        route_requisition.delay(requisition_id)
    webhooks, texts = delivery.overdue_outbox(older_than=older_than)
    for delivery_id in webhooks:
        deliver_webhook.delay(delivery_id)
    for notification_id in texts:
        send_pickup_sms.delay(notification_id)
    if ids or webhooks or texts:
        logger.info(
            "sweeper re-enqueued %d unrouted requisitions, %d webhook deliveries, %d pickup SMS",
            len(ids),
            len(webhooks),
            len(texts),
        )
    return len(ids)


def _retry_later(task, outcome: delivery.Outcome) -> str:
    """Schedule the next attempt with the backoff the attempt chose (its due time is in the row too).

    Run eagerly (tests), a countdown cannot be honoured: the row stays due and the sweeper takes it.
    """
    if outcome.result == "retry" and not task.request.is_eager:
        raise task.retry(countdown=outcome.retry_in)
    return outcome.result


@shared_task(bind=True, **IDEMPOTENT, **DB_RETRY, max_retries=12)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST a routed order to its office's system; failures retry with exponential backoff."""
    outcome = delivery.webhook_attempt(delivery_id=delivery_id)
    return _retry_later(self, outcome)


@shared_task(bind=True, **IDEMPOTENT, **DB_RETRY, max_retries=12)
def send_pickup_sms(self, notification_id: int) -> str:
    """Text the patient the scheduled pickup time; failures retry with exponential backoff."""
    outcome = delivery.pickup_sms_attempt(notification_id=notification_id)
    return _retry_later(self, outcome)
