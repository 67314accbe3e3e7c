"""Builders for requisition tests. Saved state is always made through the real services.

- ``answers()``, ``address()``, ``appointment()``, ``order_body()``: the JSON a caller sends.
- ``requisition_for(user, ...)``: an order saved by ``requisition_create`` (and routed by the real
  ``requisition_submitted`` receiver, run eagerly on commit).
- ``advance(requisition, by=user, to=...)``: moves it on with ``requisition_transition``.
"""

from __future__ import annotations

import copy
import datetime as dt

from django.test import TestCase
from django.utils import timezone

from requisitions.api.serializers import RequisitionCreateSerializer
from requisitions.models import Requisition
from requisitions.national_id import make_synthetic_national_id
from requisitions.selectors import actors_for
from requisitions.services import Order, requisition_create, requisition_transition
from tests.conftest import api, reference_data  # noqa: F401 - re-exported for modules that import them here

# --- request bodies ----------------------------------------------------------------------------------

BASE_ANSWERS = {
    "acute_symptoms": False,
    "can_travel_independently": False,
    "needs_monitoring": False,
    "needs_medical_equipment": False,
    "must_lie_down": False,
    "mobility": "walks_unaided",
}

# Answers that make the shipped rule set (hso-2026.1) recommend each level.
ANSWERS_FOR_LEVEL = {
    "public_transport": {},
    "helseekspress": {"reduced_orientation": True, "helseekspress_available": True},
    "taxi": {"reduced_orientation": True},
    "wheelchair_taxi": {"mobility": "electric_wheelchair"},
    "white_car": {"must_lie_down": True},
    "ambulance": {"needs_monitoring": True},
}

# Addresses by municipality: a postal code inside it (Oslo, Drammen, Porsgrunn).
POSTAL_CODE_IN = {"0301": "0450", "3301": "3001", "4001": "3901"}


def answers(level: str = "taxi", **changes) -> dict:
    return {**BASE_ANSWERS, **ANSWERS_FOR_LEVEL[level], **changes}


def address(municipality: str = "0301", *, street: str = "Sognsvannsveien 20", postal_code: str | None = None) -> dict:
    return {"street": street, "postal_code": postal_code or POSTAL_CODE_IN[municipality], "municipality": municipality}


def appointment(*, days: int = 21, hour: int = 10) -> str:
    """An ISO 8601 time with offset, ``days`` ahead at ``hour`` Oslo time (far enough not to be late)."""
    day = timezone.localtime(timezone.now() + dt.timedelta(days=days))
    return day.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def soon(hours: int = 2) -> str:
    """A time a couple of hours ahead: always after the cut-off for its trip, so the order is late."""
    return timezone.localtime(timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


def order_body(
    *,
    level_of: str = "taxi",
    seed: int = 1,
    pickup: str = "0301",
    with_return: bool = True,
    days: int = 21,
    **changes,
) -> dict:
    """A valid create body; ``level_of`` picks the answers, ``changes`` replace top-level keys."""
    trips = [
        {
            "direction": "outbound",
            "from": address(pickup, street="Hjemmeveien 1"),
            "to": address("0301", street="Sognsvannsveien 20"),
            "appointment_at": appointment(days=days, hour=10),
        }
    ]
    if with_return:
        trips.append(
            {
                "direction": "return",
                "from": address("0301", street="Sognsvannsveien 20"),
                "to": address(pickup, street="Hjemmeveien 1"),
                "pickup_at": appointment(days=days, hour=14),
            }
        )
    body = {
        "patient": {
            "national_id": make_synthetic_national_id(seed),
            "name": "Test Pasient",
            "phone": "+4791234567",
            "address": address(pickup, street="Hjemmeveien 1"),
        },
        "answers": answers(level_of),
        "trips": trips,
        "notes": "",
    }
    body.update(changes)
    return copy.deepcopy(body)


def order(body: dict | None = None, **kwargs) -> Order:
    """The services' input for ``body``, parsed by the API's own serializer."""
    serializer = RequisitionCreateSerializer(data=body if body is not None else order_body(**kwargs))
    serializer.is_valid(raise_exception=True)
    return serializer.to_order()


# --- saved state, through the services ---------------------------------------------------------------


def requisition_for(user, *, requisitioner=None, body: dict | None = None, **kwargs) -> Requisition:
    """An order entered by ``user`` (for ``requisitioner``, default ``user``), routed at once if submitted."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        requisition = requisition_create(
            order=order(body, **kwargs),
            entered_by=user,
            requisitioner=requisitioner or user,
            unit=user.unit,
        )
    requisition.refresh_from_db()
    return requisition


def advance(requisition: Requisition, *, by, to: str, note: str = "", pickup_at: dt.datetime | None = None):
    """Move ``requisition`` on as ``by`` would, through the one transition service."""
    requisition.refresh_from_db()
    if to == "scheduled" and pickup_at is None:
        pickup_at = requisition.first_trip_at - dt.timedelta(hours=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        requisition_transition(
            requisition=requisition,
            user=by,
            actors=actors_for(by, requisition),
            target=to,
            note=note or f"note for {to}",
            pickup_at=pickup_at,
        )
    requisition.refresh_from_db()
    return requisition


# The office-side path from ``routed`` to each status, as (target, actor key) steps.
PATH_TO = {
    "routed": [],
    "accepted": ["accepted"],
    "scheduled": ["accepted", "scheduled"],
    "completed": ["accepted", "scheduled", "completed"],
    "no_show": ["accepted", "scheduled", "no_show"],
    "returned": ["returned"],
}


def requisition_in(status: str, *, clinician, office_worker, **kwargs) -> Requisition:
    """A clinician's order (routed to ``office_worker``'s office) moved by the office to ``status``."""
    requisition = requisition_for(clinician, **kwargs)
    assert requisition.status == "routed", requisition.status
    for target in PATH_TO[status]:
        requisition = advance(requisition, by=office_worker, to=target)
    return requisition


__all__ = [
    "ANSWERS_FOR_LEVEL",
    "BASE_ANSWERS",
    "PATH_TO",
    "address",
    "advance",
    "api",
    "answers",
    "appointment",
    "order",
    "order_body",
    "reference_data",
    "requisition_for",
    "requisition_in",
    "soon",
]
