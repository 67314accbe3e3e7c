"""Reads behind the compliance pages (``views_compliance``) and the exports: figures grouped by trust,
office, unit, week and level from the daily roll-up, by pickup municipality from raw rows, and the
orders behind a figure.

Figures per requisitioner, per unit and the peers' medians come from ``compliance_selectors`` (the
same reads as the API); this module adds the other groupings and the drill-down.

The orders behind a figure are the requisitions *first submitted* in the period (Oslo dates), the
same rule as the roll-up (``rollup.first_submitted_at``): the earliest event that moved the order to
``submitted``, else ``Requisition.submitted_at``. A flag narrows them to the orders that count for
one figure; each order's flags come from the pure rules in ``requisitions.compliance``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils.translation import gettext as _

from portal.models import RequisitioningUnit, User
from requisitions import compliance, states
from requisitions.beon import LEVELS
from requisitions.compliance_selectors import Period, RequisitionerFigures
from requisitions.models import Requisition, RequisitionEvent, Trip
from requisitions.models_compliance import ComplianceDaily
from requisitions.rollup import OSLO, SUM_FIELDS, default_cut_off, figures_from

FLAGS: tuple[str, ...] = compliance.COUNTS  # a drill-down flag names the count it shows the orders of
DIMENSIONS: tuple[str, ...] = ("requisitioner", "unit", "office", "trust", "municipality", "level", "week")
TREND_WEEKS = 12

_SUMS = {name: Sum(name) for name in SUM_FIELDS}


# --- filters -------------------------------------------------------------------------------------------


class FilterError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class OrderFilters:
    """Which orders a list, a figure or an export covers. Ids are plain numbers; unknown ids match none."""

    period: Period
    trust_id: int | None = None
    office_id: int | None = None
    unit_id: int | None = None
    requisitioner_id: int | None = None
    municipality_id: int | None = None
    level: str = ""
    flag: str = ""

    _IDS = ("trust", "office", "unit", "requisitioner", "municipality")

    @classmethod
    def from_query(cls, data: Mapping[str, str], *, today: dt.date | None = None) -> OrderFilters:
        """Parse a query string (or the JSON an export stored); FilterError names each bad value."""
        errors: dict[str, str] = {}
        dates: dict[str, dt.date | None] = {}
        for name in ("from", "to"):
            raw = (data.get(name) or "").strip()
            try:
                dates[name] = dt.date.fromisoformat(raw) if raw else None
            except ValueError:
                dates[name] = None
                errors[name] = _("Give dates as YYYY-MM-DD.")
        start, end = dates["from"], dates["to"]
        if start and end and start > end:
            errors["from"] = _("The start date must not be after the end date (to).")
        default = Period.default(today=end or today)
        if start and not end:
            end = max(default.end, start)
        ids: dict[str, int | None] = {}
        for name in cls._IDS:
            raw = (data.get(name) or "").strip()
            if raw and not raw.isdigit():
                errors[name] = _("Choose from the list.")
            ids[f"{name}_id"] = int(raw) if raw.isdigit() else None
        level = (data.get("level") or "").strip()
        if level and level not in LEVELS:
            errors["level"] = _("Unknown level.")
        flag = (data.get("flag") or "").strip()
        if flag and flag not in FLAGS:
            errors["flag"] = _("Unknown figure.")
        if errors:
            raise FilterError(errors)
        return cls(period=Period(start=start or default.start, end=end or default.end), level=level, flag=flag, **ids)

    def as_query(self) -> dict[str, str]:
        """The query string that gives these filters back (empty values left out)."""
        query = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        for name in self._IDS:
            value = getattr(self, f"{name}_id")
            if value is not None:
                query[name] = str(value)
        if self.level:
            query["level"] = self.level
        if self.flag:
            query["flag"] = self.flag
        return query

    def narrowed(self, **changes) -> OrderFilters:
        return replace(self, **changes)


# --- the orders behind a figure ---------------------------------------------------------------------------


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time(0), tzinfo=OSLO)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=OSLO)
    return start, end


def _first_submitted():
    first_event = (
        RequisitionEvent.objects.filter(requisition=OuterRef("pk"), to_status=states.SUBMITTED)
        .order_by()
        .values("requisition")
        .annotate(first=Min("at"))
        .values("first")[:1]
    )
    return Coalesce(Subquery(first_event), F("submitted_at"))


def _rank(field_name: str) -> Case:
    return Case(
        *(When(**{field_name: level}, then=Value(rank)) for rank, level in enumerate(LEVELS)),
        default=Value(-1),
        output_field=IntegerField(),
    )


def _events(to_status: str) -> QuerySet[RequisitionEvent]:
    return RequisitionEvent.objects.filter(requisition=OuterRef("pk"), to_status=to_status).order_by()


def submitted_in(qs: QuerySet[Requisition], period: Period) -> QuerySet[Requisition]:
    """``qs`` narrowed to the orders first submitted in ``period``, annotated with ``first_submitted``."""
    start, end = _bounds(period)
    # submitted_at is the latest submission (or the first, a moment before its event): a cheap,
    # indexed pre-filter that never drops an order first submitted in the period.
    return (
        qs.filter(submitted_at__gte=start - dt.timedelta(days=1))
        .annotate(first_submitted=_first_submitted())
        .filter(first_submitted__gte=start, first_submitted__lt=end)
    )


def _with_flag(qs: QuerySet[Requisition], flag: str) -> QuerySet[Requisition]:
    if flag == "above_recommendation":
        return qs.alias(_level_rank=_rank("level"), _recommended_rank=_rank("recommended_level")).filter(
            _level_rank__gt=F("_recommended_rank")
        )
    if flag == "late":
        return qs.filter(late=True)
    if flag == "cancelled":
        return qs.filter(status=states.CANCELLED)
    if flag == "returned":
        return qs.filter(Exists(_events(states.RETURNED)))
    # The rest need the pure rules: narrow in SQL, decide in Python.
    candidates = {
        "late_cancellations": Q(status=states.CANCELLED),
        "alone_without_reason": Q(answers__can_share_ride=False),
        "two_companions": Q(answers__companions__gte=2),
    }[flag]
    attribute = {"late_cancellations": "late_cancellation"}.get(flag, flag)
    ids = [row["id"] for row in snapshot_rows(qs.filter(candidates)) if getattr(row["flags"], attribute)]
    return qs.filter(pk__in=ids)


def filtered_orders(qs: QuerySet[Requisition], filters: OrderFilters) -> QuerySet[Requisition]:
    """``qs`` (already scoped to what the user may see) narrowed by ``filters``, newest first."""
    qs = submitted_in(qs, filters.period)
    if filters.trust_id is not None:
        qs = qs.filter(office__trust_id=filters.trust_id)
    if filters.office_id is not None:
        qs = qs.filter(office_id=filters.office_id)
    if filters.unit_id is not None:
        qs = qs.filter(unit_id=filters.unit_id)
    if filters.requisitioner_id is not None:
        qs = qs.filter(requisitioner_id=filters.requisitioner_id)
    if filters.municipality_id is not None:
        outbound_from = Trip.objects.filter(
            requisition=OuterRef("pk"), direction=Trip.Direction.OUTBOUND, from_municipality_id=filters.municipality_id
        )
        qs = qs.filter(Exists(outbound_from))
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.flag:
        qs = _with_flag(qs, filters.flag)
    return qs.order_by("-first_submitted", "-pk")


def orders_of_requisitioner(user) -> QuerySet[Requisition]:
    """The orders a clinician is responsible for (in every unit they have ordered for)."""
    return Requisition.objects.filter(requisitioner_id=user.pk)


# --- one row per order, with its flags (lists and exports) ------------------------------------------------

SNAPSHOT_FIELDS = (
    "id",
    "patient_id",
    "level",
    "recommended_level",
    "first_trip_at",
    "late",
    "status",
    "requirements",
    "answers",
    "office__cut_off_time",
)


def with_snapshot_fields(qs: QuerySet[Requisition]) -> QuerySet[Requisition]:
    """Annotate what ``compliance.flags`` needs beyond the row: returns and the cancellation time."""
    returned = _events(states.RETURNED).values("requisition").annotate(n=Count("pk")).values("n")[:1]
    cancelled = _events(states.CANCELLED).values("requisition").annotate(at=Max("at")).values("at")[:1]
    return qs.annotate(
        times_returned=Coalesce(Subquery(returned), Value(0)),
        cancelled_event_at=Subquery(cancelled),
    )


def flags_of(row: Mapping, *, cut_off: dt.time) -> compliance.Flags:
    cancelled_at = None
    if row["status"] == states.CANCELLED:
        cancelled_at = row["cancelled_event_at"] or row["updated_at"]
    snapshot = compliance.Snapshot(
        requisition_id=row["id"],
        level=row["level"],
        recommended_level=row["recommended_level"],
        first_trip_at=row["first_trip_at"],
        late=row["late"],
        cancelled_at=cancelled_at,
        times_returned=row["times_returned"] or 0,
        requirements=tuple(row["requirements"] or ()),
        answers=row["answers"] or {},
        cut_off=row["office__cut_off_time"] or cut_off,
    )
    return compliance.flags(snapshot)


def snapshot_rows(qs: QuerySet[Requisition], *extra: str, chunk_size: int = 2000) -> Iterator[dict]:
    """Each order as a dict of ``SNAPSHOT_FIELDS`` + ``extra`` with its ``flags`` (streamed)."""
    cut_off = default_cut_off()
    names = (*SNAPSHOT_FIELDS, "updated_at", "times_returned", "cancelled_event_at", *extra)
    for row in with_snapshot_fields(qs).values(*names).iterator(chunk_size=chunk_size):
        row["flags"] = flags_of(row, cut_off=cut_off)
        yield row


def flags_by_id(requisitions: Iterable[Requisition]) -> dict[int, compliance.Flags]:
    """Flags of a page of orders (one query)."""
    ids = [r.pk for r in requisitions]
    qs = Requisition.objects.filter(pk__in=ids)
    return {row["id"]: row["flags"] for row in snapshot_rows(qs)}


# --- figures grouped, from the roll-up ----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFigures:
    """One row of a dashboard table: a label, its figures and the filters that show its orders."""

    key: str
    label: str
    figures: compliance.Figures
    drill: dict[str, str] = field(default_factory=dict)


def _rollup(period: Period, *, office_id: int | None = None, unit_id: int | None = None):
    qs = ComplianceDaily.objects.filter(day__gte=period.start, day__lte=period.end)
    if office_id is not None:
        qs = qs.filter(office_id=office_id)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    return qs


_GROUPS = {
    # dimension: (group-by fields, key field, label fields, drill-down parameter)
    "unit": (("unit_id", "unit__name"), "unit_id", ("unit__name",), "unit"),
    "office": (("office_id", "office__name"), "office_id", ("office__name",), "office"),
    "trust": (("office__trust_id", "office__trust__name"), "office__trust_id", ("office__trust__name",), "trust"),
}


def figures_by(
    dimension: str, period: Period, *, office_id: int | None = None, unit_id: int | None = None
) -> list[GroupFigures]:
    """Figures per unit, office or trust (of the office) from the roll-up, most orders first.

    Orders not routed yet have no office (and so no trust): they form one group of their own.
    """
    fields, key_field, label_fields, param = _GROUPS[dimension]
    rows = _rollup(period, office_id=office_id, unit_id=unit_id).values(*fields).annotate(**_SUMS).order_by()
    groups = []
    for row in rows:
        if not row["orders"]:
            continue
        key = row[key_field]
        label = " ".join(filter(None, (row[name] for name in label_fields)))
        drill = {param: str(key)} if key is not None else {}
        groups.append(
            GroupFigures(key=str(key or ""), label=label or _("Not routed yet"), figures=figures_from(row), drill=drill)
        )
    groups.sort(key=lambda g: (-g.figures.orders, g.label))
    return groups


@dataclass(frozen=True)
class RequisitionerRow:
    """A requisitioner's figures in one unit, with the rates on which they are outliers against peers."""

    figures: RequisitionerFigures
    reasons: tuple[tuple[str, float, float], ...]  # (rate name, their rate, peers' median)
    peers: int

    @property
    def outlier(self) -> bool:
        return bool(self.reasons)

    @property
    def drill(self) -> dict[str, str]:
        return {"requisitioner": str(self.figures.requisitioner_id), "unit": str(self.figures.unit_id)}


def requisitioner_rows(
    period: Period, *, office_id: int | None = None, unit_id: int | None = None
) -> list[RequisitionerRow]:
    """The auditor's per-requisitioner list with outliers, as ``/api/v1/compliance/requisitioners/``.

    Peers: every requisitioner with orders in the period in units of the same kind (limited to the
    office when one is given; the unit does not narrow the peers). Rule: ``compliance.outlier_reasons``.

    The same figures as ``compliance_selectors.figures_per_requisitioner`` and ``peer_medians_by_kind``
    (a test holds them equal), read with one scan of the roll-up grouped by ids only: the names are
    looked up afterwards and the peers' medians summed from the same rows. At a million requisitions
    that is about half the time of the two grouped scans (bench/compliance.py).
    """
    sums = [
        row
        for row in _rollup(period, office_id=office_id)
        .values("requisitioner_id", "unit_id")
        .annotate(**_SUMS)
        .order_by()
        if row["orders"]
    ]
    units = {
        unit.pk: unit
        for unit in RequisitioningUnit.objects.filter(pk__in={row["unit_id"] for row in sums}).only(
            "pk", "name", "kind"
        )
    }
    people = {
        person.pk: person
        for person in User.objects.filter(pk__in={row["requisitioner_id"] for row in sums}).only(
            "pk", "username", "first_name", "last_name"
        )
    }
    figures = {(row["requisitioner_id"], row["unit_id"]): figures_from(row) for row in sums}
    by_kind: dict[str, dict[int, compliance.Figures]] = defaultdict(dict)
    for (person, unit), each in figures.items():
        kind = units[unit].kind
        by_kind[kind][person] = by_kind[kind].get(person, compliance.Figures()) + each
    medians = {kind: (len(peers), compliance.peer_medians(peers.values())) for kind, peers in by_kind.items()}
    rows = []
    for (person, unit), each in figures.items():
        if unit_id is not None and unit != unit_id:
            continue
        user, the_unit = people[person], units[unit]
        peers, kind_medians = medians.get(the_unit.kind, (0, {}))
        rates = each.rates()
        reasons = tuple(
            (name, rates[name], kind_medians.get(name, 0.0)) for name in compliance.outlier_reasons(each, kind_medians)
        )
        row = RequisitionerFigures(
            requisitioner_id=person,
            username=user.username,
            name=" ".join(filter(None, (user.first_name, user.last_name))) or user.username,
            unit_id=unit,
            unit_name=the_unit.name,
            unit_kind=the_unit.kind,
            figures=each,
        )
        rows.append(RequisitionerRow(figures=row, reasons=reasons, peers=peers))
    rows.sort(key=lambda r: (r.figures.username, r.figures.unit_name))
    return rows


def total_figures(period: Period, *, office_id: int | None = None, unit_id: int | None = None) -> compliance.Figures:
    return figures_from(_rollup(period, office_id=office_id, unit_id=unit_id).aggregate(**_SUMS))


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weeks_of(period: Period) -> list[dt.date]:
    monday, weeks = week_start(period.start), []
    while monday <= period.end:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def trend_period(today: dt.date, weeks: int = TREND_WEEKS) -> Period:
    """The last ``weeks`` whole ISO weeks, the current one included (Monday to today)."""
    return Period(start=week_start(today) - dt.timedelta(days=7 * (weeks - 1)), end=today)


def figures_by_week(
    period: Period,
    *,
    requisitioner_id: int | None = None,
    unit_id: int | None = None,
    office_id: int | None = None,
) -> list[GroupFigures]:
    """Figures per ISO week (Monday first) of the period, every week present (zeros where no orders)."""
    qs = _rollup(period, office_id=office_id, unit_id=unit_id)
    if requisitioner_id is not None:
        qs = qs.filter(requisitioner_id=requisitioner_id)
    rows = qs.annotate(week=TruncWeek("day")).values("week").annotate(**_SUMS).order_by("week")
    found = {(row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]): row for row in rows}
    groups = []
    for monday in weeks_of(period):
        sunday = monday + dt.timedelta(days=6)
        iso_year, iso_week, _weekday = monday.isocalendar()
        groups.append(
            GroupFigures(
                key=monday.isoformat(),
                label=_("Week %(week)d, %(year)d") % {"week": iso_week, "year": iso_year},
                figures=figures_from(found.get(monday, {})),
                drill={"from": max(monday, period.start).isoformat(), "to": min(sunday, period.end).isoformat()},
            )
        )
    return groups


def figures_by_level(total: compliance.Figures) -> list[tuple[str, int]]:
    """(level, orders) for every level, lowest care first."""
    return [(level, total.by_level[level]) for level in LEVELS]


# --- figures by pickup municipality, from raw rows ---------------------------------------------------------------


def figures_by_municipality(qs: QuerySet[Requisition], period: Period) -> list[GroupFigures]:
    """Figures per municipality of the outbound pickup, over the orders first submitted in ``period``.

    The roll-up has no municipality, so this one groups raw rows in SQL; the two counts the pure
    rules decide (late cancellations, alone without a reason) are added from their few candidates.
    """
    base = submitted_in(qs, period).annotate(
        outbound=FilteredRelation("trips", condition=Q(trips__direction=Trip.Direction.OUTBOUND))
    )
    pk_count = {
        "orders": Count("pk"),
        "above_recommendation": Count("pk", filter=Q(_level_rank__gt=F("_recommended_rank"))),
        "late": Count("pk", filter=Q(late=True)),
        "cancelled": Count("pk", filter=Q(status=states.CANCELLED)),
        "returned": Count("pk", filter=Q(Exists(_events(states.RETURNED)))),
        "two_companions": Count("pk", filter=Q(answers__companions__gte=2)),
        **{f"level_{level}": Count("pk", filter=Q(level=level)) for level in LEVELS},
    }
    rows = (
        base.alias(_level_rank=_rank("level"), _recommended_rank=_rank("recommended_level"))
        .values(
            "outbound__from_municipality_id", "outbound__from_municipality__number", "outbound__from_municipality__name"
        )
        .annotate(**pk_count)
        .order_by()
    )
    extra: dict[int | None, dict[str, int]] = defaultdict(lambda: {"late_cancellations": 0, "alone_without_reason": 0})
    rare = Q(status=states.CANCELLED) | Q(answers__can_share_ride=False)
    for row in snapshot_rows(base.filter(rare), "outbound__from_municipality_id"):
        counts = extra[row["outbound__from_municipality_id"]]
        counts["late_cancellations"] += row["flags"].late_cancellation
        counts["alone_without_reason"] += row["flags"].alone_without_reason
    groups = []
    for row in rows:
        key = row["outbound__from_municipality_id"]
        values = {**row, **extra[key]}
        label = " ".join(
            filter(None, (row["outbound__from_municipality__number"], row["outbound__from_municipality__name"]))
        )
        groups.append(
            GroupFigures(
                key=str(key or ""),
                label=label or _("Unknown"),
                figures=figures_from(values),
                drill={"municipality": str(key)} if key else {},
            )
        )
    groups.sort(key=lambda g: (-g.figures.orders, g.label))
    return groups
