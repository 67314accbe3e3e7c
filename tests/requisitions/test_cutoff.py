"""The ordering cut-off around weekends, public holidays and daylight-saving changes (no database).

Calendar notes for reading the tables:
- Easter 2026: Maundy Thursday 2 April, Easter Monday 6 April; Ascension 14 May; Whit Monday 25 May.
- Easter 2027: Maundy Thursday 25 March, Good Friday 26, Easter Sunday 28, Easter Monday 29 March;
  Ascension 6 May; Whit Monday falls on 17 May 2027 (a Monday). 17 May 2026 is a Sunday.
- Summer time starts Sunday 28 March 2027 (= Easter Sunday) and ends Sunday 25 October 2026 and
  Sunday 31 October 2027. 13:00 in Oslo is 11:00Z in summer time and 12:00Z in winter time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from requisitions.cutoff import (
    Lateness,
    assess,
    cutoff_for,
    is_public_holiday,
    is_working_day,
    last_working_day_before,
)

OSLO = ZoneInfo("Europe/Oslo")


def oslo(y, m, d, hh=10, mm=0, ss=0, us=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=OSLO)


def utc(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


PUBLIC_HOLIDAYS = {
    2026: {
        date(2026, 1, 1),
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),
        date(2026, 5, 17),
        date(2026, 5, 24),
        date(2026, 5, 25),
        date(2026, 12, 25),
        date(2026, 12, 26),
    },
    2027: {
        date(2027, 1, 1),
        date(2027, 3, 25),
        date(2027, 3, 26),
        date(2027, 3, 28),
        date(2027, 3, 29),
        date(2027, 5, 1),
        date(2027, 5, 6),
        date(2027, 5, 16),
        date(2027, 5, 17),  # Constitution Day and Whit Monday at once
        date(2027, 12, 25),
        date(2027, 12, 26),
    },
}


@pytest.mark.parametrize("year", sorted(PUBLIC_HOLIDAYS))
def test_the_public_holidays_are_exactly_the_statutory_ones(year):
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    assert {day for day in days if day.year == year and is_public_holiday(day)} == PUBLIC_HOLIDAYS[year]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),  # Christmas Eve, a Thursday: legally a working day
        (date(2026, 12, 31), True),  # New Year's Eve, a Thursday: legally a working day
        (date(2027, 12, 24), True),  # Christmas Eve, a Friday
        (date(2026, 9, 19), False),  # an ordinary Saturday
        (date(2026, 9, 20), False),  # an ordinary Sunday
        (date(2026, 9, 21), True),  # an ordinary Monday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2026, 5, 1), False),  # 1 May, a Friday
    ],
)
def test_it_tells_working_days(day, working):
    assert is_working_day(day) is working


def test_an_ordinary_sunday_is_not_counted_as_a_public_holiday():
    assert not is_public_holiday(date(2026, 9, 20))


@pytest.mark.parametrize(
    ("trip_day", "last_working_day"),
    [
        # an ordinary week
        (date(2026, 9, 18), date(2026, 9, 17)),  # Friday -> Thursday
        (date(2026, 9, 19), date(2026, 9, 18)),  # Saturday -> Friday
        (date(2026, 9, 20), date(2026, 9, 18)),  # Sunday -> Friday
        (date(2026, 9, 21), date(2026, 9, 18)),  # Monday -> Friday
        (date(2026, 9, 22), date(2026, 9, 21)),  # Tuesday -> Monday
        # Easter 2027
        (date(2027, 3, 25), date(2027, 3, 24)),  # Maundy Thursday -> Wednesday
        (date(2027, 3, 26), date(2027, 3, 24)),  # Good Friday -> Wednesday
        (date(2027, 3, 29), date(2027, 3, 24)),  # Easter Monday -> Wednesday before Easter
        (date(2027, 3, 30), date(2027, 3, 24)),  # Tuesday after Easter -> Wednesday before Easter
        (date(2027, 3, 31), date(2027, 3, 30)),
        # Easter 2026
        (date(2026, 4, 7), date(2026, 4, 1)),
        # 1 May 2026 is a Friday
        (date(2026, 5, 4), date(2026, 4, 30)),
        # Ascension
        (date(2026, 5, 15), date(2026, 5, 13)),
        (date(2027, 5, 7), date(2027, 5, 5)),
        # 17 May: a Monday (and Whit Monday) in 2027, a Sunday in 2026
        (date(2027, 5, 17), date(2027, 5, 14)),
        (date(2027, 5, 18), date(2027, 5, 14)),
        (date(2026, 5, 18), date(2026, 5, 15)),
        # Whit Monday 2026
        (date(2026, 5, 26), date(2026, 5, 22)),
        # Christmas 2026: 24 Thursday, 25 Friday, 26 Saturday
        (date(2026, 12, 25), date(2026, 12, 24)),
        (date(2026, 12, 26), date(2026, 12, 24)),
        (date(2026, 12, 28), date(2026, 12, 24)),
        # Christmas 2027: 24 Friday, 25 Saturday, 26 Sunday
        (date(2027, 12, 27), date(2027, 12, 24)),
        (date(2027, 12, 28), date(2027, 12, 27)),
        # New Year: New Year's Eve is a working day
        (date(2027, 1, 1), date(2026, 12, 31)),
        (date(2027, 1, 4), date(2026, 12, 31)),
        (date(2026, 1, 2), date(2025, 12, 31)),
    ],
)
def test_it_finds_the_last_working_day_before_the_trip(trip_day, last_working_day):
    assert last_working_day_before(trip_day) == last_working_day


@pytest.mark.parametrize(
    ("first_trip_at", "cutoff"),
    [
        # spring change on Sunday 28 March 2027 (Easter Sunday)
        (oslo(2027, 3, 28), utc(2027, 3, 24, 12)),  # trip on the change day; cut-off in winter time
        (oslo(2027, 3, 29), utc(2027, 3, 24, 12)),  # Easter Monday, summer time; cut-off in winter time
        (oslo(2027, 3, 30), utc(2027, 3, 24, 12)),
        (oslo(2027, 4, 1), utc(2027, 3, 31, 11)),  # both in summer time
        # autumn change on Sunday 25 October 2026
        (oslo(2026, 10, 25), utc(2026, 10, 23, 11)),  # cut-off still in summer time
        (oslo(2026, 10, 26), utc(2026, 10, 23, 11)),
        (oslo(2026, 10, 27), utc(2026, 10, 26, 12)),  # cut-off in winter time
        # autumn change on Sunday 31 October 2027
        (oslo(2027, 11, 1), utc(2027, 10, 29, 11)),
        (oslo(2027, 11, 2), utc(2027, 11, 1, 12)),
        # winter and summer in an ordinary week
        (oslo(2027, 1, 13), utc(2027, 1, 12, 12)),
        (oslo(2026, 9, 22), utc(2026, 9, 21, 11)),
        # the trip's day is its Oslo date, not its UTC date
        (oslo(2026, 9, 22, 0, 30), utc(2026, 9, 21, 11)),  # = Monday 22:30Z
        (utc(2026, 9, 21, 22, 30), utc(2026, 9, 21, 11)),  # the same instant, given in UTC
        (oslo(2026, 9, 21, 23, 30), utc(2026, 9, 18, 11)),  # = Monday 21:30Z, still Monday in Oslo
    ],
)
def test_the_cutoff_is_13_local_on_the_last_working_day_in_utc(first_trip_at, cutoff):
    result = cutoff_for(first_trip_at)
    assert result == cutoff
    assert result.utcoffset() == timedelta(0)
    assert result.astimezone(OSLO).time() == time(13, 0)


@pytest.mark.parametrize(
    ("cut_off", "cutoff"),
    [
        (time(12, 0), utc(2026, 9, 21, 10)),
        (time(15, 30), utc(2026, 9, 21, 13, 30)),
    ],
)
def test_the_cutoff_time_is_an_office_setting(cut_off, cutoff):
    assert cutoff_for(oslo(2026, 9, 22), cut_off=cut_off) == cutoff


TUESDAY_AFTER_EASTER_2027 = oslo(2027, 3, 30, 9)  # cut-off Wednesday 24 March 13:00 CET = 12:00Z
THURSDAY_1_APRIL_2027 = oslo(2027, 4, 1, 9)  # cut-off Wednesday 31 March 13:00 CEST = 11:00Z
TUESDAY_27_OCTOBER_2026 = oslo(2026, 10, 27, 9)  # cut-off Monday 26 October 13:00 CET = 12:00Z
MONDAY_26_OCTOBER_2026 = oslo(2026, 10, 26, 9)  # cut-off Friday 23 October 13:00 CEST = 11:00Z
MONDAY_21_SEPTEMBER_2026 = oslo(2026, 9, 21, 15)  # cut-off Friday 18 September 13:00 CEST
TUESDAY_22_SEPTEMBER_2026 = oslo(2026, 9, 22, 8)  # cut-off Monday 21 September 13:00 CEST


@pytest.mark.parametrize(
    ("submitted_at", "first_trip_at", "late", "same_day"),
    [
        # the boundary: exactly 13:00:00 is on time, any instant after is late
        (oslo(2027, 3, 24, 12, 59), TUESDAY_AFTER_EASTER_2027, False, False),
        (oslo(2027, 3, 24, 13, 0), TUESDAY_AFTER_EASTER_2027, False, False),
        (oslo(2027, 3, 24, 13, 0, 0, 1), TUESDAY_AFTER_EASTER_2027, True, False),
        (oslo(2027, 3, 24, 13, 0, 1), TUESDAY_AFTER_EASTER_2027, True, False),
        (oslo(2027, 3, 25, 9), TUESDAY_AFTER_EASTER_2027, True, False),  # on Maundy Thursday
        # summer time: 13:00 local is 11:00Z
        (oslo(2027, 3, 31, 12, 59), THURSDAY_1_APRIL_2027, False, False),
        (oslo(2027, 3, 31, 13, 0), THURSDAY_1_APRIL_2027, False, False),
        (utc(2027, 3, 31, 11, 0), THURSDAY_1_APRIL_2027, False, False),
        (utc(2027, 3, 31, 11, 0, 1), THURSDAY_1_APRIL_2027, True, False),
        (utc(2027, 3, 31, 11, 30), THURSDAY_1_APRIL_2027, True, False),
        # winter time: 13:00 local is 12:00Z
        (utc(2026, 10, 26, 11, 30), TUESDAY_27_OCTOBER_2026, False, False),
        (utc(2026, 10, 26, 12, 0), TUESDAY_27_OCTOBER_2026, False, False),
        (utc(2026, 10, 26, 12, 0, 1), TUESDAY_27_OCTOBER_2026, True, False),
        # the weekend of the autumn change: Friday's cut-off is still in summer time
        (utc(2026, 10, 23, 11, 0), MONDAY_26_OCTOBER_2026, False, False),
        (utc(2026, 10, 23, 11, 30), MONDAY_26_OCTOBER_2026, True, False),
        # weekends
        (oslo(2026, 9, 18, 12), MONDAY_21_SEPTEMBER_2026, False, False),  # Friday before the cut-off
        (oslo(2026, 9, 19, 10), MONDAY_21_SEPTEMBER_2026, True, False),  # Saturday for Monday
        (oslo(2026, 9, 20, 22), TUESDAY_22_SEPTEMBER_2026, False, False),  # Sunday for Tuesday
        (oslo(2026, 9, 14, 10), MONDAY_21_SEPTEMBER_2026, False, False),  # a week ahead
        # same day: always late, whatever the hour
        (oslo(2026, 9, 21, 7), MONDAY_21_SEPTEMBER_2026, True, True),
        (oslo(2026, 9, 21, 0, 1), oslo(2026, 9, 21, 23), True, True),
        (utc(2026, 9, 21, 22, 30), TUESDAY_22_SEPTEMBER_2026, True, True),  # 00:30 Tuesday in Oslo
        # a trip already in the past
        (oslo(2026, 9, 22, 9), MONDAY_21_SEPTEMBER_2026, True, False),
    ],
)
def test_it_assesses_lateness(submitted_at, first_trip_at, late, same_day):
    assert assess(submitted_at, first_trip_at) == Lateness(
        late=late, same_day=same_day, cutoff=cutoff_for(first_trip_at)
    )


def test_the_assessment_uses_the_offices_cutoff_time():
    submitted_at = oslo(2026, 9, 21, 12, 30)
    assert assess(submitted_at, TUESDAY_22_SEPTEMBER_2026).late is False
    assert assess(submitted_at, TUESDAY_22_SEPTEMBER_2026, cut_off=time(12, 0)).late is True


NAIVE = datetime(2026, 9, 21, 10, 0)
AWARE = oslo(2026, 9, 22)


@pytest.mark.parametrize(
    "call",
    [
        lambda: assess(NAIVE, AWARE),
        lambda: assess(AWARE, NAIVE),
        lambda: cutoff_for(NAIVE),
        lambda: cutoff_for(AWARE, cut_off=time(13, 0, tzinfo=UTC)),
    ],
    ids=["naive-submission", "naive-trip", "naive-trip-cutoff", "aware-cut-off-time"],
)
def test_it_refuses_naive_datetimes_and_zoned_cutoff_times(call):
    with pytest.raises(ValueError):
        call()
