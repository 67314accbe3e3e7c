"""Site pages: per-role home page and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from portal import roles
from portal.health import redis_status
from routing.health import routing_backlog


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user_roles = roles.roles_of(request.user)
    return render(request, "portal/home.html", {"user_roles": user_roles})


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and operators: 200 while the database answers, else 503; with the
    routing backlog (orders waiting to be routed, the oldest wait, failures)."""
    checks = {"database": "ok", "redis": redis_status()}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        checks["database"] = "unavailable"
    healthy = checks["database"] == "ok"
    status = "ok" if healthy and checks["redis"] == "ok" else ("degraded" if healthy else "down")
    backlog = routing_backlog() if healthy else {}
    return JsonResponse({"status": status, **checks, **backlog}, status=200 if healthy else 503)
