from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.serializers import OfficeSerializer, PostalCodeSerializer
from portal.models import Office, PostalCode


class OfficeList(generics.ListAPIView):
    """All AMK centres and Pasientreiser offices of the region."""

    serializer_class = OfficeSerializer
    pagination_class = None
    queryset = Office.objects.select_related("trust").order_by("code")


class PostalCodeDetail(APIView):
    @extend_schema(responses=PostalCodeSerializer)
    def get(self, request: Request, code: str) -> Response:
        """A postal code with its place and municipality; 404 when unknown."""
        postal_code = get_object_or_404(PostalCode.objects.select_related("municipality"), code=code)
        return Response(PostalCodeSerializer(postal_code).data)
