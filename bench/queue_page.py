"""The office queue page with 10,000 open orders: response time p50/p95 and queries per request.

    bin/with-services --postgres -- .venv/bin/python bench/queue_page.py [--orders 10000] [--requests 60] [--strict]

Migrates the database it is given, loads the reference data, bulk-inserts the orders (routed to
PR-OUS, one outbound trip each, spread over 30 days) and requests `/kontor/` as an office worker,
both the full page and the htmx refresh the page polls with. Targets: p95 < 150 ms, at most 10 queries.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOW_SYNTHETIC_NATIONAL_IDS", "1")
os.environ.setdefault("AXES_ENABLED", "0")

P95_TARGET_MS = 150
QUERY_TARGET = 10


def setup(orders: int):
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from portal import roles
    from portal.models import Municipality, Office
    from portal.reference import load_reference_data
    from portal.services import portal_user_create, unit_get_or_create
    from requisitions.models import Patient, Requisition, RequisitionEvent, Trip
    from requisitions.national_id import synthetic_national_ids

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    load_reference_data()
    unit = unit_get_or_create(name="Bench legekontor", municipality_number="0301")
    clinician = portal_user_create(username="bench_gp", role=roles.REQUISITIONER, unit=unit)
    staff = portal_user_create(username="bench_staff", role=roles.OFFICE_STAFF, office_code="PR-OUS")
    office = Office.objects.get(code="PR-OUS")
    oslo = Municipality.objects.get(number="0301")
    if Requisition.objects.filter(office=office).count() < orders:
        ids = synthetic_national_ids(seed=7)
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    national_id=next(ids),
                    name=f"Pasient {n}",
                    phone="+4791234567",
                    street="Storgata 1",
                    postal_code="0150",
                    municipality=oslo,
                )
                for n in range(orders)
            ],
            batch_size=2000,
        )
        now = timezone.now()
        statuses = ["routed", "accepted", "scheduled"]
        requisitions = Requisition.objects.bulk_create(
            [
                Requisition(
                    patient=patient,
                    unit=unit,
                    requisitioner=clinician,
                    entered_by=clinician,
                    checklist_version="hso-2026.1",
                    answers={},
                    recommended_level="taxi",
                    level="taxi",
                    status=statuses[n % 3],
                    office=office,
                    late=n % 7 == 0,
                    first_trip_at=now + dt.timedelta(minutes=4 * n),
                    submitted_at=now,
                    routed_at=now,
                )
                for n, patient in enumerate(patients)
            ],
            batch_size=2000,
        )
        Trip.objects.bulk_create(
            [
                Trip(
                    requisition=r,
                    direction="outbound",
                    from_street="Storgata 1",
                    from_postal_code="0150",
                    from_municipality=oslo,
                    to_street="Kirkeveien 166",
                    to_postal_code="0450",
                    to_municipality=oslo,
                    appointment_at=r.first_trip_at,
                )
                for r in requisitions
            ],
            batch_size=2000,
        )
        RequisitionEvent.objects.bulk_create(
            [RequisitionEvent(requisition=r, action="routing.routed", to_status="routed") for r in requisitions],
            batch_size=2000,
        )
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return staff


def measure(client, path: str, requests: int, headers: dict) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, headers=headers)  # warm up
    timings = []
    queries = 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries = max(queries, len(captured))
    return timings, queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("warning: DATABASE_URL is not PostgreSQL; run under bin/with-services --postgres")
    started = time.perf_counter()
    staff = setup(args.orders)
    print(f"queue bench: {args.orders} open orders at PR-OUS (set-up {time.perf_counter() - started:.1f} s)")
    from django.test import Client

    client = Client()
    client.force_login(staff)
    ok = True
    for label, headers in (("full page", {}), ("htmx refresh", {"HX-Request": "true"})):
        timings, queries = measure(client, "/kontor/", args.requests, headers)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[18]
        passed = p95 < P95_TARGET_MS and queries <= QUERY_TARGET
        ok &= passed
        print(
            f"  {label:<13} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms (target < {P95_TARGET_MS}, "
            f"ratio {p95 / P95_TARGET_MS:.2f})  queries {queries} (target ≤ {QUERY_TARGET})  "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return 1 if (args.strict and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
