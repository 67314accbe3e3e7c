"""Late orders: the cut-off for ordering a planned trip. Pure, no ORM; the clock is a parameter.

A planned trip must be ordered by the office's cut-off time (13:00 by default) on the last working
day before the day of the first trip, in Norwegian local time (Europe/Oslo). An order for a trip on
the same local day as it is submitted is always late.

Working days are Monday to Friday except Norwegian public holidays (lov om helligdager og
helligdagsfred, and 1 and 17 May): New Year's Day, Maundy Thursday, Good Friday, Easter Sunday and
Monday, 1 May, 17 May, Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing Day. They come
from ``holidays.Norway`` with Sundays explicitly not counted as holidays (weekends are handled here).

Christmas Eve (24 December) and New Year's Eve (31 December) are *not* public holidays: legally they
are ordinary working days, even though many offices close early. A trip on 27 December 2027 must
therefore be ordered by Friday 24 December 2027 at the cut-off time. An office that closes early
on those days must set an earlier cut-off; that is a business decision, not a calendar rule.

Boundary: an order submitted at exactly the cut-off time (13:00:00.000000) is on time; any instant
after it is late.

All returned datetimes are timezone-aware and in UTC (the storage convention); convert to
Europe/Oslo for display. The cut-off is 13:00 local time all year, so it is 11:00Z in summer time
(CEST) and 12:00Z in winter time (CET).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

OSLO = "Europe/Oslo"
DEFAULT_CUT_OFF = time(13, 0)

_SATURDAY = 5


@functools.cache
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Norway(years=year, include_sundays=False).keys())


def is_public_holiday(day: date) -> bool:
    """True on a Norwegian public holiday (not on ordinary Sundays, nor 24 or 31 December)."""
    return day in _public_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, except public holidays."""
    return day.weekday() < _SATURDAY and not is_public_holiday(day)


def last_working_day_before(day: date) -> date:
    """The last working day strictly before ``day`` (Friday for a Monday, Wednesday before Easter)."""
    candidate = day - timedelta(days=1)
    while not is_working_day(candidate):
        candidate -= timedelta(days=1)
    return candidate


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime: {value!r}")


def cutoff_for(first_trip_at: datetime, *, cut_off: time = DEFAULT_CUT_OFF, tz: str = OSLO) -> datetime:
    """The last moment (aware, UTC) an order for a trip starting at ``first_trip_at`` is on time.

    ``first_trip_at`` must be aware; its day is its local date in ``tz``. ``cut_off`` is a local wall
    time without tzinfo. (A cut-off inside a daylight-saving gap, such as 02:30 on the spring change,
    would be read with the pre-change offset; office cut-offs are daytime, so this does not arise.)
    """
    _require_aware("first_trip_at", first_trip_at)
    if cut_off.tzinfo is not None:
        raise ValueError(f"cut_off must be a local wall time without tzinfo, got {cut_off!r}")
    zone = ZoneInfo(tz)
    trip_day = first_trip_at.astimezone(zone).date()
    deadline = datetime.combine(last_working_day_before(trip_day), cut_off, tzinfo=zone)
    return deadline.astimezone(UTC)


@dataclass(frozen=True)
class Lateness:
    late: bool
    same_day: bool  # the trip is on the same local date as the submission (always late)
    cutoff: datetime  # aware, UTC


def assess(
    submitted_at: datetime,
    first_trip_at: datetime,
    *,
    cut_off: time = DEFAULT_CUT_OFF,
    tz: str = OSLO,
) -> Lateness:
    """Whether an order submitted at ``submitted_at`` for a trip at ``first_trip_at`` is late.

    Both must be aware (ValueError otherwise). Late means submitted after the cut-off; exactly at the
    cut-off is on time. A trip already in the past is late as well.
    """
    _require_aware("submitted_at", submitted_at)
    _require_aware("first_trip_at", first_trip_at)
    deadline = cutoff_for(first_trip_at, cut_off=cut_off, tz=tz)
    zone = ZoneInfo(tz)
    same_day = submitted_at.astimezone(zone).date() == first_trip_at.astimezone(zone).date()
    return Lateness(late=same_day or submitted_at > deadline, same_day=same_day, cutoff=deadline)
