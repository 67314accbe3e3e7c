"""Compliance pages: the requisitioner's own ordering practice (/praksis/) and the auditor's dashboards,
drill-down and exports (/praksis/revisjon/).

Figures come from the daily roll-up (``compliance_selectors``, ``audit_selectors``); the rules behind
them are in ``requisitions.compliance``. Pages that list or show orders write the access log.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portal import roles
from portal.access_log import log_access
from portal.models import HealthTrust, Municipality, Office, RequisitioningUnit, User
from requisitions import audit_selectors as audit
from requisitions import charts, compliance, exports
from requisitions.checklists import ruleset_by_version
from requisitions.compliance_selectors import figures_of_requisitioner, figures_of_unit, peers_of_kind
from requisitions.models import ComplianceDaily, Level
from requisitions.models_exports import Export
from requisitions.rollup import rollup_refresh, rollup_refresh_for
from requisitions.selectors import access_requisition, event_timeline, requisitions_visible_to, with_details
from requisitions.views import role_required

requisitioner_only = role_required(roles.REQUISITIONER)
auditor_only = role_required(roles.AUDITOR)

PAGE_SIZE = 25
FIGURE_LABELS = {
    "orders": gettext_lazy("Orders"),
    "above_recommendation": gettext_lazy("Above the recommended level"),
    "late": gettext_lazy("Ordered after the cut-off"),
    "cancelled": gettext_lazy("Cancelled"),
    "late_cancellations": gettext_lazy("Cancelled after the cut-off"),
    "returned": gettext_lazy("Sent back by the office"),
    "alone_without_reason": gettext_lazy("Car to themselves without a reason"),
    "two_companions": gettext_lazy("Two or more companions"),
}
DIMENSION_LABELS = {
    "requisitioner": gettext_lazy("Requisitioner"),
    "unit": gettext_lazy("Unit"),
    "office": gettext_lazy("Office"),
    "trust": gettext_lazy("Health trust"),
    "municipality": gettext_lazy("Municipality (pickup)"),
    "level": gettext_lazy("Level"),
    "week": gettext_lazy("Week"),
}
TABLE_RATES = ("above_recommendation", "late", "cancelled", "late_cancellations", "returned")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{formats.number_format(round(100 * value), 0)} %"


def _url(name: str, query: dict[str, str], **kwargs) -> str:
    return f"{reverse(name, kwargs=kwargs or None)}?{urlencode(query)}"


def _parse(data, *, keep: tuple[str, ...] | None = None) -> tuple[audit.OrderFilters, dict[str, str]]:
    """Filters from a query string (only ``keep`` names when given); defaults and errors when bad."""
    if keep is not None:
        data = {name: data.get(name, "") for name in keep}
    try:
        return audit.OrderFilters.from_query(data), {}
    except audit.FilterError as exc:
        good = {name: value for name, value in data.items() if name not in exc.errors}
        try:
            return audit.OrderFilters.from_query(good), exc.errors
        except audit.FilterError:
            return audit.OrderFilters.from_query({}), exc.errors


def _flags_of(flags: compliance.Flags | None) -> list[str]:
    if flags is None:
        return []
    attributes = {"late_cancellations": "late_cancellation"}
    return [str(FIGURE_LABELS[name]) for name in compliance.COUNTS if getattr(flags, attributes.get(name, name), False)]


def _week_numbers(weeks: list[audit.GroupFigures]) -> list[str]:
    """Short chart labels: the ISO week number of each week (the table beside gives the year)."""
    return [str(dt.date.fromisoformat(week.key).isocalendar()[1]) for week in weeks]


def _rows_with_flags(page) -> list[tuple]:
    flags = audit.flags_by_id(page.object_list)
    return [(r, _flags_of(flags.get(r.pk))) for r in page.object_list]


# --- the requisitioner's own practice ----------------------------------------------------------------------


@requisitioner_only
@require_GET
def my_practice(request: HttpRequest) -> HttpResponse:
    """Own figures beside the unit's and the peers' medians, by level, a 12-week trend, and BEON explained."""
    filters, errors = _parse(request.GET, keep=("from", "to"))
    period, user, unit = filters.period, request.user, request.user.unit
    rollup_refresh_for(user.pk)  # the caller's own changes of the last seconds count at once
    mine = figures_of_requisitioner(user.pk, period)
    unit_figures = figures_of_unit(unit.pk, period) if unit else None
    peers = peers_of_kind(unit.kind, period) if unit else []
    medians = compliance.peer_medians(peers)
    query = filters.as_query()
    my_rates = mine.rates()
    unit_rates = unit_figures.rates() if unit_figures else {}
    comparison = []
    for name in compliance.COUNTS:
        rate = f"{name}_rate"
        comparison.append(
            {
                "name": name,
                "label": FIGURE_LABELS[name],
                "count": getattr(mine, name),
                "rate": _pct(my_rates[rate]),
                "unit": _pct(unit_rates.get(rate)) if unit_figures else "—",
                "peers": _pct(medians[rate]) if peers else "—",
                "high": mine.orders > 0 and rate in compliance.outlier_reasons(mine, medians) and bool(peers),
                "url": _url("compliance:my-orders", {**query, "flag": name}),
            }
        )
    levels = [
        {
            "label": Level(level).label,
            "count": count,
            "share": _pct(count / mine.orders) if mine.orders else "—",
            "url": _url("compliance:my-orders", {**query, "level": level}),
        }
        for level, count in audit.figures_by_level(mine)
    ]
    trend_period = audit.trend_period(period.end)
    my_weeks = audit.figures_by_week(trend_period, requisitioner_id=user.pk)
    unit_weeks = audit.figures_by_week(trend_period, unit_id=unit.pk) if unit else []
    trend = [
        {
            "label": week.label,
            "orders": week.figures.orders,
            "above": _pct(week.figures.rates()["above_recommendation_rate"]) if week.figures.orders else "—",
            "unit_above": _pct(unit_week.figures.rates()["above_recommendation_rate"])
            if unit_week and unit_week.figures.orders
            else "—",
            "url": _url("compliance:my-orders", week.drill),
        }
        for week, unit_week in zip(my_weeks, unit_weeks or [None] * len(my_weeks), strict=True)
    ]
    week_labels = _week_numbers(my_weeks)
    shown = [name for name in compliance.COUNTS if name in TABLE_RATES]
    rate_series = {_("You"): [my_rates[f"{n}_rate"] for n in shown]}
    if unit_figures:
        rate_series[_("Your unit")] = [unit_rates[f"{n}_rate"] for n in shown]
    if peers:
        rate_series[_("Peers' median")] = [medians[f"{n}_rate"] for n in shown]
    above_series = {
        _("You"): [w.figures.rates()["above_recommendation_rate"] if w.figures.orders else None for w in my_weeks]
    }
    if unit_weeks:
        above_series[_("Your unit")] = [
            w.figures.rates()["above_recommendation_rate"] if w.figures.orders else None for w in unit_weeks
        ]
    context = {
        "filters": query,
        "errors": errors,
        "period": period,
        "unit": unit,
        "peer_count": len(peers),
        "mine": mine,
        "comparison": comparison,
        "levels": levels,
        "trend": trend,
        "trend_period": trend_period,
        "orders_url": _url("compliance:my-orders", query),
        "rates_chart": charts.bar(
            _("Share of your orders, your unit's and your peers'"),
            [str(FIGURE_LABELS[n]) for n in shown],
            rate_series,
            rates=True,
            horizontal=True,
        ),
        "orders_chart": charts.bar(
            _("Your orders per week"),
            week_labels,
            {_("Orders"): [w.figures.orders for w in my_weeks]},
            x_title=_("Week"),
        ),
        "above_chart": charts.line(
            _("Orders above the recommended level, share per week"),
            week_labels,
            above_series,
            rates=True,
            x_title=_("Week"),
        ),
    }
    return render(request, "requisitions/compliance_mine.html", context, status=400 if errors else 200)


@requisitioner_only
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    """The orders behind one of the requisitioner's own figures."""
    filters, errors = _parse(request.GET, keep=("from", "to", "level", "flag"))
    qs = audit.filtered_orders(audit.orders_of_requisitioner(request.user), filters).select_related(
        "patient", "office", "unit"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    log_access(request.user, page.object_list, "my-practice-orders")
    context = {
        "page": page,
        "rows": _rows_with_flags(page),
        "filters": filters.as_query(),
        "errors": errors,
        "period": filters.period,
        "figure": FIGURE_LABELS.get(filters.flag),
        "levels": Level.choices,
        "figures": list(FIGURE_LABELS.items())[1:],
        "query": urlencode(filters.as_query()),
    }
    template = "requisitions/compliance_orders.html"
    return render(request, f"{template}#results" if request.htmx else template, context)


# --- the auditor's dashboards ----------------------------------------------------------------------------------


def _group_rows(groups: list[audit.GroupFigures], base_query: dict[str, str]) -> list[dict]:
    rows = []
    for group in groups:
        rates = group.figures.rates()
        rows.append(
            {
                "label": group.label,
                "orders": group.figures.orders,
                "rates": [_pct(rates[f"{name}_rate"]) if group.figures.orders else "—" for name in TABLE_RATES],
                "url": _url("compliance:audit-orders", {**base_query, **group.drill}) if group.drill else "",
            }
        )
    return rows


def _requisitioner_table(rows: list[audit.RequisitionerRow], base_query: dict[str, str]) -> list[dict]:
    table = []
    for row in rows:
        rates = row.figures.figures.rates()
        table.append(
            {
                "label": f"{row.figures.name} ({row.figures.unit_name})",
                "orders": row.figures.figures.orders,
                "rates": [_pct(rates[f"{name}_rate"]) for name in TABLE_RATES],
                "url": _url("compliance:audit-orders", {**base_query, **row.drill}),
                "outlier": row.outlier,
            }
        )
    return table


def _outliers(rows: list[audit.RequisitionerRow], base_query: dict[str, str]) -> list[dict]:
    outliers = []
    for row in rows:
        if not row.outlier:
            continue
        reasons = []
        for rate_name, rate, median in row.reasons:
            name = rate_name.removesuffix("_rate")
            reasons.append(
                {
                    "text": _("%(figure)s: %(rate)s (peers' median %(median)s)")
                    % {"figure": FIGURE_LABELS[name], "rate": _pct(rate), "median": _pct(median)},
                    "url": _url("compliance:audit-orders", {**base_query, **row.drill, "flag": name}),
                }
            )
        outliers.append(
            {
                "name": row.figures.name,
                "unit": row.figures.unit_name,
                "kind": RequisitioningUnit.Kind(row.figures.unit_kind).label
                if row.figures.unit_kind in RequisitioningUnit.Kind.values
                else row.figures.unit_kind,
                "orders": row.figures.figures.orders,
                "peers": row.peers,
                "reasons": reasons,
            }
        )
    return outliers


def _dimension_chart(dimension: str, groups: list[audit.GroupFigures], top: int = 12) -> charts.Chart:
    if dimension == "week":
        series = {
            str(FIGURE_LABELS[name]): [g.figures.rates()[f"{name}_rate"] if g.figures.orders else None for g in groups]
            for name in ("above_recommendation", "late", "cancelled")
        }
        return charts.line(_("Shares per week"), _week_numbers(groups), series, rates=True, x_title=_("Week"))
    shown = groups[:top]
    series = {
        str(FIGURE_LABELS[name]): [g.figures.rates()[f"{name}_rate"] for g in shown]
        for name in ("above_recommendation", "late")
    }
    title = _("Shares by %(dimension)s (the %(n)d with most orders)") % {
        "dimension": str(DIMENSION_LABELS[dimension]).lower(),
        "n": len(shown),
    }
    return charts.bar(title, [g.label for g in shown], series, rates=True, horizontal=True)


def _dashboard_context(request: HttpRequest) -> tuple[dict, dict[str, str]]:
    filters, errors = _parse(request.GET, keep=("from", "to", "office", "unit"))
    dimension = request.GET.get("by") if request.GET.get("by") in audit.DIMENSIONS else "requisitioner"
    period, office_id, unit_id = filters.period, filters.office_id, filters.unit_id
    query = filters.as_query()
    rows = audit.requisitioner_rows(period, office_id=office_id, unit_id=unit_id)
    total = audit.total_figures(period, office_id=office_id, unit_id=unit_id)
    context: dict = {"dimension": dimension, "level_rows": [], "table": []}
    if dimension == "requisitioner":
        context["table"] = _requisitioner_table(rows, query)
        groups = [
            audit.GroupFigures(key=str(r.figures.requisitioner_id), label=r.figures.name, figures=r.figures.figures)
            for r in sorted(rows, key=lambda r: -r.figures.figures.orders)
        ]
        context["chart"] = _dimension_chart(dimension, groups)
    elif dimension == "level":
        level_rows = audit.figures_by_level(total)
        context["level_rows"] = [
            {
                "label": Level(level).label,
                "orders": count,
                "share": _pct(count / total.orders) if total.orders else "—",
                "url": _url("compliance:audit-orders", {**query, "level": level}),
            }
            for level, count in level_rows
        ]
        context["chart"] = charts.bar(
            _("Orders by level"),
            [Level(level).label for level, _n in level_rows],
            {_("Orders"): [n for _l, n in level_rows]},
        )
    else:
        if dimension == "week":
            groups = audit.figures_by_week(period, office_id=office_id, unit_id=unit_id)
        elif dimension == "municipality":
            scoped = requisitions_visible_to(request.user)
            if office_id is not None:
                scoped = scoped.filter(office_id=office_id)
            if unit_id is not None:
                scoped = scoped.filter(unit_id=unit_id)
            groups = audit.figures_by_municipality(scoped, period)
        else:
            groups = audit.figures_by(dimension, period, office_id=office_id, unit_id=unit_id)
        context["table"] = _group_rows(groups, query)
        context["chart"] = _dimension_chart(dimension, groups)
    total_rates = total.rates()
    context.update(
        {
            "filters": query,
            "errors": errors,
            "period": period,
            "total": total,
            "total_rates": [(FIGURE_LABELS[name], _pct(total_rates[f"{name}_rate"])) for name in TABLE_RATES],
            "outliers": _outliers(rows, query),
            "rate_labels": [FIGURE_LABELS[name] for name in TABLE_RATES],
            "dimensions": [
                (name, label, _url("compliance:audit", {**query, "by": name}))
                for name, label in DIMENSION_LABELS.items()
            ],
            "dimension_label": DIMENSION_LABELS[dimension],
            "offices": Office.objects.order_by("name").only("pk", "name"),
            "units": RequisitioningUnit.objects.order_by("name").only("pk", "name"),
            "orders_url": _url("compliance:audit-orders", query),
            "export_filters": query,
        }
    )
    return context, errors


@auditor_only
@require_GET
def audit_dashboard(request: HttpRequest) -> HttpResponse:
    """Figures by requisitioner, unit, office, trust, municipality, level or week; the outlier list."""
    rollup_refresh()  # the few seconds of changes the beat task has not taken yet
    context, errors = _dashboard_context(request)
    template = "requisitions/audit_dashboard.html"
    return render(
        request, f"{template}#dashboard" if request.htmx else template, context, status=400 if errors else 200
    )


def _requisitioner_choices():
    has_orders = Exists(ComplianceDaily.objects.filter(requisitioner=OuterRef("pk")))  # indexed, unlike requisitions
    return (
        User.objects.filter(Q(groups__name=roles.REQUISITIONER) | Q(has_orders))
        .distinct()
        .order_by("last_name", "first_name", "username")
        .only("pk", "username", "first_name", "last_name")
    )


@auditor_only
@require_GET
def audit_orders(request: HttpRequest) -> HttpResponse:
    """The orders behind a figure: every filter of the dashboards, paginated, with their flags."""
    filters, errors = _parse(request.GET)
    qs = audit.filtered_orders(requisitions_visible_to(request.user), filters).select_related(
        "unit", "requisitioner", "office"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    log_access(request.user, page.object_list, "audit-orders")
    query = filters.as_query()
    context = {
        "page": page,
        "rows": _rows_with_flags(page),
        "filters": query,
        "errors": errors,
        "period": filters.period,
        "query": urlencode(query),
        "figure": FIGURE_LABELS.get(filters.flag),
        "figures": list(FIGURE_LABELS.items())[1:],
        "levels": Level.choices,
        "trusts": HealthTrust.objects.order_by("name").only("pk", "name"),
        "offices": Office.objects.order_by("name").only("pk", "name"),
        "units": RequisitioningUnit.objects.order_by("name").only("pk", "name"),
        "requisitioners": _requisitioner_choices(),
        "municipalities": Municipality.objects.order_by("number").only("pk", "number", "name"),
        "export_filters": query,
        "dashboard_url": _url(
            "compliance:audit", {k: v for k, v in query.items() if k in ("from", "to", "office", "unit")}
        ),
    }
    template = "requisitions/audit_orders.html"
    return render(request, f"{template}#results" if request.htmx else template, context, status=400 if errors else 200)


def _answers(requisition, lang: str) -> list[tuple[str, str]]:
    """The checklist answers as (question, answer) in the checklist's words, in its order."""
    ruleset = ruleset_by_version(requisition.checklist_version)
    answers = dict(requisition.answers or {})
    shown = []
    for question in ruleset.questions if ruleset else ():
        value = answers.pop(question.id, None)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        else:
            text = dict(question.choices(lang)).get(value, str(value))
        shown.append((question.label(lang), text))
    shown.extend((name, str(value)) for name, value in sorted(answers.items()) if value not in (None, ""))
    return shown


@auditor_only
@require_GET
def audit_order(request: HttpRequest, pk: int) -> HttpResponse:
    """One order, read-only, as an auditor sees it (no patient identity)."""
    requisition = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
    log_access(request.user, [requisition], "audit-order")
    flags = audit.flags_by_id([requisition]).get(requisition.pk)
    lang = "en" if (request.LANGUAGE_CODE or "nb").startswith("en") else "nb"
    trips = list(requisition.trips.all())
    context = {
        "r": requisition,
        "flags": _flags_of(flags),
        "trips": trips,
        "reasons": [reason.get(lang) or reason.get("nb") for reason in requisition.reasons],
        "answers": _answers(requisition, lang),
        "events": event_timeline(requisition),
        "back_url": request.GET.get("back", "") if request.GET.get("back", "").startswith("/praksis/") else "",
    }
    return render(request, "requisitions/audit_order.html", context)


# --- exports -----------------------------------------------------------------------------------------------------


@auditor_only
@require_POST
def audit_export(request: HttpRequest) -> HttpResponse:
    """Export the filtered orders: small ones straight away, large ones through the export task."""
    filters, errors = _parse(request.POST)
    fmt = request.POST.get("format", "")
    if errors or fmt not in Export.Format.values:
        return HttpResponse(_("Invalid export request."), status=400, content_type="text/plain; charset=utf-8")
    qs = exports.export_queryset(request.user, filters)
    total = qs.count()
    if total > exports.DIRECT_LIMIT:
        export = exports.export_create(user=request.user, filters=filters, fmt=fmt, total=total)
        return redirect("compliance:export-status", pk=export.pk)
    exports.log_export(request.user, qs)
    name = exports.file_name(fmt)
    if fmt == Export.Format.CSV:
        response = StreamingHttpResponse(exports.csv_chunks(qs), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.xlsx_bytes(qs), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@auditor_only
@require_GET
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A large export's progress; htmx polls the progress partial every second until it is finished."""
    export = get_object_or_404(exports.exports_of(request.user), pk=pk)
    filters, _errors = _parse(export.filters)
    context = {
        "export": export,
        "period": filters.period,
        "orders_url": _url("compliance:audit-orders", filters.as_query()),
    }
    template = "requisitions/audit_export.html"
    return render(request, f"{template}#progress" if request.htmx else template, context)


@auditor_only
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = get_object_or_404(exports.exports_of(request.user), pk=pk, status=Export.Status.DONE)
    path = exports.export_path(export)
    if path is None or not path.is_file():
        raise Http404
    name = exports.file_name(export.format, on=timezone.localdate(export.created_at))
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=name)  # noqa: SIM115 - closed by Django
    response["Cache-Control"] = "no-store"
    return response
