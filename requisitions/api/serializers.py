from __future__ import annotations

from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import OfficeBriefSerializer
from requisitions.api.fields import AddressSerializer, AwareDateTimeField, NationalIdField, PhoneField
from requisitions.models import DeviationCode, Level, Requisition, RequisitionEvent, Trip
from requisitions.services import Address, Order, PatientInput, TripInput


class EvaluateSerializer(serializers.Serializer):
    answers = serializers.DictField()
    checklist_version = serializers.CharField(required=False)


class ReasonSerializer(serializers.Serializer):
    question = serializers.CharField(allow_null=True)
    text = serializers.CharField()


class EvaluateResultSerializer(serializers.Serializer):
    """Documents the evaluation response (built by beon.Result.as_dict)."""

    checklist_version = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices, allow_null=True)
    requirements = serializers.ListField(child=serializers.CharField())
    reasons = ReasonSerializer(many=True)
    stop = serializers.ChoiceField(choices=["call_113"], allow_null=True)


class PatientSerializer(serializers.Serializer):
    national_id = NationalIdField(max_length=20)
    name = serializers.CharField(max_length=160)
    phone = PhoneField(max_length=32)
    address = AddressSerializer()


class TripSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Trip.Direction.choices)
    # "from" is a Python keyword: the field is declared below under its JSON name.
    to = AddressSerializer()
    appointment_at = AwareDateTimeField(required=False, allow_null=True)
    pickup_at = AwareDateTimeField(required=False, allow_null=True)
    pickup_when_ready = serializers.BooleanField(required=False, default=False)


TripSerializer._declared_fields["from"] = AddressSerializer()


def _address(data) -> Address:
    return Address(street=data["street"].strip(), postal_code=data["postal_code"], municipality=data["municipality"])


class RequisitionCreateSerializer(serializers.Serializer):
    patient = PatientSerializer()
    answers = serializers.DictField()
    level = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    deviation_code = serializers.ChoiceField(choices=DeviationCode.choices, required=False, allow_blank=True)
    deviation_reason = serializers.CharField(required=False, allow_blank=True, default="")
    trips = TripSerializer(many=True, allow_empty=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def to_order(self) -> Order:
        data = self.validated_data
        patient = data["patient"]
        return Order(
            patient=PatientInput(
                national_id=patient["national_id"],
                name=patient["name"].strip(),
                phone=patient["phone"],
                address=_address(patient["address"]),
            ),
            answers=data["answers"],
            level=data.get("level") or None,
            deviation_code=data.get("deviation_code", ""),
            deviation_reason=data.get("deviation_reason", ""),
            notes=data.get("notes", ""),
            trips=[
                TripInput(
                    direction=trip["direction"],
                    origin=_address(trip["from"]),
                    destination=_address(trip["to"]),
                    appointment_at=trip.get("appointment_at"),
                    pickup_at=trip.get("pickup_at"),
                    pickup_when_ready=trip.get("pickup_when_ready", False),
                )
                for trip in data["trips"]
            ],
        )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ResubmitSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=2000)
    appointment_at = AwareDateTimeField(required=False, allow_null=True)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=["accepted", "scheduled", "completed", "no_show", "returned", "cancelled"])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    pickup_at = AwareDateTimeField(required=False, allow_null=True)
    provider = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class TripOutSerializer(serializers.ModelSerializer):
    origin = serializers.SerializerMethodField()
    to = serializers.SerializerMethodField()
    appointment_at = AwareDateTimeField()
    pickup_at = AwareDateTimeField()

    class Meta:
        model = Trip
        fields = ["direction", "origin", "to", "appointment_at", "pickup_at", "pickup_when_ready"]

    @extend_schema_field(AddressSerializer)
    def get_origin(self, trip):
        return {
            "street": trip.from_street,
            "postal_code": trip.from_postal_code,
            "municipality": trip.from_municipality.number,
        }

    @extend_schema_field(AddressSerializer)
    def get_to(self, trip):
        return {
            "street": trip.to_street,
            "postal_code": trip.to_postal_code,
            "municipality": trip.to_municipality.number,
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["from"] = data.pop("origin")
        return {
            key: data[key] for key in ["direction", "from", "to", "appointment_at", "pickup_at", "pickup_when_ready"]
        }


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)
    at = AwareDateTimeField()

    class Meta:
        model = RequisitionEvent
        fields = ["at", "action", "from_status", "to_status", "actor", "note"]


class RequisitionSerializer(serializers.ModelSerializer):
    office = OfficeBriefSerializer(allow_null=True)
    unit = serializers.CharField(source="unit.name")
    requisitioner = serializers.CharField(source="requisitioner.username")
    patient = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    trips = TripOutSerializer(many=True)
    events = EventSerializer(many=True)
    above_recommendation = serializers.BooleanField()
    first_trip_at = AwareDateTimeField()
    pickup_at = AwareDateTimeField()
    submitted_at = AwareDateTimeField()
    created_at = AwareDateTimeField()

    class Meta:
        model = Requisition
        fields = [
            "id",
            "status",
            "checklist_version",
            "recommended_level",
            "level",
            "above_recommendation",
            "requirements",
            "reasons",
            "deviation_code",
            "deviation_reason",
            "late",
            "same_day",
            "office",
            "unit",
            "requisitioner",
            "patient",
            "answers",
            "trips",
            "first_trip_at",
            "pickup_at",
            "provider_note",
            "question",
            "cancel_reason",
            "notes",
            "created_at",
            "submitted_at",
            "events",
        ]

    @extend_schema_field(PatientSerializer)
    def get_patient(self, requisition):
        patient = requisition.patient
        return {
            "national_id": patient.national_id,
            "name": patient.name,
            "phone": patient.phone,
            "address": {
                "street": patient.street,
                "postal_code": patient.postal_code,
                "municipality": patient.municipality.number,
            },
        }

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, requisition):
        lang = "en" if (get_language() or "nb").startswith("en") else "nb"
        return [{"question": reason["question"], "text": reason[lang]} for reason in requisition.reasons]


class RequisitionListSerializer(RequisitionSerializer):
    class Meta(RequisitionSerializer.Meta):
        fields = [
            "id",
            "status",
            "recommended_level",
            "level",
            "above_recommendation",
            "late",
            "office",
            "unit",
            "requisitioner",
            "first_trip_at",
            "submitted_at",
            "created_at",
        ]
