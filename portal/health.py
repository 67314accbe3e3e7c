from __future__ import annotations

import redis
from django.conf import settings


def redis_status() -> str:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        client.ping()
    except redis.RedisError:
        return "unavailable"
    return "ok"
