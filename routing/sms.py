"""Patient SMS: the pickup message and pluggable backends chosen by ``settings.SMS_BACKEND``.

A backend gets an :class:`SmsMessage` and either returns or raises :class:`SmsError`. The phone number
and the text are personal data: backends never log them. ``summary`` is the part that may be logged.

- ``ConsoleBackend``: development; logs one line without number, name or address.
- ``HttpGatewayBackend``: POST ``{"to", "message"}`` as JSON to ``SMS_GATEWAY_URL`` with
  ``Authorization: Bearer SMS_GATEWAY_TOKEN``.
- ``MemoryBackend``: tests; keeps every message in ``MemoryBackend.outbox``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

HELPLINE = "05515"
WEEKDAYS_NB = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
DEFAULT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    requisition_id: int
    summary: str  # safe to log: no name, number or address


class SmsError(Exception):
    """Sending failed. ``transient``: worth retrying (network, 5xx, 429); otherwise give up."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


def pickup_text(pickup_at: dt.datetime, destination_street: str) -> str:
    """The patient's message in Norwegian bokmål, with the pickup in Oslo time."""
    local = timezone.localtime(pickup_at)
    when = f"{WEEKDAYS_NB[local.weekday()]} {local:%d.%m} kl {local:%H:%M}"
    return f"Pasientreiser: Du hentes {when} for reisen til {destination_street}. Spørsmål: ring {HELPLINE}."


def pickup_summary(pickup_at: dt.datetime) -> str:
    return f"pickup {timezone.localtime(pickup_at):%H:%M}"


class BaseBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, message: SmsMessage) -> None:
        logger.info("SMS to requisition %s patient: %s", message.requisition_id, message.summary)


class MemoryBackend(BaseBackend):
    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, message: SmsMessage) -> None:
        self.outbox.append(message)


class HttpGatewayBackend(BaseBackend):
    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.timeout = getattr(settings, "SMS_GATEWAY_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http(s) URL for routing.sms.HttpGatewayBackend")

    def send(self, message: SmsMessage) -> None:
        body = json.dumps({"to": message.to, "message": message.text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "beon-portal-sms/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                response.read(1024)
        except urllib.error.HTTPError as exc:
            transient = exc.code >= 500 or exc.code in (408, 429)
            raise SmsError(f"gateway answered HTTP {exc.code}", transient=transient) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"gateway unreachable: {type(reason).__name__}", transient=True) from None


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()
