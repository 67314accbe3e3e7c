"""Keeps the compliance roll-up (``ComplianceDaily``) equal to a recomputation from raw rows.

Day: the Europe/Oslo date of an order's *first* submission: the earliest event that moved it to
``submitted`` (the clinician's own order, an attestation), or ``Requisition.submitted_at`` for an order
without such an event. A resubmission after a return does not move the order to another day.

Upkeep: every saved ``RequisitionEvent`` recomputes its requisitioner's row(s) for that day from the
requisitions and events (``rollup_after_event``, connected in ``RequisitionsConfig.ready``). It runs in
the writing transaction, so the roll-up commits or rolls back with the change. The requisitioner's
user row is locked first (``select_for_update``): two transactions touching the same clinician's day
take turns, and the second one reads what the first committed.

``rollup_rebuild`` (nightly task ``requisitions.tasks.rebuild_compliance_rollup``) recomputes every
requisitioner's rows; it repairs anything changed without an event (e.g. data loaded with
``QuerySet.update``). Both are safe to repeat: they replace rows, never add to them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q

from portal.models import User
from requisitions import compliance, cutoff, states
from requisitions.beon import LEVELS
from requisitions.models import Requisition, RequisitionEvent
from requisitions.models_compliance import ComplianceDaily

logger = logging.getLogger(__name__)

OSLO = ZoneInfo(cutoff.OSLO)
COUNT_FIELDS: tuple[str, ...] = compliance.COUNTS
LEVEL_FIELDS: dict[str, str] = {level: f"level_{level}" for level in LEVELS}
SUM_FIELDS: tuple[str, ...] = ("orders", *LEVEL_FIELDS.values(), *COUNT_FIELDS)

Key = tuple[int, int | None, dt.date]  # (unit_id, office_id, day)


def default_cut_off() -> dt.time:
    return dt.time.fromisoformat(settings.DEFAULT_CUT_OFF_TIME)


def oslo_day(when: dt.datetime) -> dt.date:
    return when.astimezone(OSLO).date()


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of an Oslo date as aware datetimes (23 or 25 hours on daylight-saving days)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=OSLO)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=OSLO)
    return start, end


def first_submitted_at(requisition: Requisition, events: Iterable[RequisitionEvent]) -> dt.datetime | None:
    times = [event.at for event in events if event.to_status == states.SUBMITTED]
    return min(times) if times else requisition.submitted_at


def snapshot_of(requisition: Requisition, events: list[RequisitionEvent], *, cut_off: dt.time) -> compliance.Snapshot:
    cancelled_at = None
    if requisition.status == states.CANCELLED:
        cancels = [event.at for event in events if event.to_status == states.CANCELLED]
        cancelled_at = max(cancels) if cancels else requisition.updated_at
    return compliance.Snapshot(
        requisition_id=requisition.pk,
        level=requisition.level,
        recommended_level=requisition.recommended_level,
        first_trip_at=requisition.first_trip_at,
        late=requisition.late,
        cancelled_at=cancelled_at,
        times_returned=sum(1 for event in events if event.to_status == states.RETURNED),
        requirements=tuple(requisition.requirements or ()),
        answers=requisition.answers or {},
        cut_off=requisition.office.cut_off_time if requisition.office_id else cut_off,
    )


def _with_events(qs):
    return qs.select_related("office").prefetch_related(
        Prefetch("events", queryset=RequisitionEvent.objects.only("id", "requisition_id", "at", "to_status"))
    )


def compute_rows(requisitions: Iterable[Requisition]) -> dict[tuple[int, Key], compliance.Figures]:
    """Figures per (requisitioner_id, (unit_id, office_id, day)) from requisitions with their events."""
    cut_off = default_cut_off()
    grouped: dict[tuple[int, Key], list[compliance.Flags]] = defaultdict(list)
    for requisition in requisitions:
        events = list(requisition.events.all())
        submitted_at = first_submitted_at(requisition, events)
        if submitted_at is None:
            continue  # never submitted (awaiting attestation, or cancelled before it): not an order
        key = (requisition.unit_id, requisition.office_id, oslo_day(submitted_at))
        snapshot = snapshot_of(requisition, events, cut_off=cut_off)
        grouped[(requisition.requisitioner_id, key)].append(compliance.flags(snapshot))
    return {key: compliance.tally(flags) for key, flags in grouped.items()}


def row_values(figures: compliance.Figures) -> dict[str, int]:
    values = {"orders": figures.orders}
    values.update({LEVEL_FIELDS[level]: figures.by_level[level] for level in LEVELS})
    values.update({name: getattr(figures, name) for name in COUNT_FIELDS})
    return values


def figures_from(values: dict) -> compliance.Figures:
    """Figures from a row or an aggregate holding SUM_FIELDS (None counts as 0)."""
    return compliance.Figures(
        orders=values.get("orders") or 0,
        by_level={level: values.get(field) or 0 for level, field in LEVEL_FIELDS.items()},
        **{name: values.get(name) or 0 for name in COUNT_FIELDS},
    )


def _candidates(requisitioner_id: int, days: set[dt.date] | None):
    qs = Requisition.objects.filter(requisitioner_id=requisitioner_id)
    if days is not None:
        in_days = Q()
        for day in days:
            start, end = day_window(day)
            in_days |= Q(events__to_status=states.SUBMITTED, events__at__gte=start, events__at__lt=end)
            in_days |= Q(submitted_at__gte=start, submitted_at__lt=end)
        qs = Requisition.objects.filter(pk__in=qs.filter(in_days).values("pk"))
    return _with_events(qs)


@transaction.atomic
def rollup_recompute(*, requisitioner_id: int, days: Iterable[dt.date] | None = None) -> int:
    """Replace the requisitioner's rows for ``days`` (all days when None) by a recomputation.

    Returns the number of rows written.
    """
    list(User.objects.select_for_update().filter(pk=requisitioner_id).values_list("pk", flat=True))
    wanted = set(days) if days is not None else None
    computed = compute_rows(_candidates(requisitioner_id, wanted))
    rows = [
        ComplianceDaily(requisitioner_id=person, unit_id=unit_id, office_id=office_id, day=day, **row_values(figures))
        for (person, (unit_id, office_id, day)), figures in computed.items()
        if wanted is None or day in wanted
    ]
    stale = ComplianceDaily.objects.filter(requisitioner_id=requisitioner_id)
    if wanted is not None:
        stale = stale.filter(day__in=wanted)
    stale.delete()
    ComplianceDaily.objects.bulk_create(rows)
    return len(rows)


def rollup_after_event(*, requisition_id: int) -> None:
    """Recompute the day of the requisition an event was just recorded for."""
    requisition = Requisition.objects.only("id", "requisitioner_id", "submitted_at").get(pk=requisition_id)
    events = RequisitionEvent.objects.filter(requisition_id=requisition_id, to_status=states.SUBMITTED)
    submitted_at = first_submitted_at(requisition, events.only("at", "to_status"))
    if submitted_at is None:
        return
    rollup_recompute(requisitioner_id=requisition.requisitioner_id, days=[oslo_day(submitted_at)])


def on_event_saved(sender, instance: RequisitionEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save receiver for RequisitionEvent (fixtures loaded raw are left to the rebuild)."""
    if created and not raw:
        rollup_after_event(requisition_id=instance.requisition_id)


def rollup_rebuild() -> int:
    """Recompute every requisitioner's rows, one requisitioner per transaction. Returns rows written."""
    people = set(Requisition.objects.values_list("requisitioner_id", flat=True).distinct())
    people |= set(ComplianceDaily.objects.values_list("requisitioner_id", flat=True).distinct())
    written = sum(rollup_recompute(requisitioner_id=person) for person in sorted(people))
    logger.info("compliance roll-up rebuilt: %d requisitioners, %d rows", len(people), written)
    return written


def rollup_rows() -> dict[tuple[int, Key], dict[str, int]]:
    """The stored roll-up as {(requisitioner_id, (unit_id, office_id, day)): counts}."""
    return {
        (row["requisitioner_id"], (row["unit_id"], row["office_id"], row["day"])): {f: row[f] for f in SUM_FIELDS}
        for row in ComplianceDaily.objects.values("requisitioner_id", "unit_id", "office_id", "day", *SUM_FIELDS)
    }


def recomputed_rows() -> dict[tuple[int, Key], dict[str, int]]:
    """What the roll-up should hold, recomputed from every requisition and event (tests, checks)."""
    return {key: row_values(figures) for key, figures in compute_rows(_with_events(Requisition.objects.all())).items()}
