"""Strict readers for settings taken from the environment.

Every helper fails loudly: a malformed value stops start-up with an ``ImproperlyConfigured`` error that
names the variable, instead of silently falling back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ImproperlyConfigured):
    """A variable in the environment holds a value the portal cannot use."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"Environment variable {name}: {reason}")


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise EnvError(name, f"expected one of 1/0, true/false, yes/no, on/off, got {value!r}")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None, *, minimum: int = 0) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(name, f"expected a whole number, got {value!r}") from None
    if number < minimum:
        raise EnvError(name, f"must be at least {minimum}, got {number}")
    return number


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise EnvError(name, f"expected a comma-separated list without empty items, got {value!r}")
    return items


def env_url(name: str, default: str, *, schemes: set[str], environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ) or default
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise EnvError(name, f"expected a URL with scheme {allowed}, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise EnvError(name, f"the port in {value!r} is not a number") from None
    if parts.scheme != "sqlite" and not parts.hostname:
        raise EnvError(name, f"the URL {value!r} has no host")
    return value


def check_secret_key(key: str | None, *, debug: bool) -> None:
    """Refuse to run production with a missing, short or well-known secret key."""
    if debug:
        return
    if not key:
        raise EnvError("DJANGO_SECRET_KEY", "must be set when DJANGO_DEBUG is off")
    if key.startswith("django-insecure") or len(key) < 50 or len(set(key)) < 5:
        raise EnvError(
            "DJANGO_SECRET_KEY",
            "is insecure: use at least 50 random characters (e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`)",
        )
