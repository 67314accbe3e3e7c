"""Keeps the compliance roll-up (``ComplianceDaily``) equal to a recomputation from raw rows.

Day: the Europe/Oslo date of an order's *first* submission: the earliest event that moved it to
``submitted`` (the clinician's own order, an attestation), or ``Requisition.submitted_at`` for an order
without such an event. A resubmission after a return does not move the order to another day.

Upkeep, off the writing path: a saved ``RequisitionEvent`` only marks its requisition as pending
(``on_event_saved`` → ``mark_dirty``: one upsert into ``ComplianceDirty`` in the writing transaction, so
the mark commits or rolls back with the change; events that change no figure, ``NEUTRAL_STATUSES``, are
skipped). Nothing is sent to Redis from the writing path. ``requisitions.tasks.refresh_compliance_rollup``
(beat, every ``ROLLUP_REFRESH_SECONDS``) runs ``rollup_refresh``: it takes the marks one requisitioner at
a time: in one transaction it locks and deletes that requisitioner's marks (rows a writer still holds
are skipped and stay for the next run), locks the requisitioner's user row (two refreshes take turns)
and recomputes the days of the marked requisitions from raw rows. One refresh serves every event since
the last one. A writer that marks a requisition while a refresh holds its mark waits for that short
transaction, then marks it again. ``rollup_flush`` runs the refresh synchronously (tests, seeding).

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
from django.db import connection, transaction
from django.db.models import Min, Prefetch, Q
from django.utils import timezone

from portal.models import User
from requisitions import compliance, cutoff, states
from requisitions.beon import LEVELS
from requisitions.models import Requisition, RequisitionEvent
from requisitions.models_compliance import ComplianceDaily, ComplianceDirty

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


# --- marks: the only work on the writing path --------------------------------------------------------


def mark_dirty(requisition_id: int) -> None:
    """In the writing transaction: note that the requisition's day must be recomputed.

    One upsert. ``DO UPDATE`` (not ``DO NOTHING``) so that the writer holds the mark's row lock until it
    commits: a refresh that runs meanwhile skips the mark instead of deleting it before the change is
    visible.
    """
    table = connection.ops.quote_name(ComplianceDirty._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (requisition_id, marked_at) VALUES (%s, %s) "  # noqa: S608 - name from model meta
            "ON CONFLICT (requisition_id) DO UPDATE SET marked_at = EXCLUDED.marked_at",
            [requisition_id, timezone.now()],
        )


# Moves that change no figure: not yet an order (awaiting attestation), or an office's progress on it,
# which changes only the pickup time, the provider's note and the status (only "cancelled" counts).
NEUTRAL_STATUSES = frozenset({states.AWAITING_ATTESTATION, states.ACCEPTED, states.SCHEDULED, states.COMPLETED,
                              states.NO_SHOW})  # fmt: skip


def on_event_saved(sender, instance: RequisitionEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save receiver for RequisitionEvent (fixtures loaded raw are left to the rebuild)."""
    if not created or raw or instance.to_status in NEUTRAL_STATUSES:
        return
    mark_dirty(instance.requisition_id)


# --- refresh: claim marks, recompute their days ------------------------------------------------------

REFRESH_BATCH = 1000


def _refresh_requisitioner(requisitioner_id: int, mark_ids: list[int]) -> int:
    """Claim the marks (skipping those a writer holds) and recompute their days. Returns marks claimed."""
    with transaction.atomic():
        claimed = list(
            ComplianceDirty.objects.select_for_update(skip_locked=True)
            .filter(pk__in=mark_ids)
            .values_list("pk", "requisition_id")
        )
        if not claimed:
            return 0
        ComplianceDirty.objects.filter(pk__in=[pk for pk, _ in claimed]).delete()
        # Read after the marks are locked: every change marked so far is committed and visible.
        firsts = Requisition.objects.filter(pk__in=[rid for _, rid in claimed]).annotate(
            first=Min("events__at", filter=Q(events__to_status=states.SUBMITTED))
        )
        days = {oslo_day(first or submitted_at) for first, submitted_at in firsts.values_list("first", "submitted_at")
                if first or submitted_at}  # fmt: skip
        if days:
            rollup_recompute(requisitioner_id=requisitioner_id, days=days)
    return len(claimed)


def rollup_refresh() -> int:
    """Recompute the days of every marked requisition, one requisitioner per transaction. Returns marks taken.

    Safe to run concurrently with writers and with itself. A requisitioner whose recomputation fails
    keeps its marks (the next run tries again); the others go ahead.
    """
    taken = 0
    while True:
        marks = list(ComplianceDirty.objects.order_by("pk").values_list("pk", "requisition_id")[:REFRESH_BATCH])
        if not marks:
            break
        owner = dict(Requisition.objects.filter(pk__in={rid for _, rid in marks}).values_list("pk", "requisitioner_id"))
        by_person: dict[int, list[int]] = defaultdict(list)
        orphans = []
        for pk, requisition_id in marks:
            if requisition_id in owner:
                by_person[owner[requisition_id]].append(pk)
            else:
                orphans.append(pk)  # the requisition is gone: nothing to recompute from it
        claimed = ComplianceDirty.objects.filter(pk__in=orphans).delete()[0] if orphans else 0
        for person, mark_ids in sorted(by_person.items()):
            try:
                claimed += _refresh_requisitioner(person, mark_ids)
            except Exception:
                logger.exception("compliance roll-up: refreshing requisitioner %s failed", person)
        taken += claimed
        if claimed == 0 or len(marks) < REFRESH_BATCH:
            break  # all seen, or only marks that writers hold or that fail: a later run takes them
    return taken


def rollup_refresh_for(requisitioner_id: int) -> int:
    """Bring one requisitioner's rows up to date now (before showing them their own figures)."""
    mark_ids = list(
        ComplianceDirty.objects.filter(
            requisition_id__in=Requisition.objects.filter(requisitioner_id=requisitioner_id).values("pk")
        ).values_list("pk", flat=True)
    )
    return _refresh_requisitioner(requisitioner_id, mark_ids) if mark_ids else 0


def rollup_flush() -> int:
    """Process every mark now, synchronously (tests, the demo seeder). Returns marks taken."""
    return rollup_refresh()


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
