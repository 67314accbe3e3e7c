"""Helseekspress: whether a scheduled health bus serves a patient's trip. Pure, no ORM.

A route runs in the direction its stops are listed; the return direction is a separate ``Route`` in
the same table. A route serves a trip when, on the appointment's local date (Europe/Oslo):

- the date is within the route's validity (both ends inclusive, ``None`` meaning open) and its weekday
  is one the route runs on;
- the pickup municipality has a stop before a stop in the destination municipality;
- a departure (local time from the first stop, on that date) reaches the destination stop at least
  ``earliest_arrival_margin`` before the appointment and at most ``max_wait`` before it (both ends
  inclusive).

Only departures leaving the first stop on the appointment's local date are considered. Travel times
(``minutes_from_start``) are elapsed minutes, so a bus running across a daylight-saving change
arrives at the right instant. Public holidays are not considered here: a route that does not run on
holidays needs its own validity data (or the caller checks ``requisitions.cutoff.is_public_holiday``).

When several departures fit, the one arriving latest (the shortest wait) is chosen; ties go to the
earlier route in the given order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OSLO = "Europe/Oslo"


@dataclass(frozen=True)
class RouteStop:
    municipality: str  # municipality number, e.g. "0301"
    minutes_from_start: int


@dataclass(frozen=True)
class Route:
    code: str
    name: str
    stops: tuple[RouteStop, ...]  # in travel order
    weekdays: frozenset[int]  # 0 = Monday
    departures: tuple[time, ...]  # local departure times from the first stop
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        minutes = [stop.minutes_from_start for stop in self.stops]
        if any(later < earlier for earlier, later in zip(minutes, minutes[1:], strict=False)):
            raise ValueError(f"Route {self.code}: stops must be in travel order (minutes never decrease).")
        if any(m < 0 for m in minutes):
            raise ValueError(f"Route {self.code}: minutes_from_start cannot be negative.")
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"Route {self.code}: weekdays are 0 (Monday) to 6 (Sunday).")
        if any(dep.tzinfo is not None for dep in self.departures):
            raise ValueError(f"Route {self.code}: departures are local wall times without tzinfo.")
        if self.valid_from is not None and self.valid_to is not None and self.valid_from > self.valid_to:
            raise ValueError(f"Route {self.code}: valid_from is after valid_to.")

    def runs_on(self, day: date) -> bool:
        """True when the route is valid on ``day`` and runs on its weekday."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_to is not None and day > self.valid_to:
            return False
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class TripQuery:
    from_municipality: str
    to_municipality: str
    appointment_at: datetime  # aware


@dataclass(frozen=True)
class Match:
    route: Route
    departure: time  # the route's local departure time from its first stop
    pickup: RouteStop
    dropoff: RouteStop
    pickup_at: datetime  # aware, UTC
    arrival_at: datetime  # aware, UTC, at the dropoff stop


def _legs(route: Route, from_municipality: str, to_municipality: str) -> Iterator[tuple[RouteStop, RouteStop]]:
    """Every (pickup, dropoff) pair of stops in travel order between the two municipalities."""
    for i, pickup in enumerate(route.stops):
        if pickup.municipality != from_municipality:
            continue
        for dropoff in route.stops[i + 1 :]:
            if dropoff.municipality == to_municipality:
                yield pickup, dropoff


def find_departure(
    trip: TripQuery,
    routes: Iterable[Route],
    *,
    earliest_arrival_margin: timedelta = timedelta(minutes=15),
    max_wait: timedelta = timedelta(hours=3),
    tz: str = OSLO,
) -> Match | None:
    """The best Helseekspress departure for ``trip``, or None when no route serves it."""
    if trip.appointment_at.tzinfo is None or trip.appointment_at.utcoffset() is None:
        raise ValueError(f"appointment_at must be timezone-aware, got {trip.appointment_at!r}")
    zone = ZoneInfo(tz)
    appointment = trip.appointment_at.astimezone(UTC)
    day = trip.appointment_at.astimezone(zone).date()
    latest_arrival = appointment - earliest_arrival_margin
    earliest_arrival = appointment - max_wait

    best: Match | None = None
    for route in routes:
        if not route.runs_on(day):
            continue
        for pickup, dropoff in _legs(route, trip.from_municipality, trip.to_municipality):
            for departure in route.departures:
                # Elapsed time is added in UTC, so a daylight-saving change on the way is respected.
                start = datetime.combine(day, departure, tzinfo=zone).astimezone(UTC)
                arrival_at = start + timedelta(minutes=dropoff.minutes_from_start)
                if not earliest_arrival <= arrival_at <= latest_arrival:
                    continue
                if best is None or arrival_at > best.arrival_at:
                    best = Match(
                        route=route,
                        departure=departure,
                        pickup=pickup,
                        dropoff=dropoff,
                        pickup_at=start + timedelta(minutes=pickup.minutes_from_start),
                        arrival_at=arrival_at,
                    )
    return best


def helseekspress_available(
    trip: TripQuery,
    routes: Iterable[Route],
    *,
    earliest_arrival_margin: timedelta = timedelta(minutes=15),
    max_wait: timedelta = timedelta(hours=3),
    tz: str = OSLO,
) -> bool:
    """True when some Helseekspress route serves ``trip`` (see ``find_departure``)."""
    match = find_departure(trip, routes, earliest_arrival_margin=earliest_arrival_margin, max_wait=max_wait, tz=tz)
    return match is not None
