"""The requisition status machine: which transitions exist and who may make them. Pure, no ORM.

The table mirrors the API contract (shared/spec/api.md, "Statuses and transitions"). A transition
that does not exist is a conflict (HTTP 409); one that exists but belongs to someone else is
forbidden (HTTP 403).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

AWAITING_ATTESTATION = "awaiting_attestation"
SUBMITTED = "submitted"
ROUTED = "routed"
ROUTING_FAILED = "routing_failed"
ACCEPTED = "accepted"
SCHEDULED = "scheduled"
COMPLETED = "completed"
NO_SHOW = "no_show"
RETURNED = "returned"
CANCELLED = "cancelled"

LABELS = {
    AWAITING_ATTESTATION: gettext_lazy("Awaiting attestation"),
    SUBMITTED: gettext_lazy("Submitted"),
    ROUTED: gettext_lazy("Routed"),
    ROUTING_FAILED: gettext_lazy("Routing failed"),
    ACCEPTED: gettext_lazy("Accepted"),
    SCHEDULED: gettext_lazy("Scheduled"),
    COMPLETED: gettext_lazy("Completed"),
    NO_SHOW: gettext_lazy("No-show"),
    RETURNED: gettext_lazy("Returned"),
    CANCELLED: gettext_lazy("Cancelled"),
}


def label(status: str) -> str:
    """The status as users know it (translated), for messages."""
    return str(LABELS.get(status, status)).lower()


# Who acts: the named clinician, anyone in the requisitioning unit, staff of the routed office,
# the routing task, and an administrator.
CLINICIAN = "clinician"
UNIT = "unit"
OFFICE = "office"
SYSTEM = "system"
ADMIN = "admin"

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (AWAITING_ATTESTATION, SUBMITTED): frozenset({CLINICIAN}),
    (AWAITING_ATTESTATION, CANCELLED): frozenset({UNIT, CLINICIAN}),
    (SUBMITTED, ROUTED): frozenset({SYSTEM}),
    (SUBMITTED, ROUTING_FAILED): frozenset({SYSTEM}),
    (ROUTED, ACCEPTED): frozenset({OFFICE}),
    (ROUTED, RETURNED): frozenset({OFFICE}),
    (ROUTED, CANCELLED): frozenset({OFFICE, UNIT, CLINICIAN}),
    (ACCEPTED, SCHEDULED): frozenset({OFFICE}),
    (ACCEPTED, RETURNED): frozenset({OFFICE}),
    (ACCEPTED, CANCELLED): frozenset({OFFICE, UNIT, CLINICIAN}),
    (SCHEDULED, COMPLETED): frozenset({OFFICE}),
    (SCHEDULED, NO_SHOW): frozenset({OFFICE}),
    (SCHEDULED, ACCEPTED): frozenset({OFFICE}),
    (SCHEDULED, CANCELLED): frozenset({OFFICE, UNIT, CLINICIAN}),
    (RETURNED, SUBMITTED): frozenset({UNIT, CLINICIAN}),
    (RETURNED, CANCELLED): frozenset({UNIT, CLINICIAN}),
    (ROUTING_FAILED, SUBMITTED): frozenset({ADMIN}),
    (ROUTING_FAILED, CANCELLED): frozenset({ADMIN}),
}

FINAL = frozenset({COMPLETED, NO_SHOW, CANCELLED})
# Orders an office works on: shown in its queue.
OFFICE_OPEN = frozenset({ROUTED, ACCEPTED, SCHEDULED})
# Orders a requisitioning unit may still cancel.
CANCELLABLE_BY_UNIT = frozenset(src for (src, dst), who in TRANSITIONS.items() if dst == CANCELLED and UNIT in who)


class TransitionError(Exception):
    """Refused transition. ``forbidden`` means it exists but not for this actor (403); else 409."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    actor: str


def allowed_targets(source: str, actors: set[str] | frozenset[str]) -> list[str]:
    return [dst for (src, dst), who in TRANSITIONS.items() if src == source and who & set(actors)]


def check_transition(source: str, target: str, actors: set[str] | frozenset[str]) -> Transition:
    """Return the transition if one of ``actors`` may move ``source`` to ``target``; else raise."""
    who = TRANSITIONS.get((source, target))
    if who is None:
        if source in FINAL:
            raise TransitionError(
                _("The order is already %(status)s and cannot be changed.") % {"status": label(source)}
            )
        if source == target:
            raise TransitionError(_("The order is already %(status)s.") % {"status": label(source)})
        raise TransitionError(
            _("An order that is %(source)s cannot become %(target)s.")
            % {"source": label(source), "target": label(target)}
        )
    matching = who & set(actors)
    if not matching:
        raise TransitionError(
            _("You may not change an order from %(source)s to %(target)s.")
            % {"source": label(source), "target": label(target)},
            forbidden=True,
        )
    return Transition(source, target, sorted(matching)[0])
