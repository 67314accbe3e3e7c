"""Believable demo data: a Helseekspress route, 40 requisitioners in several units and 90 days of
orders that went through the real services (created, routed, worked by the office), including a few
clear outliers so the compliance pages show something real. Synthetic national IDs only."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from portal import roles
from portal.models import Municipality, PostalCode, RequisitioningUnit
from portal.services import portal_user_create, unit_get_or_create
from requisitions import states
from requisitions.models import HelseekspressRoute, HelseekspressStop, Requisition, RequisitionEvent
from requisitions.national_id import make_synthetic_national_id
from requisitions.rollup import on_event_saved, rollup_rebuild
from requisitions.services import (
    Address,
    InputError,
    Order,
    PatientInput,
    TripInput,
    requisition_create,
    requisition_transition,
)
from requisitions.signals import requisition_submitted
from routing.receivers import enqueue_routing
from routing.services import requisition_route

OSLO = ZoneInfo("Europe/Oslo")
DEMO_PASSWORD = "Demo-passord-2026"
DAYS = 90
ROLLUP_RECEIVER = "requisitions.rollup.on_event_saved"

ROUTES = [
    (
        "HE-HALLINGDAL",
        "Helseekspressen Hol–Gol–Drammen–Oslo",
        [("3330", 0), ("3324", 40), ("3301", 150), ("0301", 195)],
        ["06:00"],
    ),
    (
        "HE-HALLINGDAL-R",
        "Helseekspressen Oslo–Drammen–Gol–Hol",
        [("0301", 0), ("3301", 45), ("3324", 155), ("3330", 195)],
        ["15:00"],
    ),
]

EXTRA_UNITS = [
    ("Grünerløkka legesenter", RequisitioningUnit.Kind.GP_PRACTICE, "0301"),
    ("Lillestrøm legesenter", RequisitioningUnit.Kind.GP_PRACTICE, "3205"),
    ("Hamar legekontor", RequisitioningUnit.Kind.GP_PRACTICE, "3403"),
    ("Kristiansand legesenter", RequisitioningUnit.Kind.GP_PRACTICE, "4204"),
    ("Ullevål, nyremedisinsk sengepost", RequisitioningUnit.Kind.WARD, "0301"),
    ("Kalnes, ortopedisk sengepost", RequisitioningUnit.Kind.WARD, "3105"),
    ("Oslo legevakt", RequisitioningUnit.Kind.EMERGENCY, "0301"),
    ("Tønsberg sykehjem", RequisitioningUnit.Kind.NURSING_HOME, "3905"),
]
FIRST = [
    "Anne",
    "Bjørn",
    "Camilla",
    "Dag",
    "Eli",
    "Frode",
    "Guri",
    "Håkon",
    "Ingrid",
    "Jon",
    "Kari",
    "Lars",
    "Marit",
    "Nils",
    "Oda",
    "Per",
    "Ragnhild",
    "Sindre",
    "Tone",
    "Vegard",
]
LAST = ["Berg", "Dahl", "Eide", "Fossum", "Haugen", "Johansen", "Lie", "Moen", "Nilsen", "Strand"]
DESTINATIONS = {  # municipality of the place of treatment by trust area
    "0301": ("Kirkeveien 166", "0450"),
}

BASE = {
    "acute_symptoms": False,
    "can_travel_independently": False,
    "needs_monitoring": False,
    "needs_medical_equipment": False,
    "must_lie_down": False,
    "mobility": "walks_unaided",
}
PROFILES = [  # (weight, answers)
    (45, {"reduced_general_condition": True}),
    (10, {"mobility": "walks_with_aid", "companions": 1, "companion_reason": "Demens, trenger følge"}),
    (10, {"mobility": "wheelchair_cannot_transfer"}),
    (8, {"must_lie_down": True, "mobility": "bedbound"}),
    (5, {"needs_monitoring": True}),
    (8, {"mental_health_barrier": True, "can_share_ride": False, "alone_reason": "Sterk angst i fellesskap med andre"}),
    (6, {"reduced_orientation": True, "door_to_door": True}),
    (8, {"isolation": True, "reduced_general_condition": True}),
]
ABOVE = {"taxi": "wheelchair_taxi", "helseekspress": "taxi", "wheelchair_taxi": "white_car", "white_car": "ambulance"}


def _routes() -> None:
    for code, name, stops, departures in ROUTES:
        route, _ = HelseekspressRoute.objects.update_or_create(
            code=code, defaults={"name": name, "weekdays": [0, 1, 2, 3, 4], "departures": departures}
        )
        route.stops.all().delete()
        for order, (number, minutes) in enumerate(stops):
            HelseekspressStop.objects.create(
                route=route,
                order=order,
                municipality=Municipality.objects.get(number=number),
                minutes_from_start=minutes,
            )


def _address(rng: random.Random, municipality: Municipality) -> Address:
    postal = PostalCode.objects.filter(municipality=municipality, category__in=["G", "B"]).order_by("code").first()
    return Address(
        street=f"{rng.choice(['Storgata', 'Kirkeveien', 'Skolegata', 'Parkveien'])} {rng.randint(1, 80)}",
        postal_code=postal.code,
        municipality=municipality,
    )


def _destination(unit: RequisitioningUnit) -> Address:
    municipality = unit.municipality
    postal = PostalCode.objects.filter(municipality=municipality, category__in=["G", "B"]).order_by("code").last()
    return Address(street="Sykehusveien 1", postal_code=postal.code, municipality=municipality)


def _requisitioners(units: list[RequisitioningUnit]) -> list:
    users = []
    for n in range(40):
        unit = units[n % len(units)]
        users.append(
            portal_user_create(
                username=f"rekvirent{n + 1:02d}",
                role=roles.REQUISITIONER,
                password=DEMO_PASSWORD,
                unit=unit,
                first_name=FIRST[n % len(FIRST)],
                last_name=LAST[(n * 7) % len(LAST)],
                hpr_number=f"{9100000 + n}",
            )
        )
    return users


def _backdate(requisition: Requisition, start: dt.datetime, rng: random.Random) -> None:
    """Events happened over time, not all at seeding time."""
    when = start
    for event in requisition.events.order_by("pk"):
        RequisitionEvent.objects.filter(pk=event.pk).update(at=when)
        when += dt.timedelta(minutes=rng.randint(1, 300))


def _one_order(rng, user, unit, patient_seed, now) -> None:
    weights, profiles = zip(*PROFILES, strict=True)
    answers = dict(BASE, **rng.choices(profiles, weights)[0])
    trip_day = (now - dt.timedelta(days=rng.randint(-14, DAYS))).astimezone(OSLO).date()
    appointment = dt.datetime.combine(
        trip_day, dt.time(rng.choice([8, 9, 10, 11, 13, 14]), rng.choice([0, 15, 30])), OSLO
    )
    late = rng.random() < user.demo_late_rate
    lead = (
        dt.timedelta(hours=rng.randint(2, 20))
        if late
        else dt.timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
    )
    submitted = min(appointment - lead, now - dt.timedelta(minutes=5))
    municipality = unit.municipality
    home = _address(rng, municipality)
    order = Order(
        patient=PatientInput(
            national_id=make_synthetic_national_id(patient_seed),
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            phone=f"+479{rng.randint(1000000, 9999999)}",
            address=home,
        ),
        answers=answers,
        trips=[
            TripInput(direction="outbound", origin=home, destination=_destination(unit), appointment_at=appointment)
        ],
        notes="",
    )
    try:
        requisition = requisition_create(order=order, entered_by=user, requisitioner=user, unit=unit, now=submitted)
    except InputError:
        return  # e.g. public transport recommended: nothing is ordered
    if rng.random() < user.demo_above_rate and requisition.level in ABOVE:
        Requisition.objects.filter(pk=requisition.pk).update(
            level=ABOVE[requisition.level],
            deviation_code="clinical_judgement",
            deviation_reason="Pasienten har hatt fall hjemme siste uke",
        )
        requisition.refresh_from_db()
    requisition_route(requisition_id=requisition.pk, now=submitted + dt.timedelta(seconds=5))
    requisition.refresh_from_db()
    if requisition.status != states.ROUTED:
        return
    office = {states.OFFICE}
    roll = rng.random()
    if roll < user.demo_cancel_rate:
        requisition_transition(
            requisition=requisition,
            user=user,
            actors=frozenset({states.UNIT}),
            target=states.CANCELLED,
            note="Timen er flyttet",
        )
    elif appointment < now:
        if rng.random() < 0.05:
            requisition_transition(
                requisition=requisition,
                user=None,
                actors=frozenset(office),
                target=states.RETURNED,
                note="Mangler hentetid for returreisen",
            )
            requisition_transition(
                requisition=requisition,
                user=user,
                actors=frozenset({states.UNIT}),
                target=states.SUBMITTED,
                note="Returreise: ringer når klar",
            )
            requisition_route(requisition_id=requisition.pk, now=submitted + dt.timedelta(hours=1))
            requisition.refresh_from_db()
        requisition_transition(requisition=requisition, user=None, actors=frozenset(office), target=states.ACCEPTED)
        requisition_transition(
            requisition=requisition,
            user=None,
            actors=frozenset(office),
            target=states.SCHEDULED,
            pickup_at=appointment - dt.timedelta(minutes=45),
            provider_note="Demo Taxi AS",
        )
        final = states.NO_SHOW if rng.random() < 0.03 else states.COMPLETED
        requisition_transition(requisition=requisition, user=None, actors=frozenset(office), target=final)
    elif rng.random() < 0.5:
        requisition_transition(requisition=requisition, user=None, actors=frozenset(office), target=states.ACCEPTED)
    _backdate(requisition, submitted, rng)


def seed_demo_data(*, units: list[RequisitioningUnit], seed: int = 2026) -> str:
    _routes()
    if Requisition.objects.filter(requisitioner__username__startswith="rekvirent").exists():
        return "orders already present"
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    all_units = units + [unit_get_or_create(name=n, kind=k, municipality_number=m) for n, k, m in EXTRA_UNITS]
    users = _requisitioners(all_units)
    for index, user in enumerate(users):
        outlier = index in (3, 17, 29)
        user.demo_above_rate = 0.45 if outlier else rng.uniform(0.02, 0.12)
        user.demo_late_rate = 0.5 if index in (17, 33) else rng.uniform(0.03, 0.15)
        user.demo_cancel_rate = rng.uniform(0.02, 0.08)
    now = timezone.now()
    # Route inline instead of through Redis (not running yet), and build the compliance roll-up once at
    # the end instead of after every back-dated event.
    requisition_submitted.disconnect(enqueue_routing, dispatch_uid="routing.enqueue_routing")
    post_save.disconnect(sender=RequisitionEvent, dispatch_uid=ROLLUP_RECEIVER)
    try:
        seed_counter = 10_000
        for user in users:
            with transaction.atomic():
                for _ in range(rng.randint(15, 45)):
                    seed_counter += 1
                    _one_order(rng, user, user.unit, seed_counter, now)
    finally:
        requisition_submitted.connect(enqueue_routing, dispatch_uid="routing.enqueue_routing")
        post_save.connect(on_event_saved, sender=RequisitionEvent, dispatch_uid=ROLLUP_RECEIVER)
    rollup_rebuild()
    return f"{Requisition.objects.count()} orders for {len(users)} requisitioners in {len(all_units)} units"
