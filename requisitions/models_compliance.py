"""The compliance roll-up: per requisitioner, unit, office and day, kept by requisitions.rollup.

Derived data only: ``rollup.rollup_rebuild()`` recreates every row from requisitions and their events.
``ComplianceDirty`` is the to-do list of requisitions whose day must be recomputed (``rollup.rollup_refresh``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Office, RequisitioningUnit

__all__ = ["ComplianceDaily", "ComplianceDirty"]


class ComplianceDaily(models.Model):
    """Counts of the requisitions a clinician submitted on one Oslo date, for one unit and office.

    ``office`` is the office the orders were routed to (null while unrouted), so the auditor's list can
    filter by office. ``day`` is the Europe/Oslo date of the order's first submission.
    """

    requisitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requisitioner"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        RequisitioningUnit, verbose_name=_("requisitioning unit"), on_delete=models.CASCADE, related_name="+"
    )
    office = models.ForeignKey(
        Office, verbose_name=_("office"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))

    orders = models.PositiveIntegerField(_("orders"), default=0)
    level_public_transport = models.PositiveIntegerField(default=0)
    level_helseekspress = models.PositiveIntegerField(default=0)
    level_taxi = models.PositiveIntegerField(default=0)
    level_wheelchair_taxi = models.PositiveIntegerField(default=0)
    level_white_car = models.PositiveIntegerField(default=0)
    level_ambulance = models.PositiveIntegerField(default=0)
    above_recommendation = models.PositiveIntegerField(_("above the recommendation"), default=0)
    late = models.PositiveIntegerField(_("late"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    late_cancellations = models.PositiveIntegerField(_("late cancellations"), default=0)
    returned = models.PositiveIntegerField(_("returned"), default=0)
    alone_without_reason = models.PositiveIntegerField(_("alone without a reason"), default=0)
    two_companions = models.PositiveIntegerField(_("two companions"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "requisitions"
        ordering = ["day", "requisitioner_id"]
        verbose_name = _("compliance roll-up (day)")
        verbose_name_plural = _("compliance roll-up (days)")
        constraints = [
            models.UniqueConstraint(
                fields=["requisitioner", "unit", "office", "day"],
                condition=Q(office__isnull=False),
                name="compliance_daily_unique_routed",
            ),
            models.UniqueConstraint(
                fields=["requisitioner", "unit", "day"],
                condition=Q(office__isnull=True),
                name="compliance_daily_unique_unrouted",
            ),
        ]
        indexes = [
            models.Index(fields=["requisitioner", "day"], name="compliance_daily_person"),
            models.Index(fields=["day", "unit"], name="compliance_daily_unit"),
            models.Index(fields=["day", "office"], name="compliance_daily_office"),
        ]

    def __str__(self) -> str:
        return f"{self.requisitioner_id} {self.day}"


class ComplianceDirty(models.Model):
    """A requisition whose requisitioner's day in the roll-up must be recomputed (one row per requisition).

    Written by the ``post_save`` receiver on ``RequisitionEvent`` inside the writing transaction (one
    upsert); claimed and deleted by ``rollup.rollup_refresh``. Not a foreign key: a deleted requisition's
    marker is simply skipped, and the marker never holds a lock on the requisition.
    """

    requisition_id = models.BigIntegerField(_("requisition"), unique=True)
    marked_at = models.DateTimeField(_("marked at"))

    class Meta:
        app_label = "requisitions"
        verbose_name = _("compliance roll-up (pending)")
        verbose_name_plural = _("compliance roll-up (pending)")

    def __str__(self) -> str:
        return str(self.requisition_id)
