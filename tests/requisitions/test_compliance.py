"""requisitions.compliance: flags per requisition, figures, peers' medians and the outlier rule. No DB."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from requisitions import compliance
from requisitions.compliance import Figures, Flags, Snapshot

OSLO = ZoneInfo("Europe/Oslo")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=OSLO)


# A trip on Wednesday 2 December 2026 at 10:00: the cut-off is Tuesday 1 December 13:00 (Oslo).
TRIP = at("2026-12-02 10:00")


def snapshot(**changes) -> Snapshot:
    base = {
        "requisition_id": 1,
        "level": "taxi",
        "recommended_level": "taxi",
        "first_trip_at": TRIP,
        "late": False,
        "answers": {"can_share_ride": True, "companions": 0},
    }
    return Snapshot(**{**base, **changes})


ALONE = {"can_share_ride": False, "alone_reason": "", "companions": 0}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, {}, id="plain order: no flag"),
        pytest.param({"level": "white_car"}, {"above_recommendation": True}, id="above the recommendation"),
        pytest.param(
            {"level": "taxi", "recommended_level": "helseekspress"}, {"above_recommendation": True}, id="one step up"
        ),
        pytest.param({"late": True}, {"late": True}, id="late as stored"),
        pytest.param({"times_returned": 1}, {"returned": True}, id="returned once"),
        pytest.param({"times_returned": 3}, {"returned": True}, id="returned thrice counts once"),
        pytest.param({"cancelled_at": at("2026-11-30 09:00")}, {"cancelled": True}, id="cancelled in good time"),
        pytest.param({"cancelled_at": at("2026-12-01 13:00")}, {"cancelled": True}, id="cancelled exactly at cut-off"),
        pytest.param(
            {"cancelled_at": at("2026-12-01 13:00:01")},
            {"cancelled": True, "late_cancellation": True},
            id="cancelled a second after cut-off",
        ),
        pytest.param(
            {"cancelled_at": at("2026-12-01 11:00"), "cut_off": dt.time(10, 0)},
            {"cancelled": True, "late_cancellation": True},
            id="office's earlier cut-off",
        ),
        pytest.param(
            {"cancelled_at": at("2026-12-02 11:00")},
            {"cancelled": True, "late_cancellation": True},
            id="cancelled after the trip",
        ),
        pytest.param(
            {"requirements": ("no_shared_ride",), "answers": ALONE},
            {"alone_without_reason": True},
            id="alone without a reason",
        ),
        pytest.param(
            {"requirements": ("no_shared_ride",), "answers": {**ALONE, "alone_reason": "   "}},
            {"alone_without_reason": True},
            id="alone with a blank reason",
        ),
        pytest.param(
            {"requirements": ("no_shared_ride",), "answers": {**ALONE, "alone_reason": "Utagerende ved samkjøring"}},
            {},
            id="alone with a written reason",
        ),
        pytest.param(
            {"requirements": ("isolation", "no_shared_ride"), "answers": {**ALONE, "isolation": True}},
            {},
            id="alone because of isolation",
        ),
        pytest.param(
            {
                "requirements": ("escort_personnel", "no_shared_ride"),
                "answers": {**ALONE, "danger_to_self_or_others": True},
            },
            {},
            id="alone because of danger",
        ),
        pytest.param(
            {"requirements": ("no_shared_ride",), "answers": {**ALONE, "reduced_general_condition": True}},
            {},
            id="alone because of reduced general condition",
        ),
        pytest.param({"answers": ALONE}, {}, id="cannot share but no such requirement"),
        pytest.param({"answers": {"companions": 1}}, {}, id="one companion"),
        pytest.param({"answers": {"companions": 2}}, {"two_companions": True}, id="two companions"),
        pytest.param({"answers": {"companions": 3}}, {"two_companions": True}, id="three companions"),
        pytest.param({"answers": {"companions": True}}, {}, id="a boolean is not a number of companions"),
    ],
)
def test_flags(changes, expected):
    result = compliance.flags(snapshot(**changes))
    assert result == Flags(level=changes.get("level", "taxi"), **expected)


@pytest.mark.parametrize(
    ("trip", "cancelled", "late"),
    [
        # Monday trip: the cut-off is the Friday before.
        ("2026-11-30 08:00", "2026-11-27 12:59", False),
        ("2026-11-30 08:00", "2026-11-27 13:01", True),
        ("2026-11-30 08:00", "2026-11-29 20:00", True),
        # Tuesday after Easter Monday 2027 (29 March): the cut-off is Wednesday 24 March 13:00.
        ("2027-03-30 09:00", "2027-03-24 12:00", False),
        ("2027-03-30 09:00", "2027-03-25 09:00", True),
        # Across the daylight-saving changes of 2026 (29 March, 25 October): still 13:00 local time.
        ("2026-03-30 09:00", "2026-03-27 13:00", False),
        ("2026-03-30 09:00", "2026-03-27 13:00:01", True),
        ("2026-10-26 09:00", "2026-10-23 13:00", False),
        ("2026-10-26 09:00", "2026-10-23 13:00:01", True),
    ],
)
def test_late_cancellation_follows_the_cut_off_calendar(trip, cancelled, late):
    assert compliance.is_late_cancellation(snapshot(first_trip_at=at(trip), cancelled_at=at(cancelled))) is late


def test_a_snapshot_is_frozen_and_so_are_its_answers():
    one = snapshot(answers={"companions": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.late = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        one.answers["companions"] = 0  # type: ignore[index]


def flag(level="taxi", **set_flags) -> Flags:
    return Flags(level=level, **set_flags)


def test_tally_counts_orders_levels_and_each_flag():
    figures = compliance.tally(
        [
            flag("taxi", late=True, returned=True),
            flag("taxi", cancelled=True, late_cancellation=True),
            flag("white_car", above_recommendation=True, late=True),
            flag("ambulance", alone_without_reason=True, two_companions=True),
        ]
    )
    assert figures.orders == 4
    assert dict(figures.by_level) == {
        "public_transport": 0,
        "helseekspress": 0,
        "taxi": 2,
        "wheelchair_taxi": 0,
        "white_car": 1,
        "ambulance": 1,
    }
    assert (figures.above_recommendation, figures.late, figures.cancelled, figures.late_cancellations) == (1, 2, 1, 1)
    assert (figures.returned, figures.alone_without_reason, figures.two_companions) == (1, 1, 1)
    assert figures.rates()["late_rate"] == 0.5
    assert figures.rates()["above_recommendation_rate"] == 0.25


def test_no_orders_means_every_rate_is_zero():
    assert compliance.tally([]).rates() == dict.fromkeys(compliance.RATES, 0.0)


def test_figures_add_up_day_by_day():
    monday = compliance.tally([flag(late=True), flag("white_car")])
    tuesday = compliance.tally([flag(cancelled=True)])
    assert monday + tuesday == compliance.tally([flag(late=True), flag("white_car"), flag(cancelled=True)])
    assert compliance.total([monday, tuesday]) == monday + tuesday
    assert compliance.total([]) == Figures()


def test_as_dict_holds_the_contract_fields():
    data = compliance.tally([flag(late=True)]).as_dict()
    expected = {"orders", "by_level", *compliance.COUNTS, *compliance.RATES}
    assert set(data) == expected
    assert data["late_rate"] == 1.0
    assert data["by_level"]["taxi"] == 1


def test_by_level_refuses_an_unknown_level():
    with pytest.raises(ValueError, match="limousine"):
        Figures(orders=1, by_level={"limousine": 1})


def figures(orders: int, **counts) -> Figures:
    return Figures(orders=orders, by_level={"taxi": orders}, **counts)


@pytest.mark.parametrize(
    ("peers", "expected_late"),
    [
        pytest.param([], 0.0, id="nobody"),
        pytest.param([figures(0)], 0.0, id="peers without orders do not count"),
        pytest.param([figures(10, late=1)], 0.1, id="one peer"),
        pytest.param([figures(10, late=1), figures(10, late=3), figures(4, late=4)], 0.3, id="odd number"),
        pytest.param([figures(10, late=1), figures(10, late=3)], 0.2, id="even number: mean of the middle two"),
        pytest.param([figures(10, late=1), figures(0), figures(10, late=3)], 0.2, id="zero-order peer skipped"),
    ],
)
def test_peer_medians(peers, expected_late):
    medians = compliance.peer_medians(peers)
    assert set(medians) == set(compliance.RATES)
    assert medians["late_rate"] == pytest.approx(expected_late)


MEDIANS = dict.fromkeys(compliance.RATES, 0.0) | {"late_rate": 0.1, "returned_rate": 0.3}


@pytest.mark.parametrize(
    ("person", "reasons"),
    [
        pytest.param(figures(10, late=2), ["late_rate"], id="exactly twice the median"),
        pytest.param(figures(10, late=1), [], id="at the median"),
        pytest.param(figures(100, late=19), [], id="just under twice"),
        pytest.param(figures(9, late=9), [], id="too few orders"),
        pytest.param(figures(100, above_recommendation=9), [], id="median 0 but rate under 0.10"),
        pytest.param(figures(100, above_recommendation=10), ["above_recommendation_rate"], id="median 0, rate 0.10"),
        pytest.param(figures(10, returned=5), [], id="twice a high median is needed"),
        pytest.param(
            figures(10, late=3, cancelled=2, two_companions=1),
            ["late_rate", "cancelled_rate", "two_companions_rate"],
            id="several reasons in RATES order",
        ),
    ],
)
def test_outlier_rule(person, reasons):
    assert compliance.outlier_reasons(person, MEDIANS) == reasons


def test_a_lone_requisitioner_is_never_an_outlier():
    person = figures(50, late=50, returned=50)
    assert compliance.outlier_reasons(person, compliance.peer_medians([person])) == []
