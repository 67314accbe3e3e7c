from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unavailable",
        "unrouted": 0,
        "oldest_unrouted_seconds": 0,
        "routing_failed": 0,
        "webhook_deliveries_failed": 0,
    }
