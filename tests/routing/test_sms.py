"""The patient's pickup SMS: the text, the backends, and the flow from scheduling to one sent message."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from requisitions.models import Requisition
from requisitions.selectors import actors_for
from requisitions.services import requisition_transition
from routing import delivery, sms, tasks
from routing.models import SmsNotification
from tests.requisitions.factories import advance, reference_data, requisition_in  # noqa: F401
from tests.routing.test_delivery import closed_port_url, http_stub  # noqa: F401

UTC = dt.UTC
PHONE = "+4791234567"  # factories.order_body's patient


# --- the text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pickup_utc", "expected"),
    [
        (dt.datetime(2026, 11, 24, 8, 15, tzinfo=UTC), "tirsdag 24.11 kl 09:15"),  # winter: UTC+1
        (dt.datetime(2026, 6, 1, 8, 15, tzinfo=UTC), "mandag 01.06 kl 10:15"),  # summer: UTC+2
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "søndag 29.03 kl 01:30"),  # the night clocks go forward
        (dt.datetime(2026, 12, 31, 23, 5, tzinfo=UTC), "fredag 01.01 kl 00:05"),  # new year in Oslo first
    ],
)
def test_the_pickup_text_is_bokmal_with_the_oslo_day_and_time(pickup_utc, expected):
    assert sms.pickup_text(pickup_utc, "Sognsvannsveien 20") == (
        f"Pasientreiser: Du hentes {expected} for reisen til Sognsvannsveien 20. Spørsmål: ring 05515."
    )


# --- backends ----------------------------------------------------------------------------------------

MESSAGE = sms.SmsMessage(to=PHONE, text="Pasientreiser: Du hentes …", requisition_id=12, summary="pickup 10:15")


def test_the_console_backend_logs_a_line_without_number_or_text(caplog):
    caplog.set_level(logging.INFO, logger="routing.sms")
    sms.ConsoleBackend().send(MESSAGE)
    assert caplog.messages == ["SMS to requisition 12 patient: pickup 10:15"]


def test_the_memory_backend_keeps_an_outbox():
    sms.MemoryBackend.outbox.clear()
    sms.MemoryBackend().send(MESSAGE)
    assert sms.MemoryBackend.outbox == [MESSAGE]
    sms.MemoryBackend.outbox.clear()


def test_the_backend_is_chosen_by_setting(settings):
    settings.SMS_BACKEND = "routing.sms.MemoryBackend"
    assert isinstance(sms.get_backend(), sms.MemoryBackend)
    settings.SMS_BACKEND = "routing.sms.ConsoleBackend"
    assert isinstance(sms.get_backend(), sms.ConsoleBackend)


@pytest.fixture
def gateway(settings, request):
    stub = request.getfixturevalue("http_stub")
    settings.SMS_GATEWAY_URL = stub.url
    settings.SMS_GATEWAY_TOKEN = "gw-token"
    return stub


def test_the_http_gateway_posts_json_with_a_bearer_token(gateway):
    sms.HttpGatewayBackend().send(MESSAGE)
    [request] = gateway.requests
    assert request["headers"]["Authorization"] == "Bearer gw-token"
    assert json.loads(request["body"]) == {"to": PHONE, "message": "Pasientreiser: Du hentes …"}


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False), (401, False)])
def test_the_http_gateway_says_whether_a_failure_is_worth_retrying(gateway, status, transient):
    gateway.responses = [status]
    with pytest.raises(sms.SmsError) as failure:
        sms.HttpGatewayBackend().send(MESSAGE)
    assert failure.value.transient is transient
    assert str(failure.value) == f"gateway answered HTTP {status}"


def test_an_unreachable_gateway_is_a_transient_error(settings):
    settings.SMS_GATEWAY_URL = closed_port_url()
    with pytest.raises(sms.SmsError) as failure:
        sms.HttpGatewayBackend().send(MESSAGE)
    assert failure.value.transient
    assert PHONE not in str(failure.value)


def test_the_http_gateway_needs_a_url(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(ImproperlyConfigured):
        sms.HttpGatewayBackend()


# --- from scheduling to a sent SMS -------------------------------------------------------------------


class FlakyBackend(sms.BaseBackend):
    """Fails with the queued errors first, then sends to MemoryBackend's outbox."""

    errors: ClassVar[list[sms.SmsError]] = []

    def send(self, message: sms.SmsMessage) -> None:
        if self.errors:
            raise self.errors.pop(0)
        sms.MemoryBackend.outbox.append(message)


@pytest.fixture
def outbox(settings):
    settings.SMS_BACKEND = "routing.sms.MemoryBackend"
    sms.MemoryBackend.outbox.clear()
    FlakyBackend.errors.clear()
    yield sms.MemoryBackend.outbox
    sms.MemoryBackend.outbox.clear()


@pytest.fixture
def accepted(db, clinician, office_worker):
    return requisition_in("accepted", clinician=clinician, office_worker=office_worker)


def in_days(days: float, *, hour: int = 9, minute: int = 15) -> dt.datetime:
    day = timezone.localtime(timezone.now() + dt.timedelta(days=days))
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def schedule(requisition: Requisition, office_worker, pickup_at: dt.datetime) -> Requisition:
    """Schedule through the service (which sends ``requisition_scheduled``) and commit."""
    requisition.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        requisition_transition(
            requisition=requisition,
            user=office_worker,
            actors=actors_for(office_worker, requisition),
            target="scheduled",
            pickup_at=pickup_at,
        )
    requisition.refresh_from_db()
    return requisition


def notifications() -> list[tuple[str, int]]:
    return list(SmsNotification.objects.order_by("pk").values_list("status", "attempts"))


@pytest.mark.django_db
def test_scheduling_texts_the_patient_the_pickup_time_after_commit(outbox, accepted, office_worker):
    pickup = in_days(20)
    schedule(accepted, office_worker, pickup)
    [message] = outbox
    assert message.to == PHONE
    assert message.requisition_id == accepted.pk
    assert message.text == sms.pickup_text(pickup, "Sognsvannsveien 20")
    assert notifications() == [("sent", 1)]


@pytest.mark.django_db
def test_the_scheduling_service_announces_the_pickup(outbox, accepted, office_worker):
    advance(accepted, by=office_worker, to="scheduled", pickup_at=in_days(20))
    assert len(outbox) == 1


@pytest.mark.django_db
def test_nothing_is_sent_before_commit(outbox, accepted, office_worker):
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks, transaction.atomic():
        requisition_transition(
            requisition=accepted,
            user=office_worker,
            actors=actors_for(office_worker, accepted),
            target="scheduled",
            pickup_at=in_days(20),
        )
    assert outbox == []
    assert notifications() == [("pending", 0)]
    assert len(callbacks) >= 1


@pytest.mark.django_db
def test_running_the_task_twice_sends_once(outbox, accepted, office_worker):
    schedule(accepted, office_worker, in_days(20))
    notification = SmsNotification.objects.get()
    assert tasks.send_pickup_sms.apply(args=[notification.pk]).get() == "skipped"
    assert len(outbox) == 1


@pytest.mark.django_db
def test_rescheduling_sends_only_for_a_new_pickup_time(outbox, accepted, office_worker):
    first = in_days(20)
    schedule(accepted, office_worker, first)
    advance(accepted, by=office_worker, to="accepted")  # unschedule
    schedule(accepted, office_worker, first)  # the same time again: the patient already knows
    assert len(outbox) == 1
    advance(accepted, by=office_worker, to="accepted")
    schedule(accepted, office_worker, first + dt.timedelta(minutes=30))
    assert len(outbox) == 2
    assert "kl 09:45" in outbox[1].text


@pytest.mark.django_db
def test_no_sms_for_a_pickup_already_past(outbox, accepted, office_worker):
    schedule(accepted, office_worker, timezone.now() - dt.timedelta(minutes=5))
    assert outbox == []
    assert notifications() == []


@pytest.mark.django_db
def test_a_patient_without_a_mobile_number_is_skipped(outbox, accepted, office_worker):
    accepted.patient.__class__.objects.filter(pk=accepted.patient_id).update(phone="")
    schedule(accepted, office_worker, in_days(20))
    assert outbox == []
    assert SmsNotification.objects.get().last_error == "the patient has no mobile number"


@pytest.mark.django_db
def test_a_pickup_changed_before_the_sms_went_out_is_not_sent(outbox, accepted, office_worker, monkeypatch):
    monkeypatch.setattr(tasks.send_pickup_sms, "delay", lambda *args: None)  # the task is still queued
    schedule(accepted, office_worker, in_days(20))
    advance(accepted, by=office_worker, to="accepted")
    notification = SmsNotification.objects.get()
    assert delivery.pickup_sms_attempt(notification_id=notification.pk).result == "skipped"
    assert outbox == []
    assert SmsNotification.objects.get().last_error == "the order is no longer scheduled for this pickup time"


@pytest.mark.django_db
def test_a_transient_gateway_error_is_retried_after_a_backoff(outbox, settings, accepted, office_worker):
    settings.SMS_BACKEND = "tests.routing.test_sms.FlakyBackend"
    FlakyBackend.errors[:] = [sms.SmsError("gateway answered HTTP 503")]
    schedule(accepted, office_worker, in_days(20))
    notification = SmsNotification.objects.get()
    assert (notification.status, notification.last_error) == ("pending", "gateway answered HTTP 503")
    assert notification.next_attempt_at > timezone.now() + dt.timedelta(seconds=25)
    result = delivery.pickup_sms_attempt(notification_id=notification.pk, now=notification.next_attempt_at)
    assert result.result == "sent"
    assert len(outbox) == 1
    assert notifications() == [("sent", 2)]


@pytest.mark.django_db
def test_a_permanent_gateway_error_fails_and_an_admin_can_retry(
    outbox, settings, accepted, office_worker, admin_client, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tests.routing.test_sms.FlakyBackend"
    FlakyBackend.errors[:] = [sms.SmsError("gateway answered HTTP 400", transient=False)]
    schedule(accepted, office_worker, in_days(20))
    assert notifications() == [("failed", 1)]
    listing = admin_client.get("/admin/routing/smsnotification/?status__exact=failed")
    assert "gateway answered HTTP 400" in listing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/routing/smsnotification/",
            {"action": "retry_sms", "_selected_action": [SmsNotification.objects.get().pk]},
        )
    assert response.status_code == 302
    assert notifications() == [("sent", 1)]
    assert len(outbox) == 1


@pytest.mark.django_db
def test_the_sweeper_sends_an_sms_whose_task_was_lost(outbox, accepted, office_worker, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(tasks.send_pickup_sms, "delay", lambda *args: None)
        schedule(accepted, office_worker, in_days(20))
    SmsNotification.objects.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=2))
    tasks.sweep_unrouted.apply().get()
    assert len(outbox) == 1


@pytest.mark.django_db
def test_no_personal_data_in_the_logs(settings, accepted, office_worker, caplog):
    settings.SMS_BACKEND = "routing.sms.ConsoleBackend"
    caplog.set_level(logging.DEBUG)
    pickup = in_days(20, hour=10, minute=15)
    schedule(accepted, office_worker, pickup)
    assert f"SMS to requisition {accepted.pk} patient: pickup 10:15" in caplog.messages
    patient = accepted.patient
    for secret in (PHONE, patient.name, patient.national_id, "Sognsvannsveien", "Hjemmeveien"):
        assert secret not in caplog.text
