"""Serializer fields that enforce the contract's formats (and nothing else)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import Municipality, PostalCode
from requisitions.national_id import NationalIdError, parse_national_id
from requisitions.phone import PhoneError, normalize_phone


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """ISO 8601 with an explicit offset; a naive time is refused rather than guessed."""

    default_error_messages = {
        "invalid": _("Give the time in ISO 8601 with an offset, e.g. 2026-11-24T10:00:00+01:00."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = dt.datetime.fromisoformat(data.strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        from django.utils import timezone

        return timezone.localtime(value).isoformat() if value else None


class NationalIdField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return parse_national_id(value, allow_synthetic=settings.ALLOW_SYNTHETIC_NATIONAL_IDS).value
        except NationalIdError as exc:
            raise serializers.ValidationError(str(exc)) from None


class PhoneField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except PhoneError as exc:
            raise serializers.ValidationError(str(exc)) from None


class MunicipalityField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        municipality = None
        if len(value) == 4 and value.isdigit():
            municipality = Municipality.objects.select_related("trust").filter(number=value).first()
        if municipality is None:
            raise serializers.ValidationError(_("Not a 4-digit municipality number that exists: %s.") % value)
        return municipality


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField(max_length=160)
    postal_code = serializers.CharField(max_length=4)
    municipality = MunicipalityField()

    def validate(self, attrs):
        code = attrs["postal_code"].strip()
        postal = PostalCode.objects.filter(code=code).first()
        if postal is None:
            raise serializers.ValidationError({"postal_code": [_("Unknown postal code: %s.") % code]})
        if postal.municipality_id != attrs["municipality"].pk:
            raise serializers.ValidationError(
                {
                    "postal_code": [
                        _("Postal code %(code)s is in %(actual)s, not in %(given)s.")
                        % {
                            "code": code,
                            "actual": postal.municipality.name,
                            "given": attrs["municipality"].name,
                        }
                    ]
                }
            )
        attrs["postal_code"] = code
        return attrs
