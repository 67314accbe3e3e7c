from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.serializers import OfficeBriefSerializer
from portal.models import Municipality, Office
from routing.resolver import LEVELS, resolve
from routing.selectors import area_for_municipality


class RoutingPreview(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("municipality", OpenApiTypes.STR, required=True, description="4-digit number"),
            OpenApiParameter("level", OpenApiTypes.STR, required=True, enum=list(LEVELS)),
        ],
        responses=inline_serializer("RoutingPreview", {"office": OfficeBriefSerializer(allow_null=True)}),
    )
    def get(self, request: Request) -> Response:
        """Which office an order at this level from this municipality would go to (null: not routed)."""
        number = request.query_params.get("municipality", "").strip()
        level = request.query_params.get("level", "").strip()
        errors: dict[str, list[str]] = {}
        municipality = Municipality.objects.select_related("trust").filter(number=number).first()
        if municipality is None:
            errors["municipality"] = [_("Unknown municipality number: %(value)s.") % {"value": number or "—"}]
        if level not in LEVELS:
            errors["level"] = [_("Unknown level: %(value)s.") % {"value": level or "—"}]
        if errors:
            raise ValidationError(errors)
        office_ref = resolve(level, area_for_municipality(municipality), on=timezone.localdate())
        office = Office.objects.get(code=office_ref.code) if office_ref else None
        return Response({"office": OfficeBriefSerializer(office).data if office else None})
