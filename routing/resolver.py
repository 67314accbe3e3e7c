"""Pure routing decision: which office receives an order, given where the pickup is and the level.

Ambulance and white car go to the AMK; the other requisitioned levels go to the Pasientreiser office.
A trust may dispatch white cars from its Pasientreiser office instead (Oslo universitetssykehus since
2016). Public transport is never routed. No ORM here: callers pass plain values (routing.selectors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

AMK = "AMK"
PASIENTREISER = "PASIENTREISER"

ROUTED_LEVELS = ("helseekspress", "taxi", "wheelchair_taxi", "white_car", "ambulance")
LEVELS = ("public_transport", *ROUTED_LEVELS)


class UnknownLevel(ValueError):
    pass


@dataclass(frozen=True)
class OfficeRef:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class CoverageRow:
    office_kind: str
    office: OfficeRef
    valid_from: dt.date
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Area:
    """What routing knows about the pickup municipality (or, outside the region, the unit's trust)."""

    coverage: tuple[CoverageRow, ...]
    white_cars_from_pasientreiser: bool = False


def office_kind_for(level: str, *, white_cars_from_pasientreiser: bool) -> str | None:
    """The kind of office that handles a level; None for public transport (nothing is routed)."""
    if level not in LEVELS:
        raise UnknownLevel(level)
    if level == "public_transport":
        return None
    if level == "ambulance":
        return AMK
    if level == "white_car":
        return PASIENTREISER if white_cars_from_pasientreiser else AMK
    return PASIENTREISER


def covering_office(coverage: Iterable[CoverageRow], kind: str, on: dt.date) -> OfficeRef | None:
    """The office of that kind serving on the given day; the newest start wins if rows overlap."""
    valid = [row for row in coverage if row.office_kind == kind and row.valid_on(on)]
    if not valid:
        return None
    return max(valid, key=lambda row: row.valid_from).office


def resolve(level: str, area: Area, *, on: dt.date) -> OfficeRef | None:
    kind = office_kind_for(level, white_cars_from_pasientreiser=area.white_cars_from_pasientreiser)
    if kind is None:
        return None
    return covering_office(area.coverage, kind, on)
