"""Outbound deliveries with the real worker: the webhook (with a Celery retry after a 503) and the
patient's pickup SMS through the HTTP gateway backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from portal.models import Office
from requisitions.selectors import actors_for
from requisitions.services import requisition_create, requisition_transition
from routing.models import DeliveryAttempt, SmsNotification, WebhookDelivery
from routing.services import requisition_route
from tests.integration.conftest import WEBHOOK_SECRET, wait_for
from tests.requisitions.factories import order, reference_data  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_a_routed_order_reaches_the_office_system_after_a_retry(worker, http_stub, clinician):
    Office.objects.filter(code="PR-OUS").update(webhook_url=http_stub.url)
    http_stub.responses[:] = [503, 200]
    requisition = requisition_create(order=order(), entered_by=clinician, requisitioner=clinician, unit=clinician.unit)
    wait_for(
        lambda: WebhookDelivery.objects.filter(requisition=requisition, status="delivered").exists(),
        timeout=15,
        what="the webhook delivery",
    )
    assert list(DeliveryAttempt.objects.values_list("number", "status_code", "succeeded")) == [
        (1, 503, False),
        (2, 200, True),
    ]
    assert "Retry in" in worker.text()  # the second attempt came from a Celery retry with a countdown
    last = http_stub.requests[-1]
    signed = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), last["body"], hashlib.sha256).hexdigest()
    assert last["headers"]["X-Beon-Signature"] == signed
    assert json.loads(last["body"])["requisition"]["id"] == requisition.pk


def test_scheduling_texts_the_patient_through_the_gateway(worker, http_stub, clinician, office_worker, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("routing.receivers.enqueue_after_commit", lambda *args: None)
        requisition = requisition_create(
            order=order(), entered_by=clinician, requisitioner=clinician, unit=clinician.unit
        )
    requisition_route(requisition_id=requisition.pk)
    requisition.refresh_from_db()
    for target, pickup in (("accepted", None), ("scheduled", requisition.first_trip_at - dt.timedelta(hours=1))):
        requisition_transition(  # commits; scheduling enqueues the SMS task after commit
            requisition=requisition,
            user=office_worker,
            actors=actors_for(office_worker, requisition),
            target=target,
            pickup_at=pickup,
        )
    wait_for(lambda: SmsNotification.objects.filter(status="sent").exists(), timeout=15, what="the pickup SMS")
    [request] = [r for r in http_stub.requests if r["path"] == "/sms"]
    assert request["headers"]["Authorization"] == "Bearer integration-gateway-token"
    body = json.loads(request["body"])
    assert body["to"] == "+4791234567"
    pickup = timezone.localtime(requisition.first_trip_at - dt.timedelta(hours=1))
    assert body["message"].startswith("Pasientreiser: Du hentes ")
    assert f"kl {pickup:%H:%M} for reisen til Sognsvannsveien 20." in body["message"]
