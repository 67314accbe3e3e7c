"""Helseekspress: which scheduled health-bus departure serves a trip (no database).

The example route runs Hol–Gol–Drammen–Oslo on weekdays, leaving Hol at 06:00 and 10:00 and reaching
Gol after 35 minutes, Drammen after 150 and Oslo after 195 (so Oslo at 09:15 and 13:15). The return
route Oslo–Drammen–Gol–Hol leaves Oslo at 14:00 and 16:00 (Gol at +160, Hol at +195).
Tuesday 22 September 2026 is an ordinary weekday in summer time.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from requisitions.helseekspress import (
    Match,
    Route,
    RouteStop,
    TripQuery,
    find_departure,
    helseekspress_available,
)

HOL, GOL, DRAMMEN, OSLO, BERGEN = "3330", "3324", "3301", "0301", "4601"
TZ = ZoneInfo("Europe/Oslo")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))

HOL_OSLO = Route(
    code="HE1",
    name="Hol–Gol–Drammen–Oslo",
    stops=(RouteStop(HOL, 0), RouteStop(GOL, 35), RouteStop(DRAMMEN, 150), RouteStop(OSLO, 195)),
    weekdays=WEEKDAYS,
    departures=(time(6, 0), time(10, 0)),
)
OSLO_HOL = Route(
    code="HE2",
    name="Oslo–Drammen–Gol–Hol",
    stops=(RouteStop(OSLO, 0), RouteStop(DRAMMEN, 45), RouteStop(GOL, 160), RouteStop(HOL, 195)),
    weekdays=WEEKDAYS,
    departures=(time(14, 0), time(16, 0)),
)
GOL_OSLO = Route(  # a shorter route arriving in Oslo at 10:30
    code="HE3",
    name="Gol–Drammen–Oslo",
    stops=(RouteStop(GOL, 0), RouteStop(DRAMMEN, 100), RouteStop(OSLO, 150)),
    weekdays=WEEKDAYS,
    departures=(time(8, 0),),
)
HOL_OSLO_DAILY = dataclasses.replace(HOL_OSLO, code="HE1D", weekdays=EVERY_DAY)
NIGHT = Route(  # a night run, to check arrival times across a daylight-saving change
    code="N1",
    name="Hol–Oslo night",
    stops=(RouteStop(HOL, 0), RouteStop(OSLO, 120)),
    weekdays=EVERY_DAY,
    departures=(time(1, 0),),
)
SEASONAL = dataclasses.replace(HOL_OSLO, code="HE1S", valid_from=date(2026, 9, 1), valid_to=date(2026, 12, 31))


def oslo(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def utc(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def tuesday(hh, mm=0) -> datetime:
    return oslo(2026, 9, 22, hh, mm)


@pytest.mark.parametrize(
    ("from_m", "to_m", "appointment_at", "routes", "expected"),
    [
        # the example route
        (HOL, OSLO, tuesday(10), [HOL_OSLO], ("HE1", time(6))),
        (HOL, DRAMMEN, tuesday(9), [HOL_OSLO], ("HE1", time(6))),  # Drammen at 08:30
        (GOL, DRAMMEN, tuesday(13), [HOL_OSLO], ("HE1", time(10))),  # Drammen at 12:30
        (HOL, OSLO, tuesday(14), [HOL_OSLO], ("HE1", time(10))),  # Oslo at 13:15
        # the arrival margin: at least 15 minutes before the appointment, inclusive
        (GOL, OSLO, tuesday(9, 30), [HOL_OSLO], ("HE1", time(6))),
        (GOL, OSLO, tuesday(9, 29), [HOL_OSLO], None),  # arrives too late
        (HOL, OSLO, tuesday(13, 29), [HOL_OSLO], None),
        # the wait: at most 3 hours before the appointment, inclusive
        (HOL, OSLO, tuesday(12, 15), [HOL_OSLO], ("HE1", time(6))),
        (HOL, OSLO, tuesday(12, 16), [HOL_OSLO], None),  # would wait too long (and 10:00 is too late)
        (HOL, OSLO, tuesday(20), [HOL_OSLO], None),
        # direction
        (OSLO, HOL, tuesday(18), [HOL_OSLO], None),  # the route runs the other way
        (OSLO, HOL, tuesday(18), [HOL_OSLO, OSLO_HOL], ("HE2", time(14))),  # Hol at 17:15
        (DRAMMEN, GOL, tuesday(17), [HOL_OSLO, OSLO_HOL], ("HE2", time(14))),  # Gol at 16:40
        (DRAMMEN, GOL, tuesday(19), [HOL_OSLO, OSLO_HOL], ("HE2", time(16))),  # Gol at 18:40
        # municipalities the route does not serve
        (HOL, BERGEN, tuesday(12), [HOL_OSLO], None),
        (BERGEN, OSLO, tuesday(12), [HOL_OSLO], None),
        (HOL, HOL, tuesday(12), [HOL_OSLO], None),
        # weekdays
        (HOL, OSLO, oslo(2026, 9, 26, 10), [HOL_OSLO], None),  # Saturday
        (HOL, OSLO, oslo(2026, 9, 27, 10), [HOL_OSLO], None),  # Sunday
        (HOL, OSLO, oslo(2026, 9, 25, 10), [HOL_OSLO], ("HE1", time(6))),  # Friday
        (HOL, OSLO, oslo(2026, 9, 26, 10), [HOL_OSLO_DAILY], ("HE1D", time(6))),
        # validity, both ends inclusive
        (HOL, OSLO, oslo(2026, 8, 31, 10), [SEASONAL], None),
        (HOL, OSLO, oslo(2026, 9, 1, 10), [SEASONAL], ("HE1S", time(6))),
        (HOL, OSLO, oslo(2026, 12, 31, 10), [SEASONAL], ("HE1S", time(6))),
        (HOL, OSLO, oslo(2027, 1, 5, 10), [SEASONAL], None),
        # when several departures fit, the latest arrival (shortest wait) wins
        (GOL, OSLO, tuesday(11), [HOL_OSLO, GOL_OSLO], ("HE3", time(8))),  # 10:30 beats 09:15
        (GOL, OSLO, tuesday(11), [GOL_OSLO, HOL_OSLO], ("HE3", time(8))),
        (HOL, OSLO, tuesday(10), [HOL_OSLO, HOL_OSLO_DAILY], ("HE1", time(6))),  # a tie: first listed
        # an empty route table
        (HOL, OSLO, tuesday(10), [], None),
    ],
)
def test_it_finds_the_departure_that_serves_the_trip(from_m, to_m, appointment_at, routes, expected):
    trip = TripQuery(from_municipality=from_m, to_municipality=to_m, appointment_at=appointment_at)
    match = find_departure(trip, routes)
    assert (None if match is None else (match.route.code, match.departure)) == expected
    assert helseekspress_available(trip, routes) is (expected is not None)


@pytest.mark.parametrize(
    ("appointment_at", "arrival_at"),
    [
        # spring change, Sunday 28 March 2027: 09:15 local is 07:15Z (summer time)
        (utc(2027, 3, 28, 7, 30), utc(2027, 3, 28, 7, 15)),
        (utc(2027, 3, 28, 7, 29), None),
        # autumn change, Sunday 25 October 2026: 09:15 local is 08:15Z (winter time)
        (utc(2026, 10, 25, 8, 30), utc(2026, 10, 25, 8, 15)),
        (utc(2026, 10, 25, 8, 29), None),
    ],
)
def test_it_uses_local_time_on_daylight_saving_days(appointment_at, arrival_at):
    trip = TripQuery(HOL, OSLO, appointment_at)
    match = find_departure(trip, [HOL_OSLO_DAILY])
    assert (None if match is None else match.arrival_at) == arrival_at


@pytest.mark.parametrize(
    ("appointment_at", "arrival_at"),
    [
        # leaves 01:00 CET (00:00Z); two hours later it is 04:00 CEST, not 03:00
        (oslo(2027, 3, 28, 4, 15), utc(2027, 3, 28, 2)),
        (oslo(2027, 3, 28, 4, 10), None),
        # leaves 01:00 CEST (23:00Z the day before); two hours later it is 02:00 CET, not 03:00
        (datetime(2026, 10, 25, 2, 15, tzinfo=TZ, fold=1), utc(2026, 10, 25, 1)),
        (utc(2026, 10, 25, 1, 14), None),
    ],
)
def test_travel_time_is_elapsed_time_across_a_clock_change(appointment_at, arrival_at):
    match = find_departure(TripQuery(HOL, OSLO, appointment_at), [NIGHT])
    assert (None if match is None else match.arrival_at) == arrival_at


def test_the_match_says_where_and_when_to_board_and_alight():
    match = find_departure(TripQuery(GOL, OSLO, tuesday(10)), [HOL_OSLO])
    assert match == Match(
        route=HOL_OSLO,
        departure=time(6),
        pickup=RouteStop(GOL, 35),
        dropoff=RouteStop(OSLO, 195),
        pickup_at=utc(2026, 9, 22, 4, 35),  # 06:35 CEST
        arrival_at=utc(2026, 9, 22, 7, 15),  # 09:15 CEST
    )


@pytest.mark.parametrize(
    ("appointment_at", "options", "expected"),
    [
        (tuesday(9, 30), {"earliest_arrival_margin": timedelta(minutes=30)}, None),
        (tuesday(9, 45), {"earliest_arrival_margin": timedelta(minutes=30)}, time(6)),
        (tuesday(12, 16), {"max_wait": timedelta(hours=4)}, time(6)),
        (tuesday(11, 16), {"max_wait": timedelta(hours=2)}, None),
    ],
)
def test_the_margin_and_the_longest_wait_are_settings(appointment_at, options, expected):
    match = find_departure(TripQuery(HOL, OSLO, appointment_at), [HOL_OSLO], **options)
    assert (None if match is None else match.departure) == expected


def test_it_refuses_a_naive_appointment_time():
    with pytest.raises(ValueError):
        find_departure(TripQuery(HOL, OSLO, datetime(2026, 9, 22, 10)), [HOL_OSLO])


@pytest.mark.parametrize(
    "changes",
    [
        {"stops": (RouteStop(HOL, 0), RouteStop(GOL, 35), RouteStop(OSLO, 20))},
        {"stops": (RouteStop(HOL, -5), RouteStop(OSLO, 20))},
        {"weekdays": frozenset({7})},
        {"departures": (time(6, tzinfo=UTC),)},
        {"valid_from": date(2027, 1, 1), "valid_to": date(2026, 12, 31)},
    ],
    ids=["stops-out-of-order", "negative-minutes", "weekday-7", "zoned-departure", "validity-reversed"],
)
def test_a_route_refuses_inconsistent_data(changes):
    with pytest.raises(ValueError):
        dataclasses.replace(HOL_OSLO, **changes)
