"""Integration fixtures: real PostgreSQL and Redis (from bin/with-services) and real Celery workers.

Workers are ``celery -A tests.integration.worker_app worker`` subprocesses (the real app plus test knobs,
see worker_app.py) pointed at pytest-django's test database. Tests use ``transactional_db`` so what
they write is committed and visible to the worker. Every worker runs in its own process group and is
killed in teardown, whatever the test did.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from portal.celery import app
from tests.routing.test_delivery import HttpStub

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def pytest_collection_modifyitems(config, items):
    """Without the services, say how to get them instead of failing on connection errors."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")) and os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: bin/with-services --postgres --redis -- …")
    for item in items:
        if "/tests/integration/" in str(item.path):
            item.add_marker(skip)


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll until ``predicate()`` is truthy; return its value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Worker:
    def __init__(self, name: str, log: Path, env: dict[str, str], concurrency: int, queue: str) -> None:
        self.name, self.log = name, log
        self.out = log.open("w")
        self.proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "tests.integration.worker_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{name}@%h",
                "--queues",
                queue,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown kills the pool children too
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, pattern: str, *, timeout: float = 20) -> re.Match:
        def found():
            if self.proc.poll() is not None:
                pytest.fail(f"worker {self.name} exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
            return re.search(pattern, self.text())

        try:
            return wait_for(found, timeout=timeout, what=f"/{pattern}/ in worker {self.name}'s log")
        except pytest.fail.Exception as exc:
            raise pytest.fail.Exception(f"{exc}; the log ends:\n{self.text()[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its pool children)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.out.close()


def _worker_env(extra: dict[str, str]) -> dict[str, str]:
    database = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(database._replace(path="/" + connection.settings_dict["NAME"]))
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,  # the tests' own
        "DATABASE_URL": test_database,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_SKIP_CHECKS": "1",
        "LOG_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture
def worker_env(django_db_setup) -> dict[str, str]:
    """The environment a worker (or any subprocess) needs to use the test database and Redis."""
    return _worker_env({})


@pytest.fixture(scope="session")
def start_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Callable[..., Worker]]:
    """Start a worker and wait until it consumes; all are killed at the end of the session at the latest."""
    started: list[Worker] = []
    logs = tmp_path_factory.mktemp("workers")

    def start(
        name: str, *, concurrency: int = 2, queue: str = "celery", env: dict[str, str] | None = None, ready: bool = True
    ) -> Worker:
        with django_db_blocker.unblock():
            log = logs / f"{name}-{len(started)}.log"
            worker = Worker(name, log, _worker_env(env or {}), concurrency, queue)
        started.append(worker)
        if ready:
            worker.wait_for_log(rf"{name}@\S+ ready\.")
        return worker

    yield start
    for worker in started:
        worker.kill()


WEBHOOK_SECRET = "integration-signing-secret"


@pytest.fixture(scope="session")
def http_stub_server() -> Iterator[HttpStub]:
    """One local HTTP server for the session: the offices' systems and the SMS gateway."""
    stub = HttpStub()
    yield stub
    stub.close()


@pytest.fixture
def http_stub(http_stub_server) -> HttpStub:
    http_stub_server.requests.clear()
    http_stub_server.responses.clear()
    return http_stub_server


@pytest.fixture(scope="session")
def worker(start_worker, http_stub_server) -> Worker:
    """The shared worker: two pool processes, as in production, with the SMS gateway and the webhook
    secret pointing at the test's stub, and quick delivery retries."""
    return start_worker(
        "shared",
        env={
            "SMS_BACKEND": "routing.sms.HttpGatewayBackend",
            "SMS_GATEWAY_URL": http_stub_server.url.replace("/hook", "/sms"),
            "SMS_GATEWAY_TOKEN": "integration-gateway-token",
            "WEBHOOK_SIGNING_SECRET": WEBHOOK_SECRET,
            "TEST_DELIVERY_RETRY_BASE_SECONDS": "0.3",
        },
    )


@pytest.fixture
def own_worker(start_worker) -> Iterator[Callable[..., Worker]]:
    """Workers for one test only (to be killed or configured), killed when the test ends. Give them their
    own ``queue`` so the shared worker, if running, does not take their tasks."""
    mine: list[Worker] = []

    def start(name: str, **kwargs) -> Worker:
        started = start_worker(name, **kwargs)
        mine.append(started)
        return started

    yield start
    for started in mine:
        started.kill()


@pytest.fixture(autouse=True)
def real_broker() -> Iterator[None]:
    """The test process publishes to Redis instead of running tasks in-process."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager
