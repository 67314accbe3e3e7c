"""Compliance API: a requisitioner's own figures, the auditor's list with outliers, and the access log.

Figures come from the daily roll-up (requisitions.compliance_selectors); the rules behind them, the
peers' medians and the outlier rule are documented in requisitions.compliance.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from portal import roles
from portal.access_log import log_access
from portal.models import AccessLog, Office, RequisitioningUnit
from requisitions import compliance
from requisitions.api.views import HasRole, _date_param
from requisitions.compliance_selectors import (
    Period,
    figures_of_requisitioner,
    figures_of_unit,
    figures_per_requisitioner,
    peer_medians_by_kind,
    peers_of_kind,
)
from requisitions.models import Patient
from requisitions.rollup import rollup_refresh, rollup_refresh_for

RATE_DIGITS = 4


class IsRequisitioner(HasRole):
    roles = (roles.REQUISITIONER,)


class IsAuditor(HasRole):
    roles = (roles.AUDITOR,)


# --- serializers: they document the responses (built as plain data below) ----------------------------


class FiguresSerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Requisitions first submitted in the period, whatever became of them.")
    by_level = serializers.DictField(child=serializers.IntegerField())
    above_recommendation = serializers.IntegerField()
    late = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    late_cancellations = serializers.IntegerField()
    returned = serializers.IntegerField()
    alone_without_reason = serializers.IntegerField()
    two_companions = serializers.IntegerField()
    above_recommendation_rate = serializers.FloatField()
    late_rate = serializers.FloatField()
    cancelled_rate = serializers.FloatField()
    late_cancellations_rate = serializers.FloatField()
    returned_rate = serializers.FloatField()
    alone_without_reason_rate = serializers.FloatField()
    two_companions_rate = serializers.FloatField()


class PeersSerializer(serializers.Serializer):
    kind = serializers.CharField(allow_null=True, help_text="The unit kind the peers share.")
    requisitioners = serializers.IntegerField(help_text="Peers with at least one order in the period.")
    above_recommendation_rate = serializers.FloatField()
    late_rate = serializers.FloatField()
    cancelled_rate = serializers.FloatField()
    late_cancellations_rate = serializers.FloatField()
    returned_rate = serializers.FloatField()
    alone_without_reason_rate = serializers.FloatField()
    two_companions_rate = serializers.FloatField()


class PeriodSerializer(serializers.Serializer):
    to = serializers.DateField()


PeriodSerializer._declared_fields["from"] = serializers.DateField()


class UnitFiguresSerializer(FiguresSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ComplianceMeSerializer(FiguresSerializer):
    username = serializers.CharField()
    period = PeriodSerializer()
    unit = UnitFiguresSerializer(allow_null=True)
    peers = PeersSerializer()


class ComplianceRecordSerializer(FiguresSerializer):
    username = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    unit_id = serializers.IntegerField()
    unit_kind = serializers.CharField()
    outlier = serializers.BooleanField()
    outlier_reasons = serializers.ListField(child=serializers.ChoiceField(choices=compliance.RATES))


class AccessLogEntrySerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.display_name")
    unit = serializers.CharField(source="user.unit.name", default=None)
    office = serializers.CharField(source="user.office.code", default=None)

    class Meta:
        model = AccessLog
        fields = ["at", "username", "name", "unit", "office", "requisition_id", "page", "via"]


# --- helpers ------------------------------------------------------------------------------------------


def _figures(figures: compliance.Figures) -> dict:
    data = figures.as_dict()
    for name in compliance.RATES:
        data[name] = round(data[name], RATE_DIGITS)
    return data


def _peers(kind: str | None, count: int, medians: dict[str, float]) -> dict:
    return {"kind": kind, "requisitioners": count, **{name: round(medians[name], RATE_DIGITS) for name in medians}}


def _period(request: Request) -> Period:
    """The default period (the last 90 days) narrowed by ``from`` and ``to``; 400 naming a bad one."""
    start = _date_param(request, "from")
    end = _date_param(request, "to")
    default = Period.default(today=end)
    if start and end and start > end:
        raise ValidationError({"from": [_("The start date must not be after the end date (to).")]})
    if start and not end:
        end = max(default.end, start)
    return Period(start=start or default.start, end=end or default.end)


_PERIOD_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default: 89 days before `to`."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (YYYY-MM-DD); default: today."),
]


# --- views --------------------------------------------------------------------------------------------


class ComplianceMe(generics.GenericAPIView):
    permission_classes = [IsRequisitioner]
    pagination_class = None

    @extend_schema(parameters=_PERIOD_PARAMS, responses=ComplianceMeSerializer)
    def get(self, request: Request) -> Response:
        """The caller's own figures beside their unit's and the medians of peers in units of the same kind."""
        period = _period(request)
        user = request.user
        rollup_refresh_for(user.pk)  # the caller's own changes of the last seconds count at once
        data = _figures(figures_of_requisitioner(user.pk, period))
        data["username"] = user.get_username()
        data["period"] = {"from": period.start, "to": period.end}
        unit = user.unit
        data["unit"] = (
            {"id": unit.pk, "name": unit.name, "kind": unit.kind, **_figures(figures_of_unit(unit.pk, period))}
            if unit
            else None
        )
        kind = unit.kind if unit else None
        peers = peers_of_kind(kind, period) if kind else []
        data["peers"] = _peers(kind, len(peers), compliance.peer_medians(peers))
        return Response(data)


def _unit_param(request: Request) -> RequisitioningUnit | None:
    raw = (request.query_params.get("unit") or "").strip()
    if not raw:
        return None
    lookup = {"pk": int(raw)} if raw.isdigit() else {"name__iexact": raw}
    unit = RequisitioningUnit.objects.filter(**lookup).first()
    if unit is None:
        raise ValidationError({"unit": [_("Unknown unit: %s.") % raw]})
    return unit


def _office_param(request: Request) -> Office | None:
    raw = (request.query_params.get("office") or "").strip()
    if not raw:
        return None
    office = Office.objects.filter(code__iexact=raw).first()
    if office is None:
        raise ValidationError({"office": [_("Unknown office: %s.") % raw]})
    return office


class ComplianceRequisitioners(generics.GenericAPIView):
    permission_classes = [IsAuditor]
    serializer_class = ComplianceRecordSerializer

    @extend_schema(
        parameters=[
            *_PERIOD_PARAMS,
            OpenApiParameter("unit", str, description="Requisitioning unit: id or exact name."),
            OpenApiParameter("office", str, description="Office code: only orders routed to that office."),
        ],
        responses=ComplianceRecordSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Figures per requisitioner and unit, with outliers against peers of the same unit kind.

        Peers: every requisitioner with orders in the period in units of the same kind (limited to the
        office when ``office`` is given; ``unit`` does not narrow the peers). The paginated body also
        holds ``peers``: {unit kind: medians}.
        """
        period = _period(request)
        unit = _unit_param(request)
        office = _office_param(request)
        rollup_refresh()  # the few seconds of changes the beat task has not taken yet
        office_id = office.pk if office else None
        medians = peer_medians_by_kind(period, office_id=office_id)
        records = []
        for row in figures_per_requisitioner(period, unit_id=unit.pk if unit else None, office_id=office_id):
            reasons = compliance.outlier_reasons(row.figures, medians.get(row.unit_kind, (0, {}))[1])
            records.append(
                {
                    "username": row.username,
                    "name": row.name,
                    "unit": row.unit_name,
                    "unit_id": row.unit_id,
                    "unit_kind": row.unit_kind,
                    **_figures(row.figures),
                    "outlier": bool(reasons),
                    "outlier_reasons": reasons,
                }
            )
        page = self.paginate_queryset(records)
        response = self.get_paginated_response(page)
        response.data["period"] = {"from": period.start, "to": period.end}
        response.data["peers"] = {kind: _peers(kind, count, values) for kind, (count, values) in medians.items()}
        return response


class PatientAccessLog(generics.GenericAPIView):
    permission_classes = [IsAuditor]
    serializer_class = AccessLogEntrySerializer

    @extend_schema(
        request=inline_serializer("AccessLogQuery", {"national_id": serializers.CharField()}),
        responses=AccessLogEntrySerializer(many=True),
    )
    def post(self, request: Request) -> Response:
        """Who has seen this patient's orders, newest first. The auditor's own look is logged too.

        A POST, so the national ID travels in the body and never in a URL (URLs end up in access logs)."""
        national_id = request.data.get("national_id") if isinstance(request.data, dict) else None
        if not isinstance(national_id, str) or not national_id.strip():
            raise ValidationError({"national_id": [_("Give the patient's national ID number.")]})
        patient = Patient.objects.filter(national_id=national_id.strip()).only("pk").first()
        if patient is None:
            raise Http404
        log_access(request.user, [], "patient-access-log", via=AccessLog.Via.API, patient_ids=[patient.pk])
        entries = AccessLog.objects.filter(patient_id=patient.pk).select_related("user__unit", "user__office")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(AccessLogEntrySerializer(page, many=True).data)
