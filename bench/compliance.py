"""Compliance reads at scale: the daily roll-up against a naive aggregate over raw requisitions.

    bin/with-services --postgres -- .venv/bin/python bench/compliance.py [--rows N] [--days 365]
        [--requisitioners 2000] [--units 200] [--repeats 5] [--seed 2026] [--strict]

Sets Django up itself (portal.settings, DJANGO_DEBUG=1), migrates the PostgreSQL database in
DATABASE_URL and bulk-loads N requisitions (default 1,000,000) spread over the last ``--days`` days
with PostgreSQL COPY: patients, requisitions, one ``submitted`` event per order and a ``returned``
event for the returned ones. The ``ComplianceDaily`` roll-up is tallied while the rows are generated,
with the same pure rules the roll-up uses (``compliance.flags``), and COPYed too; a sample of
requisitioners is then checked against ``rollup.compute_rows`` so the two cannot drift apart.
Trips are not generated (neither timed read needs them).

Then it times, best and median of ``--repeats`` warm runs:

(a) the auditor's 90-day list per requisitioner with the peers' medians and outliers
    (``audit_selectors.requisitioner_rows``, the page /praksis/revisjon/ and the API list), and
(b) a requisitioner's own page figures: own, unit, peers' medians and the 12-week trend, own and unit
    (what /praksis/ reads),

each from the roll-up and as a naive aggregate over the raw rows (first submission from the events,
flags in SQL), and prints the figures, the ratios and PASS/FAIL against 300 ms with the roll-up
(median). The exit code is 0 unless --strict is given and a target is missed. A database that already
holds at least N requisitions is timed as it is (no second load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
os.environ["DJANGO_DEBUG"] = "1"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Exists, F, OuterRef, Q, Sum  # noqa: E402
from django.db.models.functions import TruncWeek  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal import roles  # noqa: E402
from portal.models import Municipality, Office, RequisitioningUnit, User  # noqa: E402
from portal.reference import load_reference_data  # noqa: E402
from requisitions import audit_selectors, compliance, rollup  # noqa: E402
from requisitions.beon import LEVELS  # noqa: E402
from requisitions.compliance_selectors import (  # noqa: E402
    Period,
    figures_of_requisitioner,
    figures_of_unit,
    figures_per_requisitioner,
    peer_medians_by_kind,
    peers_of_kind,
)
from requisitions.models import ComplianceDaily, Patient, Requisition, RequisitionEvent  # noqa: E402

TARGET_MS = 300.0
OSLO = ZoneInfo("Europe/Oslo")
DEFAULT_ROWS = 1_000_000
BATCH = 50_000

KINDS = [
    (RequisitioningUnit.Kind.GP_PRACTICE, 0.6),
    (RequisitioningUnit.Kind.WARD, 0.25),
    (RequisitioningUnit.Kind.NURSING_HOME, 0.1),
    (RequisitioningUnit.Kind.EMERGENCY, 0.05),
]
RECOMMENDED = [("taxi", 55), ("helseekspress", 10), ("wheelchair_taxi", 15), ("white_car", 12), ("ambulance", 8)]
STATUSES = [
    ("completed", 70),
    ("cancelled", 8),
    ("scheduled", 6),
    ("accepted", 4),
    ("routed", 4),
    ("returned", 3),
    ("no_show", 2),
    ("submitted", 1),
    ("routing_failed", 1),
    ("awaiting_attestation", 1),  # never submitted: in no figure
]


def say(message: str) -> None:
    print(message, flush=True)


def weighted(rng: random.Random, pairs: list[tuple[str, float]], n: int) -> list[str]:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=n)


def copy_rows(table: str, columns: list[str], rows) -> int:
    """COPY tab-separated rows (values already text; None is NULL) into ``table``."""
    count = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql) as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            count += 1
            if count % BATCH == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def reset_sequences(*models) -> None:
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


# --- loading ---------------------------------------------------------------------------------------------


def make_people(rng: random.Random, n_units: int, n_people: int) -> list[tuple[int, int, str]]:
    """Units and requisitioners (bulk); returns (requisitioner_id, unit_id, unit kind) per person."""
    oslo = Municipality.objects.filter(number="0301").first()
    kinds = weighted(rng, KINDS, n_units)
    units = RequisitioningUnit.objects.bulk_create(
        RequisitioningUnit(name=f"Bench unit {i:04d}", kind=kind, municipality=oslo, trust=oslo.trust if oslo else None)
        for i, kind in enumerate(kinds)
    )
    users = User.objects.bulk_create(
        User(
            username=f"bench{i:05d}",
            first_name="Bench",
            last_name=f"Rekvirent {i:05d}",
            unit=units[i % n_units],
            password="!",  # unusable
        )
        for i in range(n_people)
    )
    group, _ = roles_group()
    User.groups.through.objects.bulk_create(User.groups.through(user_id=u.pk, group_id=group.pk) for u in users)
    return [(u.pk, u.unit_id, u.unit.kind) for u in users]


def roles_group():
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=roles.REQUISITIONER)


def load(options, rng: random.Random) -> None:
    today = timezone.localdate()
    started = time.perf_counter()
    people = make_people(rng, options.units, options.requisitioners)
    offices = list(Office.objects.filter(kind=Office.Kind.PASIENTREISER).values_list("pk", "cut_off_time"))
    if not offices:
        raise SystemExit("no offices: load_reference_data found no Pasientreiser offices")
    unit_offices = {unit: rng.sample(offices, k=min(2, len(offices))) for _p, unit, _k in people}
    municipality = Municipality.objects.values_list("pk", flat=True).first()

    n_patients = max(1000, options.rows // 10)
    say(f"loading {n_patients:,} patients ...")
    now = timezone.now()
    copy_rows(
        Patient._meta.db_table,
        ["id", "national_id", "name", "phone", "street", "postal_code", "municipality_id", "updated_at"],
        ((i, f"{i:011d}", f"Bench Pasient {i}", "", "Benkveien 1", "0150", municipality, now.isoformat())
         for i in range(1, n_patients + 1)),
    )  # fmt: skip

    say(f"loading {options.rows:,} requisitions over {options.days} days, tallying the roll-up ...")
    default_cut = rollup.default_cut_off()
    tally: dict[tuple, list[int]] = defaultdict(lambda: [0] * (1 + len(LEVELS) + len(compliance.COUNTS)))
    level_index = {level: 1 + i for i, level in enumerate(LEVELS)}
    count_index = {name: 1 + len(LEVELS) + i for i, name in enumerate(compliance.COUNTS)}
    flag_of = {"late_cancellations": "late_cancellation"}
    events: list[tuple] = []
    span = options.days * 86400
    start = timezone.now() - dt.timedelta(days=options.days)

    def requisitions():
        person_picks = rng.choices(people, k=options.rows)
        recommended = weighted(rng, RECOMMENDED, options.rows)
        statuses = weighted(rng, STATUSES, options.rows)
        for i in range(options.rows):
            pk = i + 1
            person, unit, _kind = person_picks[i]
            submitted = start + dt.timedelta(seconds=rng.random() * span)
            first_trip = submitted + dt.timedelta(hours=2 + rng.random() * 24 * 14)
            rec = recommended[i]
            level = rec
            if rng.random() < 0.12 and rec != "ambulance":
                level = LEVELS[LEVELS.index(rec) + 1]
            status = statuses[i]
            office_id, cut_off = rng.choice(unit_offices[unit])
            routed = status not in ("submitted", "routing_failed", "awaiting_attestation")
            late = rng.random() < 0.1
            companions = 2 if rng.random() < 0.01 else 0
            updated = submitted + dt.timedelta(hours=1)
            if status == "cancelled":
                updated = first_trip - dt.timedelta(hours=rng.random() * 72)
            never_sent = status == "awaiting_attestation"
            yield (
                pk, 1 + (i % n_patients), unit, person, person, "bench", f'{{"companions": {companions}}}', rec, "[]",
                "[]", level, "clinical_judgement" if level != rec else "", "", "", status,
                office_id if routed else None, "t" if late else "f", "f", first_trip.isoformat(), "", "", "",
                submitted.isoformat(), None if never_sent else submitted.isoformat(),
                submitted.isoformat() if routed else None, updated.isoformat(),
            )  # fmt: skip
            if never_sent:
                continue
            events.append((pk, submitted.isoformat(), "requisition.submitted", "", "submitted"))
            if status == "returned":
                events.append((pk, updated.isoformat(), "requisition.returned", "routed", "returned"))
            flags = compliance.flags(
                compliance.Snapshot(
                    requisition_id=pk,
                    level=level,
                    recommended_level=rec,
                    first_trip_at=first_trip,
                    late=late,
                    cancelled_at=updated if status == "cancelled" else None,
                    times_returned=1 if status == "returned" else 0,
                    answers={"companions": companions},
                    cut_off=cut_off if routed else default_cut,
                )
            )
            counts = tally[(person, unit, office_id if routed else None, submitted.astimezone(OSLO).date())]
            counts[0] += 1
            counts[level_index[level]] += 1
            for name, index in count_index.items():
                counts[index] += bool(getattr(flags, flag_of.get(name, name)))

    columns = [
        "id", "patient_id", "unit_id", "requisitioner_id", "entered_by_id", "checklist_version", "answers",
        "recommended_level", "requirements", "reasons", "level", "deviation_code", "deviation_reason", "notes",
        "status", "office_id", "late", "same_day", "first_trip_at", "provider_note", "question", "cancel_reason",
        "created_at", "submitted_at", "routed_at", "updated_at",
    ]  # fmt: skip
    copy_rows(Requisition._meta.db_table, columns, requisitions())
    say(f"loading {len(events):,} events ...")
    copy_rows(
        RequisitionEvent._meta.db_table,
        ["requisition_id", "at", "action", "from_status", "to_status", "note"],
        ((*event, "") for event in events),
    )
    say(f"loading {len(tally):,} roll-up rows ...")
    fields = ["orders", *rollup.LEVEL_FIELDS.values(), *compliance.COUNTS]
    copy_rows(
        ComplianceDaily._meta.db_table,
        ["requisitioner_id", "unit_id", "office_id", "day", *fields, "updated_at"],
        ((person, unit, office, day.isoformat(), *counts, now.isoformat())
         for (person, unit, office, day), counts in tally.items()),
    )  # fmt: skip
    reset_sequences(Patient, Requisition, RequisitionEvent, ComplianceDaily)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(f"loaded in {time.perf_counter() - started:.0f} s (today is {today})")


def check_rollup_sample(rng: random.Random, n: int = 3) -> None:
    """The COPYed roll-up equals the roll-up's own recomputation for a few requisitioners."""
    people = list(ComplianceDaily.objects.values_list("requisitioner_id", flat=True).distinct()[:500])
    for person in rng.sample(people, k=min(n, len(people))):
        qs = rollup._with_events(Requisition.objects.filter(requisitioner_id=person))
        expected = {key: rollup.row_values(figures) for key, figures in rollup.compute_rows(qs).items()}
        stored = {
            (row["requisitioner_id"], (row["unit_id"], row["office_id"], row["day"])): {
                name: row[name] for name in rollup.SUM_FIELDS
            }
            for row in ComplianceDaily.objects.filter(requisitioner_id=person).values(
                "requisitioner_id", "unit_id", "office_id", "day", *rollup.SUM_FIELDS
            )
        }
        if stored != expected:
            raise SystemExit(f"roll-up sample mismatch for requisitioner {person}")
    say(f"roll-up sample: {n} requisitioners equal rollup.compute_rows over their raw rows")


# --- the timed reads ---------------------------------------------------------------------------------------


def _naive_orders(period: Period, *, for_aggregate: bool = False):
    """Raw requisitions first submitted in the period, with SQL flags (no roll-up)."""
    qs = audit_selectors.submitted_in(Requisition.objects.all(), period)
    return (qs.annotate if for_aggregate else qs.alias)(
        _lr=audit_selectors._rank("level"),
        _rr=audit_selectors._rank("recommended_level"),
        _returned=Exists(RequisitionEvent.objects.filter(requisition=OuterRef("pk"), to_status="returned")),
    )


NAIVE_COUNTS = {
    "orders": Count("pk"),
    **{f"level_{level}": Count("pk", filter=Q(level=level)) for level in LEVELS},
    "above_recommendation": Count("pk", filter=Q(_lr__gt=F("_rr"))),
    "late": Count("pk", filter=Q(late=True)),
    "cancelled": Count("pk", filter=Q(status="cancelled")),
    "returned": Count("pk", filter=Q(_returned=True)),
    "two_companions": Count("pk", filter=Q(answers__companions__gte=2)),
}


def naive_requisitioner_list(period: Period) -> list:
    rows = list(
        _naive_orders(period)
        .values("requisitioner_id", "unit_id", "unit__kind", "requisitioner__username")
        .annotate(**NAIVE_COUNTS)
        .order_by("requisitioner__username")
    )
    by_kind: dict[str, list] = defaultdict(list)
    for row in rows:
        by_kind[row["unit__kind"]].append(rollup.figures_from(row))
    medians = {kind: compliance.peer_medians(peers) for kind, peers in by_kind.items()}
    return [(row, compliance.outlier_reasons(rollup.figures_from(row), medians[row["unit__kind"]])) for row in rows]


def rollup_requisitioner_list(period: Period) -> list:
    return audit_selectors.requisitioner_rows(period)


def api_requisitioner_list(period: Period) -> list:
    """The same list through the API's two selectors (for comparison; not the page's path)."""
    medians = peer_medians_by_kind(period)
    return [
        (row, compliance.outlier_reasons(row.figures, medians.get(row.unit_kind, (0, {}))[1]))
        for row in figures_per_requisitioner(period)
    ]


def rollup_own_page(person: int, unit: RequisitioningUnit, period: Period) -> tuple:
    mine = figures_of_requisitioner(person, period)
    unit_figures = figures_of_unit(unit.pk, period)
    medians = compliance.peer_medians(peers_of_kind(unit.kind, period))
    trend = audit_selectors.trend_period(period.end)
    weeks = audit_selectors.figures_by_week(trend, requisitioner_id=person)
    unit_weeks = audit_selectors.figures_by_week(trend, unit_id=unit.pk)
    return mine, unit_figures, medians, weeks, unit_weeks


def naive_own_page(person: int, unit: RequisitioningUnit, period: Period) -> tuple:
    totals = _naive_orders(period, for_aggregate=True)
    mine = rollup.figures_from(totals.filter(requisitioner_id=person).aggregate(**NAIVE_COUNTS))
    unit_figures = rollup.figures_from(totals.filter(unit_id=unit.pk).aggregate(**NAIVE_COUNTS))
    orders = _naive_orders(period)
    peers = [
        rollup.figures_from(row)
        for row in orders.filter(unit__kind=unit.kind).values("requisitioner_id").annotate(**NAIVE_COUNTS).order_by()
    ]
    medians = compliance.peer_medians(peers)
    trend = _naive_orders(audit_selectors.trend_period(period.end))
    weekly = trend.annotate(week=TruncWeek("first_submitted", tzinfo=OSLO)).values("week")
    weeks = list(weekly.filter(requisitioner_id=person).annotate(**NAIVE_COUNTS).order_by("week"))
    unit_weeks = list(weekly.filter(unit_id=unit.pk).annotate(**NAIVE_COUNTS).order_by("week"))
    return mine, unit_figures, medians, weeks, unit_weeks


def timed(function, *args, repeats: int) -> tuple[float, float, object]:
    result = function(*args)  # warm-up (and the answer)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*args)
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"requisitions (default {DEFAULT_ROWS:,})")
    parser.add_argument("--days", type=int, default=365, help="spread over the last N days (default 365)")
    parser.add_argument("--requisitioners", type=int, default=2000, help="default 2000")
    parser.add_argument("--units", type=int, default=200, help="default 200")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs after a warm-up (default 5)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args(argv)

    if connection.vendor != "postgresql":
        raise SystemExit("bench/compliance.py needs PostgreSQL: run it under bin/with-services --postgres")
    rng = random.Random(options.seed)
    call_command("migrate", verbosity=0, interactive=False)
    existing = Requisition.objects.count()
    if existing >= options.rows:
        say(f"the database already holds {existing:,} requisitions: timing them as they are")
    elif existing:
        raise SystemExit(f"the database holds {existing:,} requisitions, fewer than --rows: give an empty one")
    else:
        load_reference_data()
        load(options, rng)
    check_rollup_sample(rng)

    period = Period.default()
    in_period = ComplianceDaily.objects.filter(day__gte=period.start, day__lte=period.end).aggregate(n=Sum("orders"))
    say(
        f"\n{Requisition.objects.count():,} requisitions, {ComplianceDaily.objects.count():,} roll-up rows; "
        f"{in_period['n'] or 0:,} orders in the 90 days {period.start} to {period.end}; "
        f"best and median of {options.repeats} warm runs\n"
    )

    # A requisitioner with a typical number of orders in the period.
    volumes = (
        ComplianceDaily.objects.filter(day__gte=period.start, day__lte=period.end)
        .values("requisitioner_id")
        .annotate(n=Sum("orders"))
        .order_by("n")
    )
    typical = list(volumes)[len(volumes) // 2]["requisitioner_id"]
    person = User.objects.select_related("unit").get(pk=typical)

    results = []
    for label, rolled, naive, args in (
        ("(a) auditor: 90-day list per requisitioner", rollup_requisitioner_list, naive_requisitioner_list, (period,)),
        ("(b) requisitioner: own page figures", rollup_own_page, naive_own_page, (person.pk, person.unit, period)),
    ):
        fast_best, fast_median, fast_result = timed(rolled, *args, repeats=options.repeats)
        slow_best, slow_median, slow_result = timed(naive, *args, repeats=options.repeats)
        passed = fast_median < TARGET_MS
        results.append(passed)
        say(label)
        if label.startswith("(a)"):
            outliers = sum(1 for row in fast_result if row.outlier)
            naive_outliers = sum(1 for _row, reasons in slow_result if reasons)
            say(
                f"  rows: {len(fast_result):,} (naive {len(slow_result):,}); outliers: {outliers} "
                f"(naive {naive_outliers}: its SQL cannot count late cancellations, which need the cut-off calendar)"
            )
            api_best, api_median, _ = timed(api_requisitioner_list, *args, repeats=options.repeats)
            say(f"  (the API's two roll-up selectors: best {api_best:.1f} ms, median {api_median:.1f} ms)")
        else:
            mine = fast_result[0]
            say(
                f"  {person.username} in {person.unit.name} ({person.unit.kind}): {mine.orders} orders, "
                f"above the recommendation {mine.above_recommendation}, late {mine.late}; "
                f"naive orders {slow_result[0].orders}"
            )
        say(f"  roll-up:        best {fast_best:8.1f} ms   median {fast_median:8.1f} ms")
        say(f"  naive raw rows: best {slow_best:8.1f} ms   median {slow_median:8.1f} ms")
        say(f"  ratio naive/roll-up (median): {slow_median / fast_median:6.1f}x")
        say(f"  target < {TARGET_MS:.0f} ms with the roll-up (median): {'PASS' if passed else 'FAIL'}\n")
    return 1 if options.strict and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
