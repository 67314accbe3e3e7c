"""Which BEON rule set applies: the shipped default plus versions published in the admin."""

from __future__ import annotations

import datetime as dt
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from requisitions import beon
from requisitions.models import ChecklistVersion

# Published versions are read at most every REFRESH_SECONDS per process (every order needs them), and at
# once in the process that publishes one. A new version takes effect from its valid_from date anyway.
REFRESH_SECONDS = 30
_cache: dict = {"read_at": None, "rulesets": []}


def _published() -> list[beon.RuleSet]:
    now = time.monotonic()
    if _cache["read_at"] is None or now - _cache["read_at"] > REFRESH_SECONDS:
        _cache["rulesets"] = [
            beon.load_ruleset(document) for document in ChecklistVersion.objects.values_list("document", flat=True)
        ]
        _cache["read_at"] = now
    return _cache["rulesets"]


@receiver([post_save, post_delete], sender=ChecklistVersion, dispatch_uid="requisitions.checklists.forget")
def forget_published(**kwargs) -> None:
    _cache["read_at"] = None


def all_rulesets() -> list[beon.RuleSet]:
    published = _published()
    versions = {ruleset.version for ruleset in published}
    default = beon.default_ruleset()
    return published if default.version in versions else [default, *published]


def ruleset_in_force(day: dt.date) -> beon.RuleSet:
    return beon.ruleset_in_force(all_rulesets(), day)


def ruleset_by_version(version: str) -> beon.RuleSet | None:
    return next((ruleset for ruleset in all_rulesets() if ruleset.version == version), None)
