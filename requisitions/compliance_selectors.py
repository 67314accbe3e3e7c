"""Compliance reads: sums over the daily roll-up (``ComplianceDaily``), never over raw requisitions.

Peers are the requisitioners with at least one order in the period in units of the same kind; the
rules for medians and outliers are in ``requisitions.compliance``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.utils import timezone

from requisitions import compliance
from requisitions.models_compliance import ComplianceDaily
from requisitions.rollup import SUM_FIELDS, figures_from

DEFAULT_DAYS = 90

_SUMS = {name: Sum(name) for name in SUM_FIELDS}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @classmethod
    def default(cls, *, today: dt.date | None = None) -> Period:
        """The last 90 days, today included (Europe/Oslo)."""
        end = today or timezone.localdate()
        return cls(start=end - dt.timedelta(days=DEFAULT_DAYS - 1), end=end)


@dataclass(frozen=True)
class RequisitionerFigures:
    requisitioner_id: int
    username: str
    name: str
    unit_id: int
    unit_name: str
    unit_kind: str
    figures: compliance.Figures


def _rows(period: Period, *, office_id: int | None = None) -> QuerySet[ComplianceDaily]:
    qs = ComplianceDaily.objects.filter(day__gte=period.start, day__lte=period.end)
    if office_id is not None:
        qs = qs.filter(office_id=office_id)
    return qs


def figures_of_requisitioner(requisitioner_id: int, period: Period) -> compliance.Figures:
    """One clinician's figures over every unit they ordered for in the period."""
    return figures_from(_rows(period).filter(requisitioner_id=requisitioner_id).aggregate(**_SUMS))


def figures_of_unit(unit_id: int, period: Period) -> compliance.Figures:
    return figures_from(_rows(period).filter(unit_id=unit_id).aggregate(**_SUMS))


def peers_of_kind(unit_kind: str, period: Period, *, office_id: int | None = None) -> list[compliance.Figures]:
    """Each requisitioner's figures over their units of ``unit_kind`` (those with orders only)."""
    rows = (
        _rows(period, office_id=office_id)
        .filter(unit__kind=unit_kind)
        .values("requisitioner_id")
        .annotate(**_SUMS)
        .order_by("requisitioner_id")
    )
    return [figures_from(row) for row in rows if row["orders"]]


def peer_medians_by_kind(period: Period, *, office_id: int | None = None) -> dict[str, tuple[int, dict[str, float]]]:
    """{unit kind: (number of peers, medians)} for every kind with orders in the period."""
    rows = (
        _rows(period, office_id=office_id)
        .values("requisitioner_id", "unit__kind")
        .annotate(**_SUMS)
        .order_by("unit__kind", "requisitioner_id")
    )
    by_kind: dict[str, list[compliance.Figures]] = defaultdict(list)
    for row in rows:
        if row["orders"]:
            by_kind[row["unit__kind"]].append(figures_from(row))
    return {kind: (len(peers), compliance.peer_medians(peers)) for kind, peers in by_kind.items()}


def figures_per_requisitioner(
    period: Period, *, unit_id: int | None = None, office_id: int | None = None
) -> list[RequisitionerFigures]:
    """Figures per (requisitioner, unit) with orders in the period, by username."""
    qs = _rows(period, office_id=office_id)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    rows = (
        qs.values(
            "requisitioner_id",
            "requisitioner__username",
            "requisitioner__first_name",
            "requisitioner__last_name",
            "unit_id",
            "unit__name",
            "unit__kind",
        )
        .annotate(**_SUMS)
        .order_by("requisitioner__username", "unit__name")
    )
    return [
        RequisitionerFigures(
            requisitioner_id=row["requisitioner_id"],
            username=row["requisitioner__username"],
            name=" ".join(filter(None, (row["requisitioner__first_name"], row["requisitioner__last_name"])))
            or row["requisitioner__username"],
            unit_id=row["unit_id"],
            unit_name=row["unit__name"],
            unit_kind=row["unit__kind"],
            figures=figures_from(row),
        )
        for row in rows
        if row["orders"]
    ]
