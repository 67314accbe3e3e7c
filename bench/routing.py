"""Routing throughput and latency with a real worker: orders submitted through the service, routed by Celery.

    bin/with-services --postgres --redis -- .venv/bin/python bench/routing.py [--orders 2000]
        [--requisitioners 100] [--submitters 2] [--concurrency 2] [--strict]

Migrates the database it is given (a throwaway one from bin/with-services) and loads the reference
data. Orders go through ``requisition_create`` from ``--submitters`` processes; each enqueues its
routing task on commit, as in production. Two phases of ``--orders`` each:

1. capacity: the orders are submitted first (their tasks wait in Redis), then ``celery -A portal worker``
   with ``--concurrency`` pool processes starts and drains them; routed per second =
   orders / (last routed_at − first routed_at). Target ≥ 200/s.
2. latency: with the worker running, the orders are submitted as fast as the submitters go; per order
   submit → routed = routed_at − submitted_at, p50 / p95 / max. Target p95 < 1 s.

Prints the figures and PASS/FAIL; exits 0 either way unless --strict. Orders spread over
``--requisitioners`` clinicians in units in Oslo, Drammen and Porsgrunn, so they go to several offices.
To compare configurations, ``DJANGO_SETTINGS_MODULE`` and ``BENCH_CELERY_APP`` (the ``-A`` module,
default ``portal``) may be set; both processes get the same environment.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
os.environ.setdefault("ALLOW_SYNTHETIC_NATIONAL_IDS", "1")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")

TARGET_RATE = 200.0  # routed orders per second
TARGET_P95 = 1.0  # seconds from submit to routed
UNITS = (("Bench legekontor Oslo", "0301", "0450"), ("Bench legekontor Drammen", "3301", "3001"),
         ("Bench legekontor Porsgrunn", "4001", "3901"))  # fmt: skip
ANSWERS = {
    "acute_symptoms": False,
    "can_travel_independently": False,
    "needs_monitoring": False,
    "needs_medical_equipment": False,
    "must_lie_down": False,
    "mobility": "walks_unaided",
    "reduced_orientation": True,
}


def setup_django() -> None:
    import django

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("bench/routing.py needs PostgreSQL and Redis: bin/with-services --postgres --redis -- …")
    django.setup()


def prepare(requisitioners: int) -> list[int]:
    """Schema, reference data and the clinicians (idempotent); returns the clinicians' ids."""
    from django.core.management import call_command

    from portal import roles
    from portal.reference import load_reference_data
    from portal.services import portal_user_create, unit_get_or_create

    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data()
    units = [unit_get_or_create(name=name, municipality_number=number) for name, number, _postal in UNITS]
    users = [
        portal_user_create(
            username=f"bench{index:04d}", role=roles.REQUISITIONER, unit=units[index % len(units)], hpr_number="1234567"
        )
        for index in range(requisitioners)
    ]
    return [user.pk for user in users]


def build_order(seed: int, unit_index: int, run: str):
    import datetime as dt

    from django.utils import timezone

    from portal.models import Municipality
    from requisitions.national_id import make_synthetic_national_id
    from requisitions.services import Address, Order, PatientInput, TripInput

    _name, number, postal = UNITS[unit_index]
    municipality = Municipality.objects.get(number=number)
    home = Address(street="Hjemmeveien 1", postal_code=postal, municipality=municipality)
    clinic = Address(street="Sykehusveien 2", postal_code=postal, municipality=municipality)
    day = timezone.localtime(timezone.now() + dt.timedelta(days=14 + seed % 30))
    appointment = day.replace(hour=8 + seed % 8, minute=0, second=0, microsecond=0)
    return Order(
        patient=PatientInput(
            national_id=make_synthetic_national_id(100_000 + seed),
            name="Bench Pasient",
            phone="+4791234567",
            address=home,
        ),
        answers=dict(ANSWERS),
        trips=[TripInput(direction="outbound", origin=home, destination=clinic, appointment_at=appointment)],
        notes=run,
    )


def submitter(user_ids: list[int], seeds: list[int], run: str, start_at: float, interval: float = 0.0) -> None:
    """One submitting process: its own database connection, orders through the real service."""
    from django.db import connections

    from portal.models import User
    from requisitions.services import requisition_create

    connections.close_all()
    users = {user.pk: user for user in User.objects.select_related("unit").filter(pk__in=user_ids)}
    unit_index = {name: index for index, (name, _n, _p) in enumerate(UNITS)}
    work = []
    for seed in seeds:
        user = users[user_ids[seed % len(user_ids)]]
        work.append((user, build_order(seed, unit_index[user.unit.name], run)))
    time.sleep(max(0.0, start_at - time.time()))
    for index, (user, order) in enumerate(work):
        if interval:  # paced: this process offers one order every `interval` seconds
            time.sleep(max(0.0, start_at + index * interval - time.time()))
        requisition_create(order=order, entered_by=user, requisitioner=user, unit=user.unit)
    connections.close_all()


def start_worker(concurrency: int, log: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    argv = [celery, "-A", os.environ.get("BENCH_CELERY_APP", "portal"), "worker", "--concurrency", str(concurrency), "--loglevel", "WARNING",
            "--hostname", "bench@%h", "--without-gossip", "--without-mingle"]  # fmt: skip
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "CELERY_SKIP_CHECKS": "1", "PYTHONPATH": path}
    with log.open("w") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(worker: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    from portal.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit(f"the worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return
    sys.exit(f"the worker did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def wait_routed(run: str, orders: int, timeout: float) -> int:
    from requisitions.models import Requisition

    deadline = time.monotonic() + timeout
    while True:
        left = Requisition.objects.filter(notes=run, status="submitted").count()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def submit_all(options, user_ids: list[int], run: str) -> float:
    """Submit the orders from the submitter processes, all starting together; returns the wall time."""
    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 1.0 + 0.2 * options.submitters  # time to build the orders first
    shares = [list(range(i, options.orders, options.submitters)) for i in range(options.submitters)]
    rate = getattr(options, "rate", 0)
    interval = options.submitters / rate if rate else 0.0
    procs = [context.Process(target=submitter, args=(user_ids, share, run, start_at, interval)) for share in shares]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
        if proc.exitcode:
            sys.exit(f"a submitter failed with exit code {proc.exitcode}")
    return time.time() - start_at


def measure(run: str) -> dict:
    """Figures for one run of orders, from the timestamps the services wrote."""
    from requisitions.models import Requisition

    rows = list(Requisition.objects.filter(notes=run).values_list("status", "submitted_at", "routed_at"))
    routed = [(sub, rout) for status, sub, rout in rows if status == "routed"]
    latencies = [(rout - sub).total_seconds() for sub, rout in routed]
    submitted = [sub for _status, sub, _rout in rows]
    done = [rout for _sub, rout in routed]

    def span(times) -> float:
        return (max(times) - min(times)).total_seconds() if len(times) > 1 else float("nan")

    return {
        "orders": len(rows),
        "routed": len(routed),
        "submit_rate": len(rows) / span(submitted),
        "drain_rate": len(routed) / span(done),
        "end_to_end_rate": len(routed) / (max(done) - min(submitted)).total_seconds() if routed else 0.0,
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "max": max(latencies, default=float("nan")),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders per phase (default 2000)")
    parser.add_argument("--requisitioners", type=int, default=100)
    parser.add_argument("--submitters", type=int, default=2, help="submitting processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes (default 2)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for routing")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RATE,
        help="orders per second offered in the latency phase (default: the 200/s target; 0: as fast as possible)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args(argv)

    setup_django()
    from portal.celery import app

    user_ids = prepare(options.requisitioners)
    app.control.purge()
    log = Path(tempfile.mkdtemp(prefix="bench-routing-")) / "worker.log"

    # Phase 1, capacity: the orders are submitted (their tasks wait in Redis), then the worker drains them.
    backlog = f"bench-backlog-{secrets.token_hex(4)}"
    submit_all(argparse.Namespace(**{**vars(options), "rate": 0}), user_ids, backlog)
    worker = start_worker(options.concurrency, log)
    try:
        wait_ready(worker, log)
        if left := wait_routed(backlog, options.orders, options.timeout):
            print(f"capacity phase: {left} orders still submitted after {options.timeout} s; worker log: {log}")
        # Phase 2, latency: the worker runs while the orders are submitted at --rate (the target load).
        warm = f"bench-warmup-{secrets.token_hex(4)}"
        submit_all(argparse.Namespace(**{**vars(options), "orders": options.warmup, "rate": 0}), user_ids, warm)
        wait_routed(warm, options.warmup, 60)
        live = f"bench-live-{secrets.token_hex(4)}"
        submit_all(options, user_ids, live)
        if left := wait_routed(live, options.orders, options.timeout):
            print(f"latency phase: {left} orders still submitted after {options.timeout} s; worker log: {log}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()

    capacity, latency = measure(backlog), measure(live)
    rate_ok = capacity["drain_rate"] >= TARGET_RATE and capacity["routed"] == options.orders
    p95_ok = latency["p95"] < TARGET_P95 and latency["routed"] == options.orders
    print(
        f"routing bench: {options.orders:,} orders per phase from {options.requisitioners} requisitioners, "
        f"{options.submitters} submitting processes, worker with {options.concurrency} pool processes, "
        f"{os.cpu_count()} CPUs shared by all (PostgreSQL and Redis too)"
    )
    print("capacity (orders queued first, then drained by the worker):")
    print(f"  routed:                {capacity['routed']:8,d} of {capacity['orders']:,}")
    print(f"  routed per second:     {capacity['drain_rate']:8.1f}   target >= {TARGET_RATE:.0f}: {verdict(rate_ok)}")
    print("latency (worker running while the orders are submitted):")
    print(f"  routed:                {latency['routed']:8,d} of {latency['orders']:,}")
    print(f"  submitted per second:  {latency['submit_rate']:8.1f}   (the offered load)")
    print(f"  routed per second:     {latency['end_to_end_rate']:8.1f}   (first submit to last routed)")
    print(f"  submit->routed p50:    {latency['p50'] * 1000:8.0f} ms")
    print(
        f"  submit->routed p95:    {latency['p95'] * 1000:8.0f} ms  target < {TARGET_P95 * 1000:.0f} ms: "
        f"{verdict(p95_ok)}"
    )
    print(f"  submit->routed max:    {latency['max'] * 1000:8.0f} ms")
    print(f"overall: {verdict(rate_ok and p95_ok)}")
    return 1 if options.strict and not (rate_ok and p95_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
