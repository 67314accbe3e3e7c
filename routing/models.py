"""Which office serves which municipality, over time; outbound deliveries (webhook, SMS) and their attempts."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Municipality, Office


class Coverage(models.Model):
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE, related_name="coverage"
    )
    office_kind = models.CharField(_("office kind"), max_length=16, choices=Office.Kind.choices)
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="coverage")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty: still valid."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["municipality__number", "office_kind", "valid_from"]
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "office_kind", "valid_from"], name="coverage_unique_start"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="coverage_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} → {self.office} ({self.valid_from}–{self.valid_to or ''})"


class WebhookDelivery(models.Model):
    """One order sent (or to be sent) to an office's own system: an outbox row with its retry state.

    Written in the routing transaction, so a delivery is never lost when the broker is down; the task
    claims it with a conditional UPDATE (status + lease), so two workers never send it at once.
    Holds no personal data: the body is built from the requisition at each attempt and never stored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    requisition = models.ForeignKey(
        "requisitions.Requisition",
        verbose_name=_("requisition"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    event = models.CharField(_("event"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} #{self.requisition_id} → {self.office_id}"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a webhook delivery: outcome and timing only, never the body."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.number}"


class SmsNotification(models.Model):
    """The pickup SMS for one scheduled pickup time: at most one per (requisition, pickup time).

    Stores neither the phone number nor the text; both are read from the requisition when sending.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    requisition = models.ForeignKey(
        "requisitions.Requisition",
        verbose_name=_("requisition"),
        on_delete=models.CASCADE,
        related_name="sms_notifications",
    )
    pickup_at = models.DateTimeField(_("pickup time"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pickup SMS")
        verbose_name_plural = _("pickup SMS")
        constraints = [
            models.UniqueConstraint(fields=["requisition", "pickup_at"], name="sms_one_per_pickup_time"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sms_notification_due")]

    def __str__(self) -> str:
        return f"SMS #{self.requisition_id} {self.pickup_at:%Y-%m-%d %H:%M}"
