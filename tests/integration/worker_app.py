"""The Celery app as the integration tests' worker runs it: ``celery -A tests.integration.worker_app worker``.

It is the real ``portal.celery.app`` with test-only knobs taken from the environment, so production code
carries no test hooks:

- ``TEST_BROKER_VISIBILITY_TIMEOUT``: seconds before Redis hands an unacknowledged task to another worker
  (production: an hour), with the restore sweep run every second so redelivery is quick.
- ``TEST_DELIVERY_RETRY_BASE_SECONDS``: the first webhook/SMS retry delay (production: 30 s).
- ``TEST_ROUTING_PAUSE_SECONDS`` + ``TEST_ROUTING_PAUSE_MARKER``: the first routing task to create the
  marker file stops for that long *inside* its transaction, after routing and before commit, and logs
  ``ROUTING-PAUSE pid=<pid> requisition=<id>`` so a test can kill that process mid-task.
"""

from __future__ import annotations

import os
import time

import django

from portal.celery import app

if os.environ.get("TEST_BROKER_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "visibility_timeout": float(os.environ["TEST_BROKER_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

import routing.tasks  # noqa: E402

if os.environ.get("TEST_DELIVERY_RETRY_BASE_SECONDS"):
    settings.DELIVERY_RETRY_BASE_SECONDS = float(os.environ["TEST_DELIVERY_RETRY_BASE_SECONDS"])

_route = routing.tasks.requisition_route


def _first_to_pause() -> bool:
    marker = os.environ.get("TEST_ROUTING_PAUSE_MARKER")
    if not marker or not os.environ.get("TEST_ROUTING_PAUSE_SECONDS"):
        return False
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _route_with_pause(*, requisition_id: int, now=None):
    with transaction.atomic():
        result = _route(requisition_id=requisition_id, now=now)
        if _first_to_pause():
            print(f"ROUTING-PAUSE pid={os.getpid()} requisition={requisition_id}", flush=True)
            time.sleep(float(os.environ["TEST_ROUTING_PAUSE_SECONDS"]))
    return result


routing.tasks.requisition_route = _route_with_pause
