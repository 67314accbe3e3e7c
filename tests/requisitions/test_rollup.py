"""requisitions.rollup: the daily compliance roll-up follows every event and equals a recomputation.

Events only mark their requisition; the refresh (beat in production, ``rollup_flush`` here) recomputes.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requisitions import rollup, states
from requisitions.models import ComplianceDaily, ComplianceDirty, Requisition, RequisitionEvent
from requisitions.services import InputError, requisition_create
from requisitions.tasks import rebuild_compliance_rollup, refresh_compliance_rollup
from tests.requisitions.factories import advance, order, order_body, requisition_for

pytestmark = pytest.mark.django_db

UTC = dt.UTC


class Clock:
    """Stands in for django.utils.timezone.now (services, auto_now_add and routing all read it)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


# Monday 30 November 2026, 10:00 in Oslo (09:00Z).
START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(START)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def body(*, hours_ahead: float = 72, level: str | None = None, seed: int = 1, **answer_changes) -> dict:
    data = order_body(with_return=False, seed=seed)
    data["trips"][0]["appointment_at"] = (timezone.now() + dt.timedelta(hours=hours_ahead)).isoformat()
    data["answers"].update(answer_changes)
    if level:
        data.update(level=level, deviation_code="clinical_judgement", deviation_reason="Pasienten må ligge helt flatt.")
    return data


def place(user, *, requisitioner=None, **kwargs) -> Requisition:
    return requisition_for(user, requisitioner=requisitioner, body=body(**kwargs))


def rows_of(user) -> list[ComplianceDaily]:
    rollup.rollup_flush()
    return list(ComplianceDaily.objects.filter(requisitioner=user).order_by("day", "office_id"))


def assert_rollup_is_recomputation():
    rollup.rollup_flush()
    assert not ComplianceDirty.objects.exists()  # the refresh took every mark
    assert rollup.rollup_rows() == rollup.recomputed_rows()


def test_a_submitted_order_is_counted_on_its_oslo_day(clock, clinician):
    requisition = place(clinician)
    assert requisition.status == states.ROUTED
    [row] = rows_of(clinician)
    assert (row.day, row.unit_id, row.office_id) == (dt.date(2026, 11, 30), clinician.unit_id, requisition.office_id)
    assert (row.orders, row.level_taxi, row.late, row.cancelled) == (1, 1, 0, 0)
    assert_rollup_is_recomputation()


def test_the_day_is_the_oslo_date_not_the_utc_date(clock, clinician):
    clock.now = dt.datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 December in Oslo
    place(clinician)
    assert [row.day for row in rows_of(clinician)] == [dt.date(2026, 12, 1)]


def test_each_change_updates_the_counts(clock, clinician, office_worker):
    requisition = place(clinician, hours_ahead=4)  # after the cut-off: late
    above = place(clinician, level="white_car", seed=2)
    [row] = rows_of(clinician)
    assert (row.orders, row.late, row.above_recommendation, row.level_white_car) == (2, 1, 1, 1)

    advance(requisition, by=office_worker, to=states.RETURNED, note="Hvilken inngang?")
    [row] = rows_of(clinician)
    assert row.returned == 1

    advance(requisition, by=clinician, to=states.SUBMITTED)
    advance(above, by=clinician, to=states.CANCELLED, note="Timen er flyttet")
    [row] = rows_of(clinician)
    assert (row.orders, row.returned, row.cancelled, row.late_cancellations) == (2, 1, 1, 0)

    advance(requisition, by=office_worker, to=states.CANCELLED, note="Ingen bil ledig")
    [row] = rows_of(clinician)
    assert (row.cancelled, row.late_cancellations) == (2, 1)
    assert_rollup_is_recomputation()


def test_an_order_awaiting_attestation_is_not_counted_until_attested(clock, clinician, clerk):
    requisition = place(clerk, requisitioner=clinician)
    assert requisition.status == states.AWAITING_ATTESTATION
    assert rows_of(clinician) == []
    assert rows_of(clerk) == []
    clock.tick(days=1)
    advance(requisition, by=clinician, to=states.SUBMITTED)
    [row] = rows_of(clinician)
    assert (row.day, row.orders) == (dt.date(2026, 12, 1), 1)


def test_an_order_cancelled_before_attestation_is_never_counted(clock, clinician, clerk):
    requisition = place(clerk, requisitioner=clinician)
    advance(requisition, by=clerk, to=states.CANCELLED, note="Feil pasient")
    assert rows_of(clinician) == []
    assert_rollup_is_recomputation()


def test_a_resubmission_the_next_day_stays_on_the_first_day(clock, clinician, office_worker):
    clock.now = dt.datetime(2026, 11, 30, 22, 50, tzinfo=UTC)  # 23:50 Oslo
    requisition = place(clinician)
    advance(requisition, by=office_worker, to=states.RETURNED, note="Mangler etasje")
    clock.tick(hours=1)  # 00:50 the next day in Oslo
    advance(requisition, by=clinician, to=states.SUBMITTED)
    [row] = rows_of(clinician)
    assert (row.day, row.orders, row.returned) == (dt.date(2026, 11, 30), 1, 1)
    assert_rollup_is_recomputation()


def test_days_and_requisitioners_are_kept_apart(clock, clinician, ward_nurse):
    place(clinician)
    place(ward_nurse, seed=2)
    clock.tick(days=1)
    place(clinician, seed=3)
    place(clinician, seed=4)
    assert [(row.day, row.orders) for row in rows_of(clinician)] == [
        (dt.date(2026, 11, 30), 1),
        (dt.date(2026, 12, 1), 2),
    ]
    assert [row.unit_id for row in rows_of(ward_nurse)] == [ward_nurse.unit_id]
    assert_rollup_is_recomputation()


def test_the_rebuild_repairs_changes_made_without_an_event(clock, clinician):
    requisition = place(clinician)
    Requisition.objects.filter(pk=requisition.pk).update(late=True)  # no event: the roll-up cannot know
    ComplianceDaily.objects.create(requisitioner=clinician, unit=clinician.unit, day=dt.date(2020, 1, 1), orders=9)
    rollup.rollup_flush()
    assert rollup.rollup_rows() != rollup.recomputed_rows()
    assert rollup.rollup_rebuild() == 1
    assert_rollup_is_recomputation()
    assert rows_of(clinician)[0].late == 1


def test_the_nightly_task_is_safe_to_run_twice(clock, clinician, ward_nurse):
    place(clinician)
    place(ward_nurse, seed=2)
    ComplianceDaily.objects.all().delete()
    first = rebuild_compliance_rollup.apply().get()
    after_first = rollup.rollup_rows()
    second = rebuild_compliance_rollup.apply().get()
    assert first == second == 2
    assert rollup.rollup_rows() == after_first == rollup.recomputed_rows()
    assert json.loads(json.dumps(first)) == first  # JSON in and out


def test_a_failed_transition_leaves_the_rollup_as_it_was(clock, clinician, office_worker):
    requisition = place(clinician)
    rollup.rollup_flush()
    before = rollup.rollup_rows()
    with pytest.raises(InputError):
        advance(requisition, by=office_worker, to=states.RETURNED, note=" ")
    assert not ComplianceDirty.objects.exists()  # the mark rolled back with the change
    assert rollup.rollup_rows() == before


# --- upkeep off the writing path: marks, the after-commit refresh, the beat entry ---------------------


def test_an_event_only_marks_its_requisition_until_the_refresh(clock, clinician, office_worker):
    requisition = requisition_create(  # on-commit callbacks not run: no routing, no refresh
        order=order(body()), entered_by=clinician, requisitioner=clinician, unit=clinician.unit
    )
    assert list(ComplianceDirty.objects.values_list("requisition_id", flat=True)) == [requisition.pk]
    assert not ComplianceDaily.objects.exists()  # nothing recomputed in the writing transaction
    RequisitionEvent.objects.create(  # a second event of the same requisition: still one mark
        requisition=requisition, from_status=states.SUBMITTED, to_status=states.SUBMITTED, at=timezone.now()
    )
    assert ComplianceDirty.objects.count() == 1
    assert rollup.rollup_flush() == 1
    assert [(row.orders, row.office_id) for row in rows_of(clinician)] == [(1, None)]
    assert_rollup_is_recomputation()


def test_moves_that_change_no_figure_leave_no_mark(clock, clinician, office_worker):
    requisition = place(clinician)
    rollup.rollup_flush()
    with transaction.atomic():
        advance(requisition, by=office_worker, to=states.ACCEPTED)
        advance(requisition, by=office_worker, to=states.SCHEDULED)
        assert not ComplianceDirty.objects.exists()
    assert_rollup_is_recomputation()


def test_the_beat_task_takes_the_marks_of_a_committed_routing(clock, clinician):
    requisition = place(clinician)  # submitted and routed: both events marked the requisition
    assert list(ComplianceDirty.objects.values_list("requisition_id", flat=True)) == [requisition.pk]
    assert refresh_compliance_rollup.apply().get() == 1
    assert [(row.orders, row.office_id) for row in ComplianceDaily.objects.all()] == [(1, requisition.office_id)]
    assert_rollup_is_recomputation()


def test_the_refresh_is_safe_to_repeat_and_drops_marks_of_deleted_requisitions(clock, clinician, ward_nurse):
    kept = place(clinician)
    gone = place(ward_nurse, seed=2)
    ComplianceDaily.objects.all().delete()
    rollup.mark_dirty(kept.pk)
    rollup.mark_dirty(gone.pk)
    assert refresh_compliance_rollup.apply().get() == 2
    assert refresh_compliance_rollup.apply().get() == 0
    assert_rollup_is_recomputation()
    rollup.mark_dirty(gone.pk)
    Requisition.objects.filter(pk=gone.pk).delete()
    assert rollup.rollup_flush() == 1
    assert not ComplianceDirty.objects.exists()


def test_beat_refreshes_every_few_seconds_and_rebuilds_nightly():
    from django.conf import settings as django_settings

    tasks = {entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["requisitions.tasks.refresh_compliance_rollup"] == django_settings.ROLLUP_REFRESH_SECONDS <= 60
    assert "requisitions.tasks.rebuild_compliance_rollup" in tasks


# --- property: any sequence of service calls keeps the roll-up equal to a recomputation ---------------

PEOPLE = ("clinician", "ward_nurse", "clerk")
create_op = st.tuples(
    st.just("create"),
    st.sampled_from(PEOPLE),
    st.sampled_from([2, 20, 30, 75, 200]),  # hours ahead: some before the cut-off, some after
    st.sampled_from([None, "white_car"]),
    st.sampled_from([{}, {"companions": 2, "companion_reason": "To foreldre følger det syke barnet."}]),
)
advance_op = st.tuples(
    st.just("advance"),
    st.integers(min_value=0, max_value=20),
    st.sampled_from(
        [
            ("office", states.ACCEPTED),
            ("office", states.RETURNED),
            ("office", states.CANCELLED),
            ("office", states.SCHEDULED),
            ("office", states.COMPLETED),
            ("clinician", states.SUBMITTED),
            ("clinician", states.CANCELLED),
            ("clerk", states.CANCELLED),
        ]
    ),
)
tick_op = st.tuples(st.just("tick"), st.sampled_from([1, 5, 13, 30]))
operations = st.lists(st.one_of(create_op, advance_op, tick_op), min_size=1, max_size=10)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_any_sequence_of_changes_keeps_the_rollup_equal_to_a_recomputation(
    ops, clock, clinician, ward_nurse, clerk, office_worker
):
    users = {"clinician": clinician, "ward_nurse": ward_nurse, "clerk": clerk, "office": office_worker}
    clock.now = START
    with transaction.atomic():
        made: list[Requisition] = []
        for op in ops:
            if op[0] == "create":
                _, who, hours, level, extra = op
                user = users[who]
                made.append(
                    place(
                        user,
                        requisitioner=clinician if who == "clerk" else None,
                        hours_ahead=hours,
                        level=level,
                        seed=len(made),
                        **extra,
                    )
                )
            elif op[0] == "advance" and made:
                _, index, (who, target) = op
                requisition = made[index % len(made)]
                try:
                    advance(requisition, by=users[who], to=target)
                except (states.TransitionError, InputError):
                    pass  # refused: nothing changed, no event
            elif op[0] == "tick":
                clock.tick(hours=op[1])
            assert_rollup_is_recomputation()
        submitted = sum(1 for r in made if r.events.filter(to_status=states.SUBMITTED).exists())
        assert sum(row["orders"] for row in rollup.rollup_rows().values()) == submitted
        transaction.set_rollback(True)
