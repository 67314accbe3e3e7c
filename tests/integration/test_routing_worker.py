"""Routing with a real worker on PostgreSQL and Redis: submit → routed, Redis down at submit, a task
delivered twice, a worker killed mid-task."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from portal.celery import app
from requisitions.models import Requisition, RequisitionEvent
from requisitions.services import requisition_create
from routing import tasks
from routing.health import routing_backlog
from tests.conftest import api_client_for
from tests.integration.conftest import ROOT, wait_for
from tests.requisitions.factories import order, order_body, reference_data  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

ROUTED_WITHIN = 10  # seconds; in practice well under one


def status_of(pk: int) -> str:
    return Requisition.objects.values_list("status", flat=True).get(pk=pk)


def wait_until_routed(pk: int, *, timeout: float = ROUTED_WITHIN) -> None:
    wait_for(lambda: status_of(pk) != "submitted", timeout=timeout, what=f"requisition {pk} to be routed")
    assert status_of(pk) == "routed"


def routing_events(pk: int) -> list[str]:
    return list(
        RequisitionEvent.objects.filter(requisition_id=pk, action__startswith="routing.").values_list(
            "action", flat=True
        )
    )


def submit(user, **kwargs) -> Requisition:
    return requisition_create(order=order(**kwargs), entered_by=user, requisitioner=user, unit=user.unit)


def test_an_order_submitted_through_the_api_is_routed_by_the_worker(worker, clinician):
    started = time.monotonic()
    response = api_client_for(clinician).post("/api/v1/requisitions/", order_body(), format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    wait_until_routed(pk)
    assert time.monotonic() - started < ROUTED_WITHIN
    requisition = Requisition.objects.select_related("office").get(pk=pk)
    assert requisition.office.code == "PR-OUS"
    assert routing_events(pk) == ["routing.routed"]


# --- Redis down at submit ----------------------------------------------------------------------------


def redis_port() -> int:
    return urlsplit(os.environ["REDIS_URL"]).port


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-u", os.environ["REDIS_URL"], "shutdown", "nosave"], capture_output=True, timeout=10)
    wait_for(lambda: not redis_answers(), timeout=10, what="Redis to stop")


def redis_answers() -> bool:
    result = subprocess.run(
        ["redis-cli", "-u", os.environ["REDIS_URL"], "ping"], capture_output=True, text=True, timeout=10
    )
    return result.stdout.strip() == "PONG"


def start_redis(workdir) -> None:
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    subprocess.run(
        [
            binary,
            "--port",
            str(redis_port()),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--dir",
            str(workdir),
            "--pidfile",
            str(workdir / "redis.pid"),
            "--logfile",
            str(workdir / "redis.log"),
        ],  # fmt: skip
        check=True,
        timeout=10,
    )
    wait_for(redis_answers, timeout=10, what="Redis to answer again")


@pytest.fixture
def redis_outage(tmp_path):
    """Stop Redis for the test; it is running again afterwards whatever happened."""
    stop_redis()
    restart = {"done": False}

    def restore() -> None:
        if not restart["done"]:
            start_redis(tmp_path)
            restart["done"] = True

    yield restore
    if not redis_answers():
        start_redis(tmp_path)


def worker_consumes() -> bool:
    """The worker answers a ping: it is connected to the broker again and has declared its queue."""
    try:
        return bool(app.control.ping(timeout=0.5))
    except Exception:  # noqa: BLE001 - the broker may still be coming back
        return False


def test_an_order_submitted_while_redis_is_down_is_saved_at_once_and_routed_by_the_sweeper(
    worker, clinician, redis_outage, caplog
):
    client = api_client_for(clinician)
    started = time.monotonic()
    response = client.post("/api/v1/requisitions/", order_body(), format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 3, f"the API hung for {elapsed:.1f} s with Redis down"
    pk = response.json()["id"]
    assert response.json()["status"] == "submitted"
    assert "route_requisition.delay" in caplog.text  # the broker error is logged, not raised
    assert routing_backlog()["unrouted"] == 1

    redis_outage()
    wait_for(worker_consumes, timeout=30, what="the worker to reconnect to Redis")
    assert status_of(pk) == "submitted"  # the lost message is not magically back
    assert tasks.sweep_unrouted.apply(kwargs={"older_than_seconds": 0}).get() == 1
    wait_until_routed(pk)
    assert routing_events(pk) == ["routing.routed"]
    assert routing_backlog()["unrouted"] == 0


SUBMIT_ONCE = """
import json, time, django
django.setup()
from portal.models import User
from requisitions.services import requisition_create
from tests.requisitions.factories import order
user = User.objects.select_related("unit").get(username="lege")
started = time.monotonic()
requisition = requisition_create(order=order(seed=7), entered_by=user, requisitioner=user, unit=user.unit)
print(json.dumps({"elapsed": time.monotonic() - started, "id": requisition.pk}))
"""


def test_submitting_does_not_hang_when_redis_accepts_connections_but_never_answers(clinician, worker_env):
    """A hung Redis (overloaded, half-open connection) costs at most socket_timeout per publish attempt."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        env = {**worker_env, "REDIS_URL": f"redis://127.0.0.1:{silent.getsockname()[1]}/0"}
        result = subprocess.run(
            [sys.executable, "-c", SUBMIT_ONCE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    finally:
        silent.close()
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    attempts = 1 + settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"]
    assert outcome["elapsed"] < attempts * options["socket_timeout"] + 1
    assert status_of(outcome["id"]) == "submitted"  # saved; the sweeper routes it once Redis answers
    assert "Timeout reading from socket" in result.stderr  # logged by the robust on_commit


# --- at-least-once delivery --------------------------------------------------------------------------


def test_a_task_delivered_twice_routes_once(worker, clinician):
    requisition = submit(clinician)  # commits: the receiver enqueues one task
    copies = [tasks.route_requisition.delay(requisition.pk).id for _ in range(3)]  # as redelivery or a sweep would
    wait_until_routed(requisition.pk)
    wait_for(
        lambda: all(re.search(rf"route_requisition\[{task_id}\] succeeded", worker.text()) for task_id in copies),
        timeout=10,
        what="every copy of the task to have run",
    )
    assert routing_events(requisition.pk) == ["routing.routed"]


def submit_unqueued(user, monkeypatch) -> Requisition:
    """Submit without the routing task on the default queue (the shared worker would take it)."""
    with monkeypatch.context() as patch:
        patch.setattr("routing.receivers.enqueue_after_commit", lambda *args: None)
        return submit(user)


def pause_env(tmp_path, seconds: float = 30) -> dict[str, str]:
    return {"TEST_ROUTING_PAUSE_SECONDS": str(seconds), "TEST_ROUTING_PAUSE_MARKER": str(tmp_path / "paused")}


def test_a_pool_process_killed_mid_task_is_redelivered_and_routes_once(own_worker, clinician, tmp_path, monkeypatch):
    """acks_late + reject_on_worker_lost: the main process re-queues the task of a child that died."""
    lone = own_worker("killchild", concurrency=1, queue="killchild", env=pause_env(tmp_path))
    requisition = submit_unqueued(clinician, monkeypatch)
    tasks.route_requisition.apply_async((requisition.pk,), queue="killchild")
    paused = lone.wait_for_log(rf"ROUTING-PAUSE pid=(\d+) requisition={requisition.pk}\b")
    assert status_of(requisition.pk) == "submitted"  # routed inside the open transaction, not committed
    os.kill(int(paused.group(1)), signal.SIGKILL)
    wait_until_routed(requisition.pk, timeout=20)
    assert routing_events(requisition.pk) == ["routing.routed"]
    assert "WorkerLostError" in lone.text() or "SIGKILL" in lone.text()


def test_a_worker_killed_mid_task_leaves_the_task_to_the_next_worker(own_worker, clinician, tmp_path, monkeypatch):
    """The whole worker dies (no chance to re-queue): Redis hands the unacknowledged task to another
    worker after the visibility timeout (2 s here, an hour in production), which routes it once."""
    doomed = own_worker("doomed", concurrency=1, queue="killworker", env=pause_env(tmp_path))
    requisition = submit_unqueued(clinician, monkeypatch)
    tasks.route_requisition.apply_async((requisition.pk,), queue="killworker")
    doomed.wait_for_log(rf"ROUTING-PAUSE pid=\d+ requisition={requisition.pk}\b")
    doomed.kill()
    # PostgreSQL rolls the dead worker's transaction back; the order is still submitted.
    wait_for(lambda: not locked(requisition.pk), timeout=10, what="the dead worker's row lock to go")
    assert status_of(requisition.pk) == "submitted"
    own_worker("heir", concurrency=1, queue="killworker", env={"TEST_BROKER_VISIBILITY_TIMEOUT": "2"})
    wait_until_routed(requisition.pk, timeout=20)
    assert routing_events(requisition.pk) == ["routing.routed"]


def locked(pk: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND l.pid <> pg_backend_pid() AND l.granted AND l.mode = 'RowShareLock'",
            [Requisition._meta.db_table],
        )
        return cursor.fetchone()[0] > 0
