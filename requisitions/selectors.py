"""Reads, always scoped to what the user may see; the access helper answers 404 or 403."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from portal import roles
from requisitions import states
from requisitions.models import Requisition


def requisitions_visible_to(user) -> QuerySet[Requisition]:
    qs = Requisition.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or roles.has_role(user, roles.AUDITOR):
        return qs
    user_roles = roles.roles_of(user)
    if user_roles & {roles.REQUISITIONER, roles.CLERK} and user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    if roles.OFFICE_STAFF in user_roles and user.office_id:
        return qs.filter(office_id=user.office_id)
    return qs.none()


def actors_for(user, requisition: Requisition) -> frozenset[str]:
    """The roles in the status machine (requisitions.states) this user holds for this order."""
    actors = set()
    user_roles = roles.roles_of(user)
    if user_roles & {roles.REQUISITIONER, roles.CLERK} and user.unit_id == requisition.unit_id:
        actors.add(states.UNIT)
    if roles.REQUISITIONER in user_roles and user.pk == requisition.requisitioner_id:
        actors.add(states.CLINICIAN)
    if roles.OFFICE_STAFF in user_roles and user.office_id and user.office_id == requisition.office_id:
        actors.add(states.OFFICE)
    if user.is_superuser:
        actors.add(states.ADMIN)
    return frozenset(actors)


def access_requisition(user, pk: int, *, for_write: bool = False, queryset=None) -> Requisition:
    """Load a requisition the user may see (404 otherwise); with for_write, 403 for read-only viewers."""
    from django.core.exceptions import PermissionDenied

    qs = queryset if queryset is not None else requisitions_visible_to(user)
    try:
        requisition = qs.get(pk=pk)
    except (Requisition.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_write and not actors_for(user, requisition):
        raise PermissionDenied
    return requisition


def with_details(qs: QuerySet[Requisition]) -> QuerySet[Requisition]:
    return qs.select_related(
        "patient", "patient__municipality", "office", "unit", "requisitioner", "entered_by"
    ).prefetch_related("trips", "trips__from_municipality", "trips__to_municipality", "events", "events__actor")


def helseekspress_routes() -> list:
    """The admin-edited route table as the pure module's Route values."""
    import datetime as dt

    from requisitions.helseekspress import Route, RouteStop
    from requisitions.models import HelseekspressRoute

    routes = []
    for route in HelseekspressRoute.objects.prefetch_related("stops__municipality"):
        routes.append(
            Route(
                code=route.code,
                name=route.name,
                stops=tuple(RouteStop(s.municipality.number, s.minutes_from_start) for s in route.stops.all()),
                weekdays=frozenset(route.weekdays),
                departures=tuple(dt.time.fromisoformat(value) for value in route.departures),
                valid_from=route.valid_from,
                valid_to=route.valid_to,
            )
        )
    return routes


def event_timeline(requisition: Requisition) -> list[tuple]:
    """The order's history as (event, what happened) for the timeline, statuses by their labels."""
    from requisitions.models import Status

    return [
        (event, Status(event.to_status).label if event.to_status in Status.values else event.action)
        for event in requisition.events.all()
    ]
