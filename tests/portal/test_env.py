"""Settings helpers fail loudly, naming the variable; production refuses an insecure start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.env import EnvError, check_secret_key, env_bool, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "a-Very-l0ng-and-random-secret-key-for-testing-purposes-only-9f8e7d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
        (None, True),
        ("", True),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw, expected):
    environ = {} if raw is None else {"FLAG": raw}
    assert env_bool("FLAG", True, environ) is expected


@pytest.mark.parametrize(
    ("helper", "raw"),
    [
        (lambda env: env_bool("FLAG", False, env), "maybe"),
        (lambda env: env_int("FLAG", 1, env), "ten"),
        (lambda env: env_int("FLAG", 1, env), "-3"),
        (lambda env: env_list("FLAG", [], env), "a,,b"),
        (lambda env: env_url("FLAG", "redis://x", schemes={"redis"}, environ=env), "http://x"),
        (lambda env: env_url("FLAG", "redis://x", schemes={"redis"}, environ=env), "redis://host:port/0"),
        (lambda env: env_url("FLAG", "redis://x", schemes={"redis"}, environ=env), "redis://"),
    ],
)
def test_a_malformed_value_names_the_variable(helper, raw):
    with pytest.raises(EnvError, match="FLAG"):
        helper({"FLAG": raw})


def test_env_list_splits_and_strips():
    assert env_list("HOSTS", [], {"HOSTS": "a.no, b.no"}) == ["a.no", "b.no"]


@pytest.mark.parametrize("key", [None, "", "short", "django-insecure-" + "x" * 60, "ab" * 40])
def test_production_refuses_an_insecure_secret_key(key):
    with pytest.raises(EnvError, match="DJANGO_SECRET_KEY"):
        check_secret_key(key, debug=False)


def test_debug_accepts_any_secret_key():
    check_secret_key("", debug=True)
    check_secret_key(GOOD_KEY, debug=False)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    environ.update(env, DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "perhaps"),
        ("DATABASE_URL", "mysql://x/y"),
        ("REDIS_URL", "localhost:6379"),
        ("DATABASE_CONN_MAX_AGE", "forever"),
    ],
)
def test_start_up_stops_on_a_malformed_variable(variable, value):
    result = _manage("check", **{"DJANGO_DEBUG": "1", variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_start_up_refuses_production_without_a_secret_key():
    result = _manage("check", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="portal.example.no")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_deploy_check_is_clean_with_debug_off():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="portal.example.no",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
