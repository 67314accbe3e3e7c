"""The order itself: patients, requisitions, trip legs, series, events and checklist versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Municipality, Office, RequisitioningUnit
from requisitions import states


class Level(models.TextChoices):
    """Transport levels, lowest care first (the order matters: see requisitions.beon.level_rank)."""

    PUBLIC_TRANSPORT = "public_transport", _("Public transport or own car")
    HELSEEKSPRESS = "helseekspress", _("Helseekspress")
    TAXI = "taxi", _("Taxi")
    WHEELCHAIR_TAXI = "wheelchair_taxi", _("Wheelchair taxi")
    WHITE_CAR = "white_car", _("White car (stretcher transport)")
    AMBULANCE = "ambulance", _("Ambulance (planned)")


class Status(models.TextChoices):
    """Values and labels come from the status machine (requisitions.states)."""

    AWAITING_ATTESTATION = states.AWAITING_ATTESTATION, states.LABELS[states.AWAITING_ATTESTATION]
    SUBMITTED = states.SUBMITTED, states.LABELS[states.SUBMITTED]
    ROUTED = states.ROUTED, states.LABELS[states.ROUTED]
    ROUTING_FAILED = states.ROUTING_FAILED, states.LABELS[states.ROUTING_FAILED]
    ACCEPTED = states.ACCEPTED, states.LABELS[states.ACCEPTED]
    SCHEDULED = states.SCHEDULED, states.LABELS[states.SCHEDULED]
    COMPLETED = states.COMPLETED, states.LABELS[states.COMPLETED]
    NO_SHOW = states.NO_SHOW, states.LABELS[states.NO_SHOW]
    RETURNED = states.RETURNED, states.LABELS[states.RETURNED]
    CANCELLED = states.CANCELLED, states.LABELS[states.CANCELLED]


class DeviationCode(models.TextChoices):
    CLINICAL_JUDGEMENT = "clinical_judgement", _("Clinical judgement")
    CONDITION_CHANGED = "condition_changed", _("The patient's condition has changed")
    PATIENT_SAFETY = "patient_safety", _("Patient safety")
    OTHER = "other", _("Other")


class ChecklistVersion(models.Model):
    """A published BEON rule-set document. The version in force is the newest valid_from on the day."""

    version = models.CharField(_("version"), max_length=40, unique=True)
    valid_from = models.DateField(_("valid from"))
    document = models.JSONField(_("rule-set document"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("checklist version")
        verbose_name_plural = _("checklist versions")

    def __str__(self) -> str:
        return f"{self.version} ({self.valid_from})"


class Patient(models.Model):
    national_id = models.CharField(_("national ID number"), max_length=11, unique=True)
    name = models.CharField(_("name"), max_length=160)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    street = models.CharField(_("street address"), max_length=160)
    postal_code = models.CharField(_("postal code"), max_length=4)
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self) -> str:
        return f"{_('patient')} #{self.pk}"  # never the name or ID number: this ends up in logs


class Series(models.Model):
    """Recurring trips (e.g. dialysis Monday/Wednesday/Friday): one requisition per date."""

    unit = models.ForeignKey(RequisitioningUnit, on_delete=models.PROTECT)
    weekdays = models.JSONField(_("weekdays"), help_text=_("0 = Monday"))
    first_date = models.DateField(_("first date"))
    last_date = models.DateField(_("last date"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return f"{_('series')} #{self.pk}"


class Requisition(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="requisitions")
    unit = models.ForeignKey(RequisitioningUnit, on_delete=models.PROTECT, related_name="requisitions")
    requisitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requisitioner"),
        on_delete=models.PROTECT,
        related_name="requisitions",
        help_text=_("The clinician responsible for the order."),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="entered_requisitions"
    )
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.PROTECT, related_name="requisitions")

    checklist_version = models.CharField(_("checklist version"), max_length=40)
    answers = models.JSONField(_("answers"))
    recommended_level = models.CharField(_("recommended level"), max_length=20, choices=Level.choices)
    requirements = models.JSONField(_("requirements"), default=list)
    reasons = models.JSONField(_("reasons"), default=list)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    deviation_code = models.CharField(_("deviation code"), max_length=24, choices=DeviationCode.choices, blank=True)
    deviation_reason = models.TextField(_("reason for deviation"), blank=True)
    notes = models.TextField(_("notes for the office"), blank=True)

    status = models.CharField(_("status"), max_length=24, choices=Status.choices, db_index=True)
    office = models.ForeignKey(
        Office,
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requisitions",
    )
    late = models.BooleanField(_("late order"), default=False)
    same_day = models.BooleanField(_("same-day order"), default=False)
    first_trip_at = models.DateTimeField(_("first trip"), db_index=True)
    pickup_at = models.DateTimeField(_("scheduled pickup"), null=True, blank=True)
    provider_note = models.CharField(_("provider or vehicle"), max_length=200, blank=True)
    question = models.TextField(_("question from the office"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, db_index=True)
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("requisition")
        verbose_name_plural = _("requisitions")
        indexes = [
            models.Index(fields=["office", "status", "first_trip_at"], name="req_office_queue"),
            models.Index(fields=["unit", "-created_at"], name="req_unit_recent"),
            models.Index(fields=["status", "submitted_at"], name="req_status_submitted"),
        ]

    def __str__(self) -> str:
        return f"{_('requisition')} #{self.pk}"

    @property
    def above_recommendation(self) -> bool:
        from requisitions.beon import level_rank

        return level_rank(self.level) > level_rank(self.recommended_level)


class Trip(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound")
        RETURN = "return", _("Return")

    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="trips")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    from_street = models.CharField(_("from (street)"), max_length=160)
    from_postal_code = models.CharField(_("from (postal code)"), max_length=4)
    from_municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    to_street = models.CharField(_("to (street)"), max_length=160)
    to_postal_code = models.CharField(_("to (postal code)"), max_length=4)
    to_municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    appointment_at = models.DateTimeField(_("appointment time"), null=True, blank=True)
    pickup_at = models.DateTimeField(_("pickup time"), null=True, blank=True)
    pickup_when_ready = models.BooleanField(_("pickup when ready"), default=False)

    class Meta:
        ordering = ["requisition", "direction"]
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        constraints = [
            models.UniqueConstraint(fields=["requisition", "direction"], name="trip_one_per_direction"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"

    @property
    def starts_at(self):
        return self.appointment_at or self.pickup_at


class RequisitionEvent(models.Model):
    """Append-only audit trail: who did what, when, from which status to which. No personal data."""

    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(_("action"), max_length=60)
    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("requisition event")
        verbose_name_plural = _("requisition events")

    def __str__(self) -> str:
        return f"{self.action} #{self.requisition_id}"


class IdempotencyKey(models.Model):
    """A create request's Idempotency-Key: a repeat gets the first response back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class HelseekspressRoute(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    weekdays = models.JSONField(_("weekdays"), default=list, help_text=_("0 = Monday … 6 = Sunday"))
    departures = models.JSONField(
        _("departures"), default=list, help_text=_('Local times from the first stop, e.g. ["06:30"]')
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("Helseekspress route")
        verbose_name_plural = _("Helseekspress routes")

    def __str__(self) -> str:
        return self.name


class HelseekspressStop(models.Model):
    route = models.ForeignKey(HelseekspressRoute, on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField(_("order"))
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT)
    minutes_from_start = models.PositiveIntegerField(_("minutes from first stop"))

    class Meta:
        ordering = ["route", "order"]
        constraints = [models.UniqueConstraint(fields=["route", "order"], name="helseekspress_stop_order")]

    def __str__(self) -> str:
        return f"{self.route} {self.order}: {self.municipality}"


from requisitions.models_compliance import *  # noqa: E402,F401,F403
from requisitions.models_exports import *  # noqa: E402,F401,F403
