"""Webhook delivery of routed orders to an office's own system: signed, retried with backoff, logged
per attempt without personal data, visible and retryable in the admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.utils import timezone

from portal.models import Office
from requisitions.models import Requisition
from routing import delivery, tasks
from routing.health import routing_backlog
from routing.models import DeliveryAttempt, WebhookDelivery
from tests.requisitions.factories import reference_data, requisition_for  # noqa: F401

pytestmark = pytest.mark.django_db

SECRET = "test-signing-secret"


class HttpStub:
    """A local HTTP server that records requests and answers with queued status codes (default 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.responses: list[int | str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                answer = stub.responses.pop(0) if stub.responses else 200
                if answer == "slow":
                    time.sleep(1)
                    answer = 200
                self.send_response(int(answer))
                if 300 <= int(answer) < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_stub():
    stub = HttpStub()
    yield stub
    stub.close()


@pytest.fixture
def webhook_settings(settings):
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def office_hook(request, http_stub, webhook_settings):
    """PR-OUS (where the clinician's Oslo orders go) has a webhook pointing at the stub."""
    request.getfixturevalue("reference_data")
    Office.objects.filter(code="PR-OUS").update(webhook_url=http_stub.url)
    return http_stub


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def only_delivery() -> WebhookDelivery:
    [found] = WebhookDelivery.objects.all()
    return found


def attempts() -> list[tuple[int, int | None, bool]]:
    return list(DeliveryAttempt.objects.values_list("number", "status_code", "succeeded"))


def test_a_routed_order_is_posted_signed_to_the_offices_system(office_hook, clinician):
    requisition = requisition_for(clinician)
    [request] = office_hook.requests
    body, headers = request["body"], request["headers"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Beon-Signature"] == expected
    payload = json.loads(body)
    assert headers["X-Beon-Timestamp"] == str(int(dt.datetime.fromisoformat(payload["sent_at"]).timestamp()))
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    sent = only_delivery()
    assert headers["X-Beon-Delivery"] == payload["delivery_id"] == str(sent.uuid)
    assert headers["X-Beon-Event"] == payload["event"] == "requisition.routed"
    order = payload["requisition"]
    assert order["id"] == requisition.pk
    assert (order["status"], order["level"], order["recommended_level"]) == ("routed", "taxi", "taxi")
    assert order["requirements"] == sorted(requisition.requirements)
    assert order["office"]["code"] == "PR-OUS"
    assert order["patient"]["national_id"] == requisition.patient.national_id
    assert order["patient"]["name"] == "Test Pasient"
    assert [t["direction"] for t in order["trips"]] == ["outbound", "return"]
    outbound = order["trips"][0]
    assert outbound["from"] == {"street": "Hjemmeveien 1", "postal_code": "0450", "municipality": "0301"}
    assert dt.datetime.fromisoformat(outbound["appointment_at"]) == requisition.first_trip_at
    assert outbound["appointment_at"].endswith(("+01:00", "+02:00"))  # Oslo time with offset
    assert sent.status == "delivered" and sent.delivered_at is not None
    assert attempts() == [(1, 200, True)]


def test_an_office_without_a_webhook_gets_no_delivery(clinician):
    requisition_for(clinician)
    assert not WebhookDelivery.objects.exists()


def test_a_server_error_is_retried_after_a_backoff(office_hook, clinician):
    office_hook.responses = [500, 200]
    before = timezone.now()
    requisition_for(clinician)
    pending = only_delivery()
    assert (pending.status, pending.attempts, pending.last_status_code) == ("pending", 1, 500)
    assert pending.last_error == "HTTP 500"
    assert before + dt.timedelta(seconds=30) <= pending.next_attempt_at <= timezone.now() + dt.timedelta(seconds=34)
    # Not due yet: a stray task run does nothing.
    assert delivery.webhook_attempt(delivery_id=pending.pk).result == "skipped"
    assert delivery.webhook_attempt(delivery_id=pending.pk, now=pending.next_attempt_at).result == "sent"
    assert only_delivery().status == "delivered"
    assert attempts() == [(1, 500, False), (2, 200, True)]


def test_the_backoff_doubles_up_to_a_cap():
    with mock.patch("routing.delivery.random.random", return_value=0):
        assert [delivery.backoff_seconds(n, base=30) for n in (1, 2, 3, 4, 10)] == [30, 60, 120, 240, 900]


def test_it_gives_up_after_the_last_attempt(office_hook, clinician, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    office_hook.responses = [503, 503]
    requisition_for(clinician)
    pending = only_delivery()
    assert delivery.webhook_attempt(delivery_id=pending.pk, now=pending.next_attempt_at).result == "failed"
    failed = only_delivery()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 2, None)
    assert routing_backlog()["webhook_deliveries_failed"] == 1


def test_a_client_error_fails_at_once(office_hook, clinician):
    office_hook.responses = [400]
    requisition_for(clinician)
    failed = only_delivery()
    assert (failed.status, failed.last_status_code) == ("failed", 400)


def test_a_redirect_is_not_followed(office_hook, clinician):
    office_hook.responses = [307]
    requisition_for(clinician)
    assert [r["path"] for r in office_hook.requests] == ["/hook"]
    assert only_delivery().status == "failed"


def test_an_unreachable_office_is_recorded_and_retried(webhook_settings, clinician):
    Office.objects.filter(code="PR-OUS").update(webhook_url=closed_port_url())
    requisition_for(clinician)
    pending = only_delivery()
    assert pending.status == "pending"
    assert pending.last_status_code is None
    assert "ConnectionRefusedError" in pending.last_error
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status_code is None and attempt.error == pending.last_error


def test_a_slow_office_times_out(office_hook, clinician, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    office_hook.responses = ["slow"]
    requisition_for(clinician)
    pending = only_delivery()
    assert pending.status == "pending"
    assert "timed out" in pending.last_error.lower() or "timeout" in pending.last_error.lower()
    assert DeliveryAttempt.objects.get().duration_ms < 1000


def test_delivering_twice_sends_once(office_hook, clinician):
    requisition_for(clinician)
    sent = only_delivery()
    assert tasks.deliver_webhook.apply(args=[sent.pk]).get() == "skipped"
    assert len(office_hook.requests) == 1
    assert attempts() == [(1, 200, True)]


def test_a_delivery_another_worker_holds_is_left_alone_until_its_lease_expires(office_hook, clinician):
    office_hook.responses = [500]
    requisition_for(clinician)
    held = only_delivery()
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=held.pk).update(status="sending", lease_until=now + dt.timedelta(seconds=40))
    assert delivery.webhook_attempt(delivery_id=held.pk, now=now).result == "skipped"
    later = now + dt.timedelta(seconds=41)
    assert delivery.webhook_attempt(delivery_id=held.pk, now=later).result == "sent"


def test_the_sweeper_sends_a_delivery_whose_task_was_lost(office_hook, clinician):
    with mock.patch.object(tasks.deliver_webhook, "delay", side_effect=OSError("broker down")):
        requisition_for(clinician)
    lost = only_delivery()
    assert (lost.status, lost.attempts) == ("pending", 0)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now() - dt.timedelta(minutes=2))
    tasks.sweep_unrouted.apply().get()
    assert only_delivery().status == "delivered"


def test_personal_data_is_never_logged_nor_stored_with_the_attempts(office_hook, clinician, caplog):
    caplog.set_level(logging.DEBUG)
    office_hook.responses = [500, 200]
    requisition = requisition_for(clinician)
    pending = only_delivery()
    delivery.webhook_attempt(delivery_id=pending.pk, now=pending.next_attempt_at)
    patient = Requisition.objects.select_related("patient").get(pk=requisition.pk).patient
    assert len(office_hook.requests) == 2
    assert f"webhook delivery {pending.pk} (requisition {requisition.pk}, office PR-OUS) attempt 1: 500" in caplog.text
    stored = json.dumps(list(DeliveryAttempt.objects.values()), default=str) + json.dumps(
        list(WebhookDelivery.objects.values("last_error", "event")), default=str
    )
    for secret in (patient.national_id, patient.name, patient.phone, patient.street, "Sognsvannsveien"):
        assert secret not in caplog.text
        assert secret not in stored


def test_an_office_that_lost_its_webhook_fails_visibly(office_hook, clinician):
    office_hook.responses = [500]
    requisition_for(clinician)
    pending = only_delivery()
    Office.objects.filter(code="PR-OUS").update(webhook_url="")
    assert delivery.webhook_attempt(delivery_id=pending.pk, now=pending.next_attempt_at).result == "failed"
    assert only_delivery().last_error == "the office has no webhook URL"


def test_the_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"a":1}'
    assert delivery.signature(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


# --- admin -------------------------------------------------------------------------------------------

CHANGELIST = "/admin/routing/webhookdelivery/"


def test_failures_are_listed_in_the_admin_with_their_attempts(office_hook, clinician, admin_client):
    office_hook.responses = [400]
    requisition_for(clinician)
    failed = only_delivery()
    listing = admin_client.get(CHANGELIST + "?status__exact=failed")
    assert listing.status_code == 200
    assert "HTTP 400" in listing.content.decode()
    detail = admin_client.get(f"{CHANGELIST}{failed.pk}/change/")
    assert detail.status_code == 200
    assert "HTTP 400" in detail.content.decode()


def test_an_admin_retries_a_failed_delivery(office_hook, clinician, admin_client, django_capture_on_commit_callbacks):
    office_hook.responses = [400]
    requisition_for(clinician)
    failed = only_delivery()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(CHANGELIST, {"action": "retry_deliveries", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    retried = only_delivery()
    assert retried.status == "delivered"
    assert attempts() == [(1, 400, False), (2, 200, True)]


def test_retrying_leaves_deliveries_that_did_not_fail_alone(office_hook, clinician):
    requisition_for(clinician)
    assert delivery.webhook_deliveries_retry(delivery_ids=[only_delivery().pk]) == 0
