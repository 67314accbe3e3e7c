"""Routing writes: claim a submitted order, resolve its office, record the event, queue the delivery."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from portal.models import Office
from requisitions import cutoff, states
from requisitions.models import Requisition, Trip
from requisitions.services import event_record
from routing.delivery import webhook_delivery_create
from routing.models import Coverage
from routing.resolver import Area, CoverageRow, UnknownLevel, resolve
from routing.selectors import area_for_trust, office_ref

logger = logging.getLogger(__name__)


class NoOffice(Exception):
    """Why an order cannot be routed; the text becomes the routing_failed event's note (no personal data)."""


def _area_for(requisition: Requisition) -> tuple[Area, dict[str, Office]]:
    """The pickup municipality's coverage; outside the region, the requisitioning unit's trust.

    Also the offices it names by code, loaded with the coverage (one query less per order).
    """
    outbound = (
        Trip.objects.select_related("from_municipality__trust")
        .filter(requisition=requisition, direction=Trip.Direction.OUTBOUND)
        .first()
    )
    if outbound is None:
        raise NoOffice("the order has no outbound trip")
    pickup = outbound.from_municipality
    if pickup.trust_id:
        rows = list(Coverage.objects.filter(municipality=pickup).select_related("office"))
        area = Area(
            coverage=tuple(CoverageRow(r.office_kind, office_ref(r.office), r.valid_from, r.valid_to) for r in rows),
            white_cars_from_pasientreiser=pickup.trust.white_cars_from_pasientreiser,
        )
        return area, {row.office.code: row.office for row in rows}
    trust = requisition.unit.effective_trust
    if trust is None:
        raise NoOffice(f"pickup municipality {pickup.number} is outside the region and the unit has no trust")
    return area_for_trust(trust), {}


def _office_for(requisition: Requisition, *, on: dt.date) -> Office:
    area, offices = _area_for(requisition)
    try:
        chosen = resolve(requisition.level, area, on=on)
    except UnknownLevel:
        raise NoOffice(f"unknown level {requisition.level!r}") from None
    if chosen is None:
        raise NoOffice(f"no office covers level {requisition.level} for the pickup on {on.isoformat()}")
    office = offices.get(chosen.code) or Office.objects.filter(code=chosen.code).first()
    if office is None:
        raise NoOffice(f"office {chosen.code} no longer exists")
    return office


@transaction.atomic
def requisition_route(*, requisition_id: int, now: dt.datetime | None = None) -> str | None:
    """Route one submitted order. Safe to run any number of times, also concurrently: the row is locked
    and only a ``submitted`` order is touched, so a repeat (or the loser of a race) does nothing.

    Returns the new status (``routed`` or ``routing_failed``), or None when there was nothing to do.
    An order no office can take is marked ``routing_failed`` with the reason, never left behind.
    """
    requisition = (
        Requisition.objects.select_for_update(of=("self",))
        .select_related("unit__trust", "unit__municipality__trust")
        .filter(pk=requisition_id, status=states.SUBMITTED)
        .first()
    )
    if requisition is None:
        return None
    now = now or timezone.now()
    try:
        office = _office_for(requisition, on=timezone.localdate(now))
    except NoOffice as exc:
        requisition.status = states.ROUTING_FAILED
        requisition.save(update_fields=["status", "updated_at"])
        event_record(
            requisition,
            actor=None,
            action="routing.failed",
            source=states.SUBMITTED,
            target=states.ROUTING_FAILED,
            note=str(exc),
        )
        logger.warning("requisition %s marked routing_failed: %s", requisition.pk, exc)
        return states.ROUTING_FAILED
    # The office's own cut-off decides lateness once we know the office.
    lateness = cutoff.assess(requisition.submitted_at or now, requisition.first_trip_at, cut_off=office.cut_off_time)
    requisition.office = office
    requisition.status = states.ROUTED
    requisition.routed_at = now
    requisition.late = lateness.late
    requisition.same_day = lateness.same_day
    requisition.save(update_fields=["office", "status", "routed_at", "late", "same_day", "updated_at"])
    event_record(
        requisition,
        actor=None,
        action="routing.routed",
        source=states.SUBMITTED,
        target=states.ROUTED,
        note=office.code,
    )
    webhook_delivery_create(requisition=requisition)
    logger.info("requisition %s routed to %s", requisition.pk, office.code)
    return states.ROUTED
