"""Outbound deliveries: the routed order to an office's own system (signed webhook) and the pickup SMS.

Both follow the outbox pattern. A row (``WebhookDelivery``, ``SmsNotification``) is written in the
transaction that makes the news (routing, scheduling) and a task is enqueued after commit; the sweeper
re-enqueues rows whose task was lost (broker down). A task claims its row with a conditional UPDATE that
sets a lease, so two deliveries of the same task never send twice at once, and a worker killed mid-send
leaves a lease that expires. Delivery is at least once: an office system de-duplicates with the
``X-Beon-Delivery`` id.

Personal data (national ID, name, phone, addresses) goes into the webhook body and the SMS, and nowhere
else: not into logs, not into attempt records, not into error texts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from requisitions import states
from requisitions.models import Requisition, Trip
from routing import sms
from routing.models import DeliveryAttempt, SmsNotification, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Beon-Signature"
TIMESTAMP_HEADER = "X-Beon-Timestamp"
EVENT_ROUTED = "requisition.routed"

PENDING, SENDING = "pending", "sending"  # the same values in both outbox models
RETRYABLE_HTTP = frozenset({408, 425, 429})


def _setting(name: str, default):
    return getattr(settings, name, default)


def webhook_timeout() -> float:
    return float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10))


def webhook_max_attempts() -> int:
    return int(_setting("WEBHOOK_MAX_ATTEMPTS", 6))


def sms_max_attempts() -> int:
    return int(_setting("SMS_MAX_ATTEMPTS", 5))


def backoff_seconds(attempts: int, *, base: float | None = None, cap: float = 900.0) -> float:
    """Exponential backoff after ``attempts`` failed attempts: base, 2·base, 4·base … up to ``cap``, +0–10 %."""
    base = float(_setting("DELIVERY_RETRY_BASE_SECONDS", 30)) if base is None else base
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (1 + random.random() / 10)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Outcome:
    """What one run of a delivery task did: ``sent``, ``retry`` (in ``retry_in`` s), ``failed``, ``skipped``."""

    result: str
    retry_in: float | None = None


# --- claiming ----------------------------------------------------------------------------------------


def _claim(model, pk: int, *, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take a due row for one attempt; False if it is not due, done, or someone else holds it."""
    due = Q(status=PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=SENDING, lease_until__lt=now)
    claimed = model.objects.filter(Q(pk=pk) & (due | abandoned)).update(
        status=SENDING, lease_until=now + lease, attempts=F("attempts") + 1
    )
    return claimed == 1


def _short(text: str) -> str:
    return text[:300]


# --- webhook -----------------------------------------------------------------------------------------


def webhook_delivery_create(*, requisition: Requisition, event: str = EVENT_ROUTED) -> WebhookDelivery | None:
    """Inside the caller's transaction: queue the order for the office's system, if it has one."""
    office = requisition.office
    if office is None or not office.webhook_url:
        return None
    delivery = WebhookDelivery.objects.create(
        requisition=requisition, office=office, event=event, next_attempt_at=timezone.now()
    )
    enqueue_after_commit("deliver_webhook", delivery.pk)
    return delivery


def enqueue_after_commit(task_name: str, *args) -> None:
    """After commit, send ``routing.tasks.<task_name>`` with ``args``. A broker error is logged, not raised
    (the data is committed; the sweeper catches up).

    A named function, not ``functools.partial``: Django logs a failing robust callback by its
    ``__qualname__``, which a partial lacks, and that AttributeError would escape as a 500.
    """

    def enqueue() -> None:
        from routing import tasks

        getattr(tasks, task_name).delay(*args)

    enqueue.__qualname__ = f"routing.tasks.{task_name}.delay{args!r}"
    transaction.on_commit(enqueue, robust=True)


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _place(street: str, postal_code: str, municipality) -> dict:
    return {"street": street, "postal_code": postal_code, "municipality": municipality.number}


def webhook_payload(requisition: Requisition, *, delivery: WebhookDelivery, sent_at: dt.datetime) -> dict:
    """The order as the office system receives it. Holds personal data: never log it."""
    patient = requisition.patient
    office = requisition.office
    requisitioner = requisition.requisitioner
    trips = sorted(requisition.trips.all(), key=lambda trip: trip.direction != Trip.Direction.OUTBOUND)
    return {
        "event": delivery.event,
        "delivery_id": str(delivery.uuid),
        "sent_at": _iso(sent_at),
        "requisition": {
            "id": requisition.pk,
            "status": requisition.status,
            "level": requisition.level,
            "recommended_level": requisition.recommended_level,
            "requirements": sorted(requisition.requirements),
            "deviation_code": requisition.deviation_code or None,
            "deviation_reason": requisition.deviation_reason or None,
            "late": requisition.late,
            "same_day": requisition.same_day,
            "notes": requisition.notes,
            "first_trip_at": _iso(requisition.first_trip_at),
            "submitted_at": _iso(requisition.submitted_at),
            "routed_at": _iso(requisition.routed_at),
            "office": {"code": office.code, "name": office.name, "kind": office.kind} if office else None,
            "unit": {"name": requisition.unit.name, "kind": requisition.unit.kind},
            "requisitioner": {"name": requisitioner.display_name(), "hpr_number": requisitioner.hpr_number or None},
            "patient": {
                "national_id": patient.national_id,
                "name": patient.name,
                "phone": patient.phone or None,
                "address": _place(patient.street, patient.postal_code, patient.municipality),
            },
            "trips": [
                {
                    "direction": trip.direction,
                    "from": _place(trip.from_street, trip.from_postal_code, trip.from_municipality),
                    "to": _place(trip.to_street, trip.to_postal_code, trip.to_municipality),
                    "appointment_at": _iso(trip.appointment_at),
                    "pickup_at": _iso(trip.pickup_at),
                    "pickup_when_ready": trip.pickup_when_ready,
                }
                for trip in trips
            ],
        },
    }


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(body: bytes, secret: str | None = None) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body with WEBHOOK_SIGNING_SECRET."""
    key = (secret if secret is not None else settings.WEBHOOK_SIGNING_SECRET).encode("utf-8")
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error for a webhook: the body must not be re-sent elsewhere (or dropped)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int | None, str]:
    """POST once; (HTTP status or None, error text without any of the body)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None, "webhook URL is not http(s)"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        reason = exc.reason
        return None, _short(f"{type(reason).__name__}: {reason}")
    except (TimeoutError, OSError) as exc:
        return None, _short(f"{type(exc).__name__}: {exc}")


def _with_details(requisition_id: int) -> Requisition:
    return (
        Requisition.objects.select_related("patient__municipality", "office", "unit", "requisitioner")
        .prefetch_related("trips__from_municipality", "trips__to_municipality")
        .get(pk=requisition_id)
    )


def webhook_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> Outcome:
    """Claim the delivery if due, POST the order once, record the attempt; say whether to retry."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=webhook_timeout() + 30)
    if not _claim(WebhookDelivery, delivery_id, now=now, lease=lease):
        return Outcome("skipped")
    delivery = WebhookDelivery.objects.select_related("office").get(pk=delivery_id)
    url = delivery.office.webhook_url
    started = time.perf_counter()
    if url and not settings.WEBHOOK_SIGNING_SECRET:
        # Never send unsigned: the office could not tell our orders from forged ones. Retryable once set.
        code, error = None, "WEBHOOK_SIGNING_SECRET is not set"
    elif url:
        sent_at = timezone.now()
        body = encode(webhook_payload(_with_details(delivery.requisition_id), delivery=delivery, sent_at=sent_at))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "beon-portal-webhook/1",
            SIGNATURE_HEADER: signature(body),
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            "X-Beon-Event": delivery.event,
            "X-Beon-Delivery": str(delivery.uuid),
        }
        code, error = post(url, body, headers, timeout=webhook_timeout())
    else:
        code, error = None, "the office has no webhook URL"
    duration_ms = round((time.perf_counter() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    retryable = bool(url) and not ok and (code is None or code >= 500 or code in RETRYABLE_HTTP)
    give_up = not ok and (not retryable or delivery.attempts >= webhook_max_attempts())
    retry_in = None if ok or give_up else backoff_seconds(delivery.attempts)
    finished = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=DeliveryAttempt.objects.filter(delivery=delivery).count() + 1,
            at=finished,
            status_code=code,
            error=error,
            duration_ms=duration_ms,
            succeeded=ok,
        )
        changes: dict = {"last_status_code": code, "last_error": error, "lease_until": None}
        if ok:
            changes.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=finished, next_attempt_at=None)
        elif give_up:
            changes.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        else:
            changes.update(status=PENDING, next_attempt_at=finished + dt.timedelta(seconds=retry_in))
        WebhookDelivery.objects.filter(pk=delivery.pk, status=SENDING).update(**changes)
    log = logger.info if ok else logger.warning
    log(
        "webhook delivery %s (requisition %s, office %s) attempt %d: %s in %d ms%s",
        delivery.pk,
        delivery.requisition_id,
        delivery.office.code,
        delivery.attempts,
        code if code is not None else error,
        duration_ms,
        "" if ok else (" — giving up" if give_up else f" — retry in {retry_in:.0f} s"),
    )
    if ok:
        return Outcome("sent")
    return Outcome("failed") if give_up else Outcome("retry", retry_in)


@transaction.atomic
def webhook_deliveries_retry(*, delivery_ids: list[int]) -> int:
    """Admin: send failed deliveries again from a fresh count of attempts."""
    ids = list(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=delivery_ids, status=WebhookDelivery.Status.FAILED)
        .values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None
    )
    for pk in ids:
        enqueue_after_commit("deliver_webhook", pk)
    return len(ids)


# --- pickup SMS --------------------------------------------------------------------------------------


def pickup_sms_create(*, requisition_id: int, now: dt.datetime | None = None) -> SmsNotification | None:
    """Inside the scheduling transaction: one SMS per (requisition, pickup time) still in the future."""
    now = now or timezone.now()
    requisition = Requisition.objects.filter(pk=requisition_id).only("status", "pickup_at").first()
    if requisition is None or requisition.status != states.SCHEDULED or requisition.pickup_at is None:
        return None
    if requisition.pickup_at <= now:
        return None
    notification, created = SmsNotification.objects.get_or_create(
        requisition_id=requisition_id, pickup_at=requisition.pickup_at, defaults={"next_attempt_at": now}
    )
    if created:
        enqueue_after_commit("send_pickup_sms", notification.pk)
    return notification


def _sms_finish(notification: SmsNotification, status: str, *, error: str = "", retry_in: float | None = None):
    changes: dict = {"status": status, "last_error": error, "lease_until": None, "next_attempt_at": None}
    if status == SmsNotification.Status.SENT:
        changes["sent_at"] = timezone.now()
    if retry_in is not None:
        changes["next_attempt_at"] = timezone.now() + dt.timedelta(seconds=retry_in)
    SmsNotification.objects.filter(pk=notification.pk, status=SENDING).update(**changes)


def pickup_sms_attempt(*, notification_id: int, now: dt.datetime | None = None) -> Outcome:
    """Claim the notification if due and send it once, unless the pickup has changed or passed."""
    now = now or timezone.now()
    if not _claim(SmsNotification, notification_id, now=now, lease=dt.timedelta(seconds=60)):
        return Outcome("skipped")
    notification = SmsNotification.objects.get(pk=notification_id)
    requisition = (
        Requisition.objects.select_related("patient").prefetch_related("trips").get(pk=notification.requisition_id)
    )
    skip = ""
    if requisition.status != states.SCHEDULED or requisition.pickup_at != notification.pickup_at:
        skip = "the order is no longer scheduled for this pickup time"
    elif notification.pickup_at <= now:
        skip = "the pickup time has passed"
    elif not requisition.patient.phone:
        skip = "the patient has no mobile number"
    if skip:
        _sms_finish(notification, SmsNotification.Status.SKIPPED, error=skip)
        logger.info("pickup SMS %s (requisition %s) skipped: %s", notification.pk, requisition.pk, skip)
        return Outcome("skipped")
    outbound = next((t for t in requisition.trips.all() if t.direction == Trip.Direction.OUTBOUND), None)
    destination = outbound.to_street if outbound else ""
    message = sms.SmsMessage(
        to=requisition.patient.phone,
        text=sms.pickup_text(notification.pickup_at, destination),
        requisition_id=requisition.pk,
        summary=sms.pickup_summary(notification.pickup_at),
    )
    try:
        sms.get_backend().send(message)
    except sms.SmsError as exc:
        give_up = not exc.transient or notification.attempts >= sms_max_attempts()
        retry_in = None if give_up else backoff_seconds(notification.attempts)
        status = SmsNotification.Status.FAILED if give_up else PENDING
        _sms_finish(notification, status, error=_short(str(exc)), retry_in=retry_in)
        logger.warning(
            "pickup SMS %s (requisition %s) attempt %d failed: %s%s",
            notification.pk,
            requisition.pk,
            notification.attempts,
            exc,
            " — giving up" if give_up else f" — retry in {retry_in:.0f} s",
        )
        return Outcome("failed") if give_up else Outcome("retry", retry_in)
    _sms_finish(notification, SmsNotification.Status.SENT)
    return Outcome("sent")


@transaction.atomic
def pickup_sms_retry(*, notification_ids: list[int]) -> int:
    """Admin: try failed SMS again (the attempt re-checks that the pickup is still current)."""
    ids = list(
        SmsNotification.objects.select_for_update()
        .filter(pk__in=notification_ids, status=SmsNotification.Status.FAILED)
        .values_list("pk", flat=True)
    )
    SmsNotification.objects.filter(pk__in=ids).update(
        status=PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None
    )
    for pk in ids:
        enqueue_after_commit("send_pickup_sms", pk)
    return len(ids)


# --- the sweeper's part ------------------------------------------------------------------------------


def overdue_outbox(*, older_than: dt.timedelta, now: dt.datetime | None = None, limit: int = 500):
    """Ids of webhook deliveries and SMS whose task seems lost: due long ago, or abandoned mid-send."""
    now = now or timezone.now()
    stale = Q(status=PENDING, next_attempt_at__lte=now - older_than) | Q(status=SENDING, lease_until__lt=now)
    webhooks = WebhookDelivery.objects.filter(stale).order_by("next_attempt_at").values_list("pk", flat=True)
    texts = SmsNotification.objects.filter(stale).order_by("next_attempt_at").values_list("pk", flat=True)
    return list(webhooks[:limit]), list(texts[:limit])
