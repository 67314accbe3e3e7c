"""Requisition API: parse, load through the access helper, call one service, serialise."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import roles
from portal.access_log import log_access
from portal.models import Office, User
from requisitions import beon, states
from requisitions.api.idempotency import idempotent
from requisitions.api.serializers import (
    CancelSerializer,
    EvaluateResultSerializer,
    EvaluateSerializer,
    RequisitionCreateSerializer,
    RequisitionListSerializer,
    RequisitionSerializer,
    ResubmitSerializer,
    TransitionSerializer,
)
from requisitions.checklists import ruleset_by_version, ruleset_in_force
from requisitions.models import Level, Status
from requisitions.selectors import access_requisition, actors_for, requisitions_visible_to, with_details
from requisitions.services import InputError, requisition_amend_resubmit, requisition_create, requisition_transition


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


class HasRole(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and roles.has_role(request.user, *self.roles))


class CanOrder(HasRole):
    roles = (roles.REQUISITIONER, roles.CLERK)


class CanSeeRequisitions(HasRole):
    roles = (roles.REQUISITIONER, roles.CLERK, roles.OFFICE_STAFF, roles.AUDITOR)


class OfficeStaff(HasRole):
    roles = (roles.OFFICE_STAFF,)


class SeesRequisitions(CanSeeRequisitions):
    """One order's endpoints: someone signed in without a role here can see no order at all, so 404."""

    def has_permission(self, request, view) -> bool:
        allowed = super().has_permission(request, view)
        if not allowed and request.user and request.user.is_authenticated:
            raise NotFound
        return allowed


def _require_role(request: Request, *names: str) -> None:
    """After the access helper: the caller may see the order but their role may not do this (403)."""
    if not roles.has_role(request.user, *names):
        raise PermissionDenied(_("You may not change this order."))


def _keyed_by_index(errors):
    """Service errors list one dict per item (``[{}, {...}]``); like DRF, the API keys them by index."""
    if isinstance(errors, dict):
        return {key: _keyed_by_index(value) for key, value in errors.items()}
    if isinstance(errors, list) and any(isinstance(item, dict) for item in errors):
        return {index: _keyed_by_index(item) for index, item in enumerate(errors) if item}
    return errors


class DomainErrors:
    """Turn the services' domain errors into the contract's statuses."""

    def handle_exception(self, exc):
        if isinstance(exc, InputError):
            return Response(_keyed_by_index(exc.errors), status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, states.TransitionError):
            code = status.HTTP_403_FORBIDDEN if exc.forbidden else status.HTTP_409_CONFLICT
            return Response({"detail": exc.message}, status=code)
        return super().handle_exception(exc)


class Evaluate(DomainErrors, APIView):
    @extend_schema(request=EvaluateSerializer, responses=EvaluateResultSerializer)
    def post(self, request: Request) -> Response:
        """Evaluate the BEON checklist: recommended level, requirements and reasons, or stop (call 113)."""
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("checklist_version")
        if version:
            ruleset = ruleset_by_version(version)
            if ruleset is None:
                raise ValidationError({"checklist_version": [_("Unknown checklist version: %s.") % version]})
        else:
            ruleset = ruleset_in_force(timezone.localdate())
        try:
            result = beon.evaluate(ruleset, serializer.validated_data["answers"])
        except beon.AnswerError as exc:
            raise InputError({"answers": exc.errors}) from None
        return Response(result.as_dict(_lang()))


def _date_param(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: [_("Give a date as YYYY-MM-DD.")]}) from None


class RequisitionListCreate(DomainErrors, generics.GenericAPIView):
    def get_permissions(self):
        return [CanOrder()] if self.request.method == "POST" else [CanSeeRequisitions()]

    def get_serializer_class(self):
        return RequisitionCreateSerializer if self.request.method == "POST" else RequisitionListSerializer

    def get_queryset(self):
        qs = requisitions_visible_to(self.request.user).select_related("office", "unit", "requisitioner")
        params = self.request.query_params
        errors = {}
        if status_value := params.get("status"):
            if status_value not in Status.values:
                errors["status"] = [_("Unknown status: %s.") % status_value]
            qs = qs.filter(status=status_value)
        if level := params.get("level"):
            if level not in Level.values:
                errors["level"] = [_("Unknown level: %s.") % level]
            qs = qs.filter(level=level)
        if errors:
            raise ValidationError(errors)
        if start := _date_param(self.request, "from"):
            qs = qs.filter(first_trip_at__date__gte=start)
        if end := _date_param(self.request, "to"):
            qs = qs.filter(first_trip_at__date__lte=end)
        return qs.order_by("-created_at")

    @extend_schema(operation_id="requisitions_list", responses=RequisitionListSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Requisitions the caller may see: own unit's, own office's, or (auditors) all."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RequisitionListSerializer(page, many=True).data)

    @extend_schema(request=RequisitionCreateSerializer, responses={201: RequisitionSerializer})
    def post(self, request: Request) -> Response:
        """Create and submit a requisition (a clerk's order waits for the named clinician's attestation)."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
        serializer = RequisitionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requisitioner = self._named_clinician(request)
        requisition = requisition_create(
            order=serializer.to_order(),
            entered_by=request.user,
            requisitioner=requisitioner,
            unit=request.user.unit,
        )
        fresh = with_details(requisitions_visible_to(request.user)).get(pk=requisition.pk)
        return Response(RequisitionSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def _named_clinician(self, request: Request) -> User:
        """A clinician orders for themselves; a clerk names a clinician of the same unit."""
        if roles.has_role(request.user, roles.REQUISITIONER):
            return request.user
        username = request.data.get("requisitioner") if isinstance(request.data, dict) else None
        clinician = (
            User.objects.filter(
                username=username, unit_id=request.user.unit_id, groups__name=roles.REQUISITIONER
            ).first()
            if username
            else None
        )
        if clinician is None:
            raise ValidationError({"requisitioner": [_("Name a clinician of your unit who will attest the order.")]})
        return clinician


class RequisitionDetail(DomainErrors, APIView):
    permission_classes = [SeesRequisitions]

    @extend_schema(responses=RequisitionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        requisition = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
        log_access(request.user, [requisition], "requisition-detail", via="api")
        return Response(RequisitionSerializer(requisition).data)


def _act(request: Request, pk: int, target: str, **kwargs) -> Response:
    with transaction.atomic():
        requisition = access_requisition(request.user, pk)
        actors = actors_for(request.user, requisition)
        if not actors:
            raise PermissionDenied(_("You may not change this order."))
        requisition_transition(requisition=requisition, user=request.user, actors=actors, target=target, **kwargs)
    fresh = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
    return Response(RequisitionSerializer(fresh).data)


class RequisitionCancel(DomainErrors, APIView):
    permission_classes = [SeesRequisitions]

    @extend_schema(request=CancelSerializer, responses=RequisitionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """Cancel with a reason: the requisitioning unit, or the office it was routed to."""
        access_requisition(request.user, pk)
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _act(request, pk, states.CANCELLED, note=serializer.validated_data["reason"])


class RequisitionAttest(DomainErrors, APIView):
    permission_classes = [SeesRequisitions]

    @extend_schema(request=None, responses=RequisitionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The named clinician attests an order a clerk entered; it is then submitted."""
        access_requisition(request.user, pk)
        _require_role(request, roles.REQUISITIONER)
        return _act(request, pk, states.SUBMITTED)


class RequisitionResubmit(DomainErrors, APIView):
    permission_classes = [SeesRequisitions]

    @extend_schema(request=ResubmitSerializer, responses=RequisitionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """Answer the office's question on a returned order (optionally with a new appointment time) and
        submit it again; it is routed again."""
        access_requisition(request.user, pk)
        _require_role(request, roles.REQUISITIONER, roles.CLERK)
        serializer = ResubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            requisition = access_requisition(request.user, pk)
            requisition_amend_resubmit(
                requisition=requisition,
                user=request.user,
                actors=actors_for(request.user, requisition),
                answer=serializer.validated_data["answer"],
                appointment_at=serializer.validated_data.get("appointment_at"),
            )
        fresh = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
        return Response(RequisitionSerializer(fresh).data)


class RequisitionTransition(DomainErrors, APIView):
    permission_classes = [SeesRequisitions]

    @extend_schema(request=TransitionSerializer, responses=RequisitionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """Office staff move an order on: accept, schedule, complete, no-show, return or cancel."""
        access_requisition(request.user, pk)
        _require_role(request, roles.OFFICE_STAFF)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            return _act(
                request,
                pk,
                data["to"],
                note=data["note"],
                pickup_at=data.get("pickup_at"),
                provider_note=data["provider"],
            )
        except InputError as exc:
            # This body carries the reason for cancelling as "note": name the field the caller sent.
            if "reason" in exc.errors:
                exc.errors["note"] = exc.errors.pop("reason")
            raise


class OfficeQueue(generics.ListAPIView):
    permission_classes = [OfficeStaff]
    serializer_class = RequisitionListSerializer

    def get_queryset(self):
        office = get_object_or_404(Office, code=self.kwargs["code"])
        if office.pk != self.request.user.office_id:
            raise PermissionDenied(_("You work at another office."))
        return (
            requisitions_visible_to(self.request.user)
            .filter(office=office, status__in=states.OFFICE_OPEN)
            .select_related("office", "unit", "requisitioner")
            .order_by("first_trip_at", "pk")
        )
