"""Which office serves which municipality, over time."""

from __future__ import annotations

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
