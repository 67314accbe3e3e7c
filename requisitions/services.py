"""Every write to a requisition goes through here: check_* validates, requisition_* changes.

Each service is keyword-only and atomic, writes a RequisitionEvent and hands follow-up work (routing)
to receivers of ``requisition_submitted``, which run it only after commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Municipality, RequisitioningUnit, User
from requisitions import beon, cutoff, states
from requisitions.checklists import ruleset_in_force
from requisitions.models import Level, Patient, Requisition, RequisitionEvent, Series, Status, Trip
from requisitions.signals import requisition_scheduled, requisition_submitted

MIN_DEVIATION_REASON = 10


class InputError(Exception):
    """Bad input, as a nested dictionary of field paths to messages (the API's 400 body)."""

    def __init__(self, errors: dict) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    municipality: Municipality


@dataclass(frozen=True)
class PatientInput:
    national_id: str
    name: str
    phone: str
    address: Address


@dataclass(frozen=True)
class TripInput:
    direction: str
    origin: Address
    destination: Address
    appointment_at: dt.datetime | None = None
    pickup_at: dt.datetime | None = None
    pickup_when_ready: bool = False

    @property
    def starts_at(self) -> dt.datetime | None:
        return self.appointment_at or self.pickup_at


@dataclass
class Order:
    """Everything a requisitioner gives for one order (web form or API)."""

    patient: PatientInput
    answers: dict
    trips: list[TripInput]
    level: str | None = None
    deviation_code: str = ""
    deviation_reason: str = ""
    notes: str = ""
    checked: dict = field(default_factory=dict)


def _cut_off_time() -> dt.time:
    hours, minutes = (int(part) for part in settings.DEFAULT_CUT_OFF_TIME.split(":"))
    return dt.time(hours, minutes)


def check_answers(answers: dict, *, on: dt.date) -> beon.Result:
    ruleset = ruleset_in_force(on)
    try:
        result = beon.evaluate(ruleset, answers)
    except beon.AnswerError as exc:
        raise InputError({"answers": exc.errors}) from None
    if result.stop:
        raise InputError(
            {"answers": {"acute_symptoms": [_("Acute symptoms: call 113 now. Nothing has been ordered.")]}}
        )
    return result


def check_level(level: str | None, recommended: str, deviation_code: str, deviation_reason: str) -> str:
    chosen = level or recommended
    if chosen not in Level.values:
        raise InputError({"level": [_("Unknown level: %(value)s.") % {"value": chosen}]})
    if chosen == Level.PUBLIC_TRANSPORT:
        raise InputError(
            {
                "level": [
                    _(
                        "Public transport is not ordered: the patient travels by ordinary means and "
                        "claims a refund from Pasientreiser."
                    )
                ]
            }
        )
    if beon.level_rank(chosen) < beon.level_rank(recommended):
        raise InputError(
            {
                "level": [
                    _("A level below the recommendation (%(level)s) is not allowed: correct the answers instead.")
                    % {"level": Level(recommended).label}
                ]
            }
        )
    if beon.level_rank(chosen) > beon.level_rank(recommended):
        errors = {}
        if deviation_code not in ("clinical_judgement", "condition_changed", "patient_safety", "other"):
            errors["deviation_code"] = [_("Choose why a level above the recommendation is needed.")]
        if len(deviation_reason.strip()) < MIN_DEVIATION_REASON:
            errors["deviation_reason"] = [
                _("Explain in at least %(n)d characters why a level above the recommendation is needed.")
                % {"n": MIN_DEVIATION_REASON}
            ]
        if errors:
            raise InputError(errors)
    return chosen


def check_trips(trips: list[TripInput], *, now: dt.datetime) -> TripInput:
    """Validate the legs; return the outbound one."""
    if not trips:
        raise InputError({"trips": [_("Give at least the outbound trip.")]})
    outbound = [trip for trip in trips if trip.direction == Trip.Direction.OUTBOUND]
    returns = [trip for trip in trips if trip.direction == Trip.Direction.RETURN]
    if len(outbound) != 1:
        raise InputError({"trips": [_("Give exactly one outbound trip.")]})
    if len(returns) > 1:
        raise InputError({"trips": [_("Give at most one return trip.")]})
    per_trip: list[dict] = [{} for _trip in trips]
    for index, trip in enumerate(trips):
        if trip.direction == Trip.Direction.OUTBOUND and trip.appointment_at is None:
            per_trip[index]["appointment_at"] = [_("Give the appointment time.")]
        elif trip.direction == Trip.Direction.RETURN and trip.starts_at is None and not trip.pickup_when_ready:
            per_trip[index]["pickup_at"] = [_("Give the pickup time or choose pickup when ready.")]
        for name in ("appointment_at", "pickup_at"):
            when = getattr(trip, name)
            if when is not None and when <= now:
                per_trip[index].setdefault(name, []).append(_("The time is in the past."))
    if any(per_trip):
        raise InputError({"trips": per_trip})
    # A return gives its time as pickup_at (web form) or, as in the API contract, appointment_at.
    back = returns[0] if returns else None
    name = "pickup_at" if back and back.pickup_at else "appointment_at"
    if back and getattr(back, name) and getattr(back, name) <= outbound[0].appointment_at:
        per_trip[trips.index(back)][name] = [_("The return trip must start after the outbound appointment.")]
        raise InputError({"trips": per_trip})
    return outbound[0]


def _patient_upsert(data: PatientInput) -> Patient:
    """Insert or update the patient by national ID in one statement (INSERT … ON CONFLICT DO UPDATE)."""
    patient = Patient(
        national_id=data.national_id,
        name=data.name,
        phone=data.phone,
        street=data.address.street,
        postal_code=data.address.postal_code,
        municipality=data.address.municipality,
    )
    Patient.objects.bulk_create(
        [patient],
        update_conflicts=True,
        unique_fields=["national_id"],
        update_fields=["name", "phone", "street", "postal_code", "municipality", "updated_at"],
    )
    return patient


def event_record(
    requisition: Requisition,
    *,
    actor: User | None,
    action: str,
    source: str = "",
    target: str = "",
    note: str = "",
) -> RequisitionEvent:
    return RequisitionEvent.objects.create(
        requisition=requisition, actor=actor, action=action, from_status=source, to_status=target, note=note
    )


def _announce_submitted(requisition: Requisition) -> None:
    requisition_submitted.send(sender=Requisition, requisition_id=requisition.pk)


@transaction.atomic
def requisition_create(
    *,
    order: Order,
    entered_by: User,
    requisitioner: User,
    unit: RequisitioningUnit,
    now: dt.datetime | None = None,
    series: Series | None = None,
) -> Requisition:
    """Validate and save an order. A clinician's order is submitted; a clerk's awaits attestation."""
    now = now or timezone.now()
    result = check_answers(order.answers, on=timezone.localdate(now))
    level = check_level(order.level, result.level, order.deviation_code, order.deviation_reason)
    outbound = check_trips(order.trips, now=now)
    lateness = cutoff.assess(now, outbound.appointment_at, cut_off=_cut_off_time())
    above = beon.level_rank(level) > beon.level_rank(result.level)
    attested = entered_by.pk == requisitioner.pk
    status = Status.SUBMITTED if attested else Status.AWAITING_ATTESTATION

    requisition = Requisition.objects.create(
        patient=_patient_upsert(order.patient),
        unit=unit,
        requisitioner=requisitioner,
        entered_by=entered_by,
        series=series,
        checklist_version=result.checklist_version,
        answers=dict(result.answers),
        recommended_level=result.level,
        requirements=list(result.requirements),
        reasons=[{"question": r.question, "nb": r.text_nb, "en": r.text_en} for r in result.reasons],
        level=level,
        deviation_code=order.deviation_code if above else "",
        deviation_reason=order.deviation_reason.strip() if above else "",
        notes=order.notes.strip(),
        status=status,
        late=lateness.late,
        same_day=lateness.same_day,
        first_trip_at=outbound.appointment_at,
        submitted_at=now if attested else None,
    )
    Trip.objects.bulk_create(
        Trip(
            requisition=requisition,
            direction=trip.direction,
            from_street=trip.origin.street,
            from_postal_code=trip.origin.postal_code,
            from_municipality=trip.origin.municipality,
            to_street=trip.destination.street,
            to_postal_code=trip.destination.postal_code,
            to_municipality=trip.destination.municipality,
            appointment_at=trip.appointment_at,
            pickup_at=trip.pickup_at,
            pickup_when_ready=trip.pickup_when_ready,
        )
        for trip in order.trips
    )
    event_record(
        requisition,
        actor=entered_by,
        action="requisition.submitted" if attested else "requisition.entered",
        target=status,
        note="late" if lateness.late else "",
    )
    if attested:
        _announce_submitted(requisition)
    return requisition


def _claim(requisition: Requisition, transition: states.Transition, **changes) -> None:
    """Conditional UPDATE: only one of two concurrent actors moves the order on."""
    updated = Requisition.objects.filter(pk=requisition.pk, status=transition.source).update(
        status=transition.target, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        raise states.TransitionError(_("Someone else has already handled this order. Reload to see its status."))
    requisition.status = transition.target
    for name, value in changes.items():
        setattr(requisition, name, value)


@transaction.atomic
def requisition_transition(
    *,
    requisition: Requisition,
    user: User | None,
    actors: frozenset[str],
    target: str,
    note: str = "",
    pickup_at: dt.datetime | None = None,
    provider_note: str = "",
) -> Requisition:
    """Move an order along the status machine; the one service behind every office and unit action."""
    transition = states.check_transition(requisition.status, target, actors)
    changes: dict = {}
    note = note.strip()
    if target == states.SCHEDULED:
        if pickup_at is None:
            raise InputError({"pickup_at": [_("Give the pickup time when scheduling.")]})
        changes.update(pickup_at=pickup_at, provider_note=provider_note.strip())
    elif target == states.RETURNED:
        if not note:
            raise InputError({"note": [_("Write the question for the requisitioner.")]})
        changes["question"] = note
    elif target == states.CANCELLED:
        if not note:
            raise InputError({"reason": [_("Give a reason for cancelling.")]})
        changes["cancel_reason"] = note
    elif target == states.SUBMITTED:
        changes["submitted_at"] = timezone.now()
    elif transition.source == states.SCHEDULED and target == states.ACCEPTED:
        changes["pickup_at"] = None
    _claim(requisition, transition, **changes)
    event_record(
        requisition,
        actor=user,
        action=f"requisition.{target}",
        source=transition.source,
        target=target,
        note=note,
    )
    if target == states.SUBMITTED:
        _announce_submitted(requisition)
    elif target == states.SCHEDULED:
        requisition_scheduled.send(sender=Requisition, requisition_id=requisition.pk)
    return requisition


@transaction.atomic
def series_create(
    *,
    orders: list[Order],
    weekdays: list[int],
    entered_by: User,
    requisitioner: User,
    unit: RequisitioningUnit,
    now: dt.datetime | None = None,
) -> Series:
    """One requisition per date, linked to a series; all or nothing."""
    firsts = [check_trips(order.trips, now=now or timezone.now()).appointment_at for order in orders]
    series = Series.objects.create(
        unit=unit,
        weekdays=sorted(weekdays),
        first_date=timezone.localdate(min(firsts)),
        last_date=timezone.localdate(max(firsts)),
    )
    for order in orders:
        requisition_create(
            order=order, entered_by=entered_by, requisitioner=requisitioner, unit=unit, now=now, series=series
        )
    return series


@transaction.atomic
def series_cancel_from(
    *, series: Series, from_date: dt.date, user: User, actors: frozenset[str], reason: str
) -> list[Requisition]:
    """Cancel every still-cancellable order of the series on or after ``from_date``."""
    cancelled = []
    for requisition in series.requisitions.select_for_update().order_by("first_trip_at"):
        if timezone.localdate(requisition.first_trip_at) < from_date:
            continue
        if (requisition.status, states.CANCELLED) not in states.TRANSITIONS:
            continue
        cancelled.append(
            requisition_transition(
                requisition=requisition, user=user, actors=actors, target=states.CANCELLED, note=reason
            )
        )
    return cancelled


@transaction.atomic
def requisition_amend_resubmit(
    *,
    requisition: Requisition,
    user: User,
    actors: frozenset[str],
    answer: str,
    appointment_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Requisition:
    """Answer the office's question (and move the appointment if needed), then submit again."""
    now = now or timezone.now()
    answer = answer.strip()
    if not answer:
        raise InputError({"answer": [_("Answer the office's question.")]})
    if appointment_at is not None:
        if appointment_at <= now:
            raise InputError({"appointment_at": [_("The time is in the past.")]})
        Trip.objects.filter(requisition=requisition, direction=Trip.Direction.OUTBOUND).update(
            appointment_at=appointment_at
        )
        requisition.first_trip_at = appointment_at
        requisition.save(update_fields=["first_trip_at", "updated_at"])
    requisition.notes = f"{requisition.notes}\n{answer}".strip()
    requisition.save(update_fields=["notes", "updated_at"])
    return requisition_transition(
        requisition=requisition, user=user, actors=actors, target=states.SUBMITTED, note=answer
    )
