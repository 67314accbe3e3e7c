"""Routing writes: claim a submitted order, resolve its office, record the event."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from portal.models import Office
from requisitions import cutoff, states
from requisitions.models import Requisition, Trip
from requisitions.services import event_record
from routing.resolver import resolve
from routing.selectors import area_for_municipality, area_for_trust

logger = logging.getLogger(__name__)


def _area_for(requisition: Requisition):
    outbound = requisition.trips.select_related("from_municipality__trust").get(direction=Trip.Direction.OUTBOUND)
    pickup = outbound.from_municipality
    if pickup.trust_id:
        return area_for_municipality(pickup)
    trust = requisition.unit.effective_trust
    return area_for_trust(trust) if trust else None


@transaction.atomic
def requisition_route(*, requisition_id: int, now: dt.datetime | None = None) -> str | None:
    """Route one submitted order. Safe to run any number of times: only a submitted order is touched.

    Returns the new status, or None when there was nothing to do.
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
    area = _area_for(requisition)
    office_ref = resolve(requisition.level, area, on=timezone.localdate(now)) if area else None
    if office_ref is None:
        requisition.status = states.ROUTING_FAILED
        requisition.save(update_fields=["status", "updated_at"])
        event_record(
            requisition,
            actor=None,
            action="routing.failed",
            source=states.SUBMITTED,
            target=states.ROUTING_FAILED,
            note="no office covers the pickup municipality",
        )
        logger.warning("requisition %s: no office found, marked routing_failed", requisition.pk)
        return states.ROUTING_FAILED
    office = Office.objects.get(code=office_ref.code)
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
    logger.info("requisition %s routed to %s", requisition.pk, office.code)
    return states.ROUTED
