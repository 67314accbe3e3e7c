"""Organisation, geography and accounts shared by the whole portal."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

four_digits = RegexValidator(r"^\d{4}$", _("Must be four digits."))


class HealthTrust(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120)
    white_cars_from_pasientreiser = models.BooleanField(
        _("white cars dispatched by Pasientreiser"),
        default=False,
        help_text=_("When set, white-car orders in this trust's area go to its Pasientreiser office, not the AMK."),
    )
    default_amk = models.ForeignKey(
        "Office",
        verbose_name=_("default AMK"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    default_pasientreiser = models.ForeignKey(
        "Office",
        verbose_name=_("default Pasientreiser office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Used for pickups outside the region ordered by this trust's units."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("health trust")
        verbose_name_plural = _("health trusts")

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    class Kind(models.TextChoices):
        AMK = "AMK", _("AMK centre")
        PASIENTREISER = "PASIENTREISER", _("Pasientreiser office")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    trust = models.ForeignKey(HealthTrust, verbose_name=_("health trust"), on_delete=models.PROTECT)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    cut_off_time = models.TimeField(_("booking cut-off"), default=dt.time(13, 0))
    webhook_url = models.URLField(_("webhook URL"), blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    number = models.CharField(_("number"), max_length=4, unique=True, validators=[four_digits])
    name = models.CharField(_("name"), max_length=80)
    county_number = models.CharField(_("county number"), max_length=2)
    county_name = models.CharField(_("county"), max_length=80, blank=True)
    trust = models.ForeignKey(
        HealthTrust, verbose_name=_("health trust"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def in_region(self) -> bool:
        return self.trust_id is not None


class PostalCode(models.Model):
    code = models.CharField(_("postal code"), max_length=4, unique=True, validators=[four_digits])
    place = models.CharField(_("postal place"), max_length=80)
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT)
    category = models.CharField(_("category"), max_length=1, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("postal code")
        verbose_name_plural = _("postal codes")

    def __str__(self) -> str:
        return f"{self.code} {self.place}"


class RequisitioningUnit(models.Model):
    class Kind(models.TextChoices):
        GP_PRACTICE = "GP_PRACTICE", _("GP practice")
        WARD = "WARD", _("hospital ward")
        EMERGENCY = "EMERGENCY", _("emergency unit")
        NURSING_HOME = "NURSING_HOME", _("nursing home")

    name = models.CharField(_("name"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GP_PRACTICE)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), null=True, blank=True, on_delete=models.PROTECT
    )
    trust = models.ForeignKey(
        HealthTrust, verbose_name=_("health trust"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("requisitioning unit")
        verbose_name_plural = _("requisitioning units")

    def __str__(self) -> str:
        return self.name

    @property
    def effective_trust(self) -> HealthTrust | None:
        if self.trust_id:
            return self.trust
        return self.municipality.trust if self.municipality_id else None


class User(AbstractUser):
    """A portal user. The role is a Django group (portal.roles); unit or office binds them to their work."""

    hpr_number = models.CharField(
        _("HPR number"),
        max_length=9,
        blank=True,
        validators=[RegexValidator(r"^\d{6,9}$", _("An HPR number has 6 to 9 digits."))],
        help_text=_("Health personnel register number of a clinician."),
    )
    unit = models.ForeignKey(
        RequisitioningUnit,
        verbose_name=_("requisitioning unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    office = models.ForeignKey(
        Office,
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AccessLog(models.Model):
    """Who saw which patient's data, when, where. Written by portal.access_log.log_access; never edited.

    ``requisition_id`` and ``patient_id`` are plain numbers, not foreign keys: the log must outlive the
    rows it names, and ``portal`` must not depend on ``requisitions``.
    """

    class Via(models.TextChoices):
        WEB = "web", _("web")
        API = "api", _("API")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="access_log_entries")
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    requisition_id = models.PositiveBigIntegerField(_("requisition"), null=True, blank=True, db_index=True)
    patient_id = models.PositiveBigIntegerField(_("patient"))
    page = models.CharField(_("page"), max_length=80)
    via = models.CharField(_("via"), max_length=3, choices=Via.choices, default=Via.WEB)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["patient_id", "-at"], name="access_log_patient_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.page} {self.at:%Y-%m-%d %H:%M}"
