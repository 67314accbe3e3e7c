"""The office's live queue: open orders soonest first, filters, actions, bulk accept."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import roles
from portal.access_log import log_access
from portal.models import Municipality
from requisitions import states
from requisitions.models import Level, Status
from requisitions.selectors import (
    access_requisition,
    actors_for,
    event_timeline,
    requisitions_visible_to,
    with_details,
)
from requisitions.services import InputError, requisition_transition
from requisitions.views import report_refusal, role_required
from routing.resolver import LEVELS, resolve
from routing.selectors import area_for_municipality, area_for_trust

OSLO = ZoneInfo("Europe/Oslo")
SHORT_NOTICE = dt.timedelta(hours=24)
UNACCEPTED_ALERT = dt.timedelta(minutes=30)
QUEUE_ROWS = 100  # the soonest trips; filters narrow the rest
office_only = role_required(roles.OFFICE_STAFF)


def _queue(request: HttpRequest):
    qs = (
        requisitions_visible_to(request.user)
        .filter(office_id=request.user.office_id, status__in=states.OFFICE_OPEN)
        .select_related("patient", "unit", "requisitioner")
        .order_by("first_trip_at", "pk")
    )
    params = request.GET
    if params.get("status") in states.OFFICE_OPEN:
        qs = qs.filter(status=params["status"])
    if params.get("level") in Level.values:
        qs = qs.filter(level=params["level"])
    if params.get("late"):
        qs = qs.filter(late=True)
    now = timezone.now()
    if params.get("short_notice"):
        qs = qs.filter(first_trip_at__lte=now + SHORT_NOTICE)
    if params.get("date"):
        try:
            day = dt.date.fromisoformat(params["date"])
            qs = qs.filter(first_trip_at__date=day)
        except ValueError:
            messages.error(request, _("Give dates as YYYY-MM-DD."))
    return qs, now


@office_only
def queue(request: HttpRequest) -> HttpResponse:
    qs, now = _queue(request)
    orders = list(qs[:QUEUE_ROWS])
    if request.headers.get("HX-Trigger") != "queue-rows":
        # The automatic refresh every 15 s shows the same list again: it is logged when opened or filtered.
        log_access(request.user, orders, "office-queue")
    for order in orders:
        order.short_notice = order.first_trip_at <= now + SHORT_NOTICE
        order.long_unaccepted = (
            order.status == Status.ROUTED and order.routed_at is not None and now - order.routed_at > UNACCEPTED_ALERT
        )
    context = {
        "orders": orders,
        "total": qs.count() if len(orders) == QUEUE_ROWS else len(orders),
        "shown": len(orders),
        "office": request.user.office,
        "filters": request.GET,
        "statuses": [(value, label) for value, label in Status.choices if value in states.OFFICE_OPEN],
        "levels": Level.choices,
        "updated": now,
    }
    template = "routing/queue.html#rows" if request.htmx else "routing/queue.html"
    return render(request, template, context)


@office_only
def office_detail(request: HttpRequest, pk: int) -> HttpResponse:
    requisition = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
    log_access(request.user, [requisition], "office-detail")
    lang = "en" if (get_language() or "nb").startswith("en") else "nb"
    actors = actors_for(request.user, requisition)
    context = {
        "r": requisition,
        "reasons": [reason.get(lang) or reason.get("nb") for reason in requisition.reasons],
        "allowed": set(states.allowed_targets(requisition.status, actors & {states.OFFICE})),
        "events": event_timeline(requisition),
    }
    return render(request, "routing/office_detail.html", context)


def _parse_pickup(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=OSLO) if value else None
    except ValueError:
        return None


@office_only
@require_POST
def office_act(request: HttpRequest, pk: int) -> HttpResponse:
    target = request.POST.get("to", "")
    requisition = access_requisition(request.user, pk, for_write=True)
    try:
        requisition_transition(
            requisition=requisition,
            user=request.user,
            actors=actors_for(request.user, requisition) & {states.OFFICE},
            target=target,
            note=request.POST.get("note", ""),
            pickup_at=_parse_pickup(request.POST.get("pickup_at", "")),
            provider_note=request.POST.get("provider", ""),
        )
    except (InputError, states.TransitionError) as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request, _("Order %(n)s is now %(status)s.") % {"n": pk, "status": Status(target).label.lower()}
        )
    return redirect("routing:detail", pk=pk)


@office_only
@require_POST
def bulk_accept(request: HttpRequest) -> HttpResponse:
    accepted, skipped = 0, 0
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    visible = requisitions_visible_to(request.user)
    for pk in ids:
        with transaction.atomic():
            requisition = visible.filter(pk=pk).first()
            if requisition is None:
                skipped += 1
                continue
            try:
                requisition_transition(
                    requisition=requisition,
                    user=request.user,
                    actors=actors_for(request.user, requisition) & {states.OFFICE},
                    target=states.ACCEPTED,
                )
                accepted += 1
            except states.TransitionError:
                skipped += 1
    messages.success(request, ngettext("%(n)d order accepted.", "%(n)d orders accepted.", accepted) % {"n": accepted})
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(n)d order was already handled by someone else or could not be accepted.",
                "%(n)d orders were already handled by someone else or could not be accepted.",
                skipped,
            )
            % {"n": skipped},
        )
    return redirect("routing:queue")


@role_required(roles.REQUISITIONER, roles.CLERK)
def routing_preview(request: HttpRequest) -> HttpResponse:
    """htmx, for the order form: which office an order at this level from this pickup would go to."""
    municipality = (
        Municipality.objects.select_related("trust").filter(number=request.GET.get("municipality", "")).first()
    )
    level = request.GET.get("level", "")
    office = None
    if municipality is not None and level in LEVELS:
        if municipality.trust_id:
            area = area_for_municipality(municipality)
        else:
            trust = request.user.unit.effective_trust if request.user.unit_id else None
            area = area_for_trust(trust) if trust else None
        office = resolve(level, area, on=timezone.localdate()) if area else None
    return render(request, "routing/_preview.html", {"office": office, "level": level})
