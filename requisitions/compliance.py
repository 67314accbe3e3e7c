"""Compliance figures: pure rules over a snapshot of each requisition. No ORM; the clock is in the data.

One requisition → ``flags(snapshot)`` → the yes/no facts the audit cares about:

``above_recommendation``
    the chosen level is above the recommended one (justified or not: the justification is audited
    by reading it, not counted here).
``late``
    ordered after the cut-off for its first trip. The snapshot carries the stored ``late`` flag, which
    the submit service sets with the default cut-off and routing re-applies with the office's own.
``returned``
    an office sent it back for more information at least once.
``cancelled``
    it ended cancelled (by anyone: unit, office or administrator).
``late_cancellation``
    cancelled after the cut-off for its first trip (``cutoff.cutoff_for`` with the routed office's
    cut-off time, or the default one when it was never routed). Exactly at the cut-off is on time,
    as for ordering.
``alone_without_reason``
    the order asks for a car to itself (``no_shared_ride``) because the clinician answered that the
    patient cannot share a ride, with none of the reasons that explain it on their own (isolation,
    danger to self or others, reduced general condition) and a blank ``alone_reason``. Validation
    should make this impossible; it is counted so that a gap in the rules shows.
``two_companions``
    two or more companions.

``tally(flags)`` counts them into ``Figures`` (``orders``, ``by_level`` and one count per flag);
Figures add up (``a + b``), so a period is the sum of its days. ``Figures.rates()`` gives each count
as a fraction of ``orders`` (0 when there are no orders).

Peers and outliers
------------------
``peer_medians(figures)`` is the median of each rate over a peer group: every requisitioner with at
least one order in the period whose unit is of the same kind (GP practice, ward, ...), the person
being compared included. A group with nobody in it has medians of 0.

A requisitioner is an **outlier** on a rate when all three hold:

* ``rate >= OUTLIER_FACTOR × peers' median``  (2×: far above what colleagues do),
* ``orders >= OUTLIER_MIN_ORDERS``            (10: a handful of orders proves nothing),
* ``rate >= OUTLIER_MIN_RATE``                (0.10: twice a tiny median is still tiny).

Every rate is checked; ``outlier_reasons`` names the rates that trip the rule, in ``RATES`` order.
When the peers' median is 0, the first condition always holds and the other two decide. A group
of one is its own median, so a lone requisitioner is never an outlier.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from requisitions import cutoff
from requisitions.beon import LEVELS, level_rank

OUTLIER_FACTOR = 2.0
OUTLIER_MIN_ORDERS = 10
OUTLIER_MIN_RATE = 0.10

# The counts, in display order, each with the Flags attribute it counts and a ``<count>_rate``.
_FLAG_FOR_COUNT: dict[str, str] = {
    "above_recommendation": "above_recommendation",
    "late": "late",
    "cancelled": "cancelled",
    "late_cancellations": "late_cancellation",
    "returned": "returned",
    "alone_without_reason": "alone_without_reason",
    "two_companions": "two_companions",
}
COUNTS: tuple[str, ...] = tuple(_FLAG_FOR_COUNT)
RATES: tuple[str, ...] = tuple(f"{name}_rate" for name in COUNTS)

# Answers that explain a car to oneself without a written reason (beon-checklist: alone_reason).
_ALONE_EXPLAINED_BY = ("isolation", "danger_to_self_or_others", "reduced_general_condition")


@dataclass(frozen=True)
class Snapshot:
    """What compliance needs from one submitted requisition. All datetimes aware."""

    requisition_id: int
    level: str
    recommended_level: str
    first_trip_at: dt.datetime
    late: bool
    cancelled_at: dt.datetime | None = None  # when it became cancelled (None: not cancelled)
    times_returned: int = 0
    requirements: tuple[str, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    cut_off: dt.time = cutoff.DEFAULT_CUT_OFF  # the routed office's, else the default

    def __post_init__(self) -> None:
        if not isinstance(self.answers, MappingProxyType):
            object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))
        object.__setattr__(self, "requirements", tuple(self.requirements))


@dataclass(frozen=True)
class Flags:
    level: str
    above_recommendation: bool = False
    late: bool = False
    returned: bool = False
    cancelled: bool = False
    late_cancellation: bool = False
    alone_without_reason: bool = False
    two_companions: bool = False


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_late_cancellation(snapshot: Snapshot) -> bool:
    if snapshot.cancelled_at is None:
        return False
    return snapshot.cancelled_at > cutoff.cutoff_for(snapshot.first_trip_at, cut_off=snapshot.cut_off)


def is_alone_without_reason(snapshot: Snapshot) -> bool:
    answers = snapshot.answers
    return (
        "no_shared_ride" in snapshot.requirements
        and answers.get("can_share_ride") is False
        and not any(answers.get(name) is True for name in _ALONE_EXPLAINED_BY)
        and _blank(answers.get("alone_reason"))
    )


def _companions(answers: Mapping[str, Any]) -> int:
    value = answers.get("companions")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def flags(snapshot: Snapshot) -> Flags:
    return Flags(
        level=snapshot.level,
        above_recommendation=level_rank(snapshot.level) > level_rank(snapshot.recommended_level),
        late=snapshot.late,
        returned=snapshot.times_returned > 0,
        cancelled=snapshot.cancelled_at is not None,
        late_cancellation=is_late_cancellation(snapshot),
        alone_without_reason=is_alone_without_reason(snapshot),
        two_companions=_companions(snapshot.answers) >= 2,
    )


@dataclass(frozen=True)
class Figures:
    """Counts over a set of submitted requisitions. ``by_level`` always holds every level."""

    orders: int = 0
    by_level: Mapping[str, int] = field(default_factory=lambda: MappingProxyType(dict.fromkeys(LEVELS, 0)))
    above_recommendation: int = 0
    late: int = 0
    cancelled: int = 0
    late_cancellations: int = 0
    returned: int = 0
    alone_without_reason: int = 0
    two_companions: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.by_level) - set(LEVELS)
        if unknown:
            raise ValueError(f"Unknown level(s) in by_level: {sorted(unknown)}")
        full = {level: int(self.by_level.get(level, 0)) for level in LEVELS}
        object.__setattr__(self, "by_level", MappingProxyType(full))

    def __add__(self, other: Figures) -> Figures:
        if not isinstance(other, Figures):
            return NotImplemented
        return Figures(
            orders=self.orders + other.orders,
            by_level={level: self.by_level[level] + other.by_level[level] for level in LEVELS},
            **{name: getattr(self, name) + getattr(other, name) for name in COUNTS},
        )

    def rates(self) -> dict[str, float]:
        """Each count as a fraction of orders; 0 for every rate when there are no orders."""
        return {f"{name}_rate": (getattr(self, name) / self.orders if self.orders else 0.0) for name in COUNTS}

    def as_dict(self) -> dict[str, Any]:
        """The contract's record: orders, by_level, the counts and the ``*_rate`` fractions."""
        data: dict[str, Any] = {"orders": self.orders, "by_level": dict(self.by_level)}
        data.update({name: getattr(self, name) for name in COUNTS})
        data.update(self.rates())
        return data


def tally(all_flags: Iterable[Flags]) -> Figures:
    orders = 0
    by_level = dict.fromkeys(LEVELS, 0)
    counts = dict.fromkeys(COUNTS, 0)
    for one in all_flags:
        orders += 1
        by_level[one.level] += 1
        for name, flag in _FLAG_FOR_COUNT.items():
            counts[name] += bool(getattr(one, flag))
    return Figures(orders=orders, by_level=by_level, **counts)


def total(all_figures: Iterable[Figures]) -> Figures:
    result = Figures()
    for figures in all_figures:
        result = result + figures
    return result


def peer_medians(peers: Iterable[Figures]) -> dict[str, float]:
    """Median of each rate over the peers that have at least one order; 0 when none have."""
    rates = [figures.rates() for figures in peers if figures.orders > 0]
    return {name: (float(statistics.median(r[name] for r in rates)) if rates else 0.0) for name in RATES}


def outlier_reasons(figures: Figures, medians: Mapping[str, float]) -> list[str]:
    """The rates on which ``figures`` is an outlier against ``medians`` (rule in the module docstring)."""
    if figures.orders < OUTLIER_MIN_ORDERS:
        return []
    rates = figures.rates()
    return [
        name
        for name in RATES
        if rates[name] >= OUTLIER_MIN_RATE and rates[name] >= OUTLIER_FACTOR * medians.get(name, 0.0)
    ]
