"""Idempotency-Key on create: a repeat returns the first response; a concurrent duplicate gets 409."""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from requisitions.models import IdempotencyKey

MAX_KEY = 200


def _hash(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(request, handler) -> Response:
    """Run ``handler()`` once per (user, Idempotency-Key); replay its response for repeats."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return handler()
    if len(key) > MAX_KEY:
        return Response({"Idempotency-Key": [_("At most %d characters.") % MAX_KEY]}, status=400)
    digest = _hash(request.data)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(user=request.user, key=key, request_hash=digest)
    except IntegrityError:
        existing = IdempotencyKey.objects.get(user=request.user, key=key)
        if existing.request_hash != digest:
            return Response(
                {"Idempotency-Key": [_("This key was used for a different request.")]},
                status=status.HTTP_409_CONFLICT,
            )
        if existing.status_code is None:
            return Response(
                {"Idempotency-Key": [_("A request with this key is still being processed.")]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(existing.response, status=existing.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        response = handler()
    except BaseException:
        record.delete()
        raise
    if response.status_code >= 500:
        record.delete()
    else:
        record.status_code = response.status_code
        record.response = response.data
        record.save(update_fields=["status_code", "response"])
    return response
