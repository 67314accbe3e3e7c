"""Which BEON rule set applies: the shipped default plus versions published in the admin."""

from __future__ import annotations

import datetime as dt

from requisitions import beon
from requisitions.models import ChecklistVersion

_loaded: dict[tuple[str, str], beon.RuleSet] = {}


def _published() -> list[beon.RuleSet]:
    rulesets = []
    for version, updated, document in ChecklistVersion.objects.values_list("version", "created_at", "document"):
        cache_key = (version, updated.isoformat())
        if cache_key not in _loaded:
            _loaded[cache_key] = beon.load_ruleset(document)
        rulesets.append(_loaded[cache_key])
    return rulesets


def all_rulesets() -> list[beon.RuleSet]:
    published = _published()
    versions = {ruleset.version for ruleset in published}
    default = beon.default_ruleset()
    return published if default.version in versions else [default, *published]


def ruleset_in_force(day: dt.date) -> beon.RuleSet:
    return beon.ruleset_in_force(all_rulesets(), day)


def ruleset_by_version(version: str) -> beon.RuleSet | None:
    return next((ruleset for ruleset in all_rulesets() if ruleset.version == version), None)
