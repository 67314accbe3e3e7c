"""The requisitioner's web journey: order (with a live BEON checklist), list, detail, cancel, copy,
attest. Views parse input, load through the access helper, call one service, render."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal import roles
from portal.access_log import log_access
from portal.models import PostalCode
from requisitions import beon, states
from requisitions.checklists import ruleset_in_force
from requisitions.forms import OSLO, OrderForm, answers_from_post, apply_service_errors, known_patient
from requisitions.helseekspress import TripQuery, helseekspress_available
from requisitions.models import Level, Requisition, Status
from requisitions.selectors import (
    access_requisition,
    actors_for,
    event_timeline,
    helseekspress_routes,
    requisitions_visible_to,
    with_details,
)
from requisitions.services import (
    InputError,
    check_answers,
    check_level,
    check_trips,
    requisition_amend_resubmit,
    requisition_create,
    requisition_transition,
    series_cancel_from,
    series_create,
)


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def role_required(*allowed: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not roles.has_role(request.user, *allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


ordering = role_required(roles.REQUISITIONER, roles.CLERK)


# --- the checklist (live) -----------------------------------------------------------------------------


def _trip_facts(request_data) -> tuple[str | None, bool]:
    """From the trip the form describes so far: the pickup municipality's number (for the routing
    preview) and whether a Helseekspress route serves the trip."""
    form = OrderForm(request_data)
    form.is_valid()
    return _trip_facts_of(form.cleaned_data)


def _trip_facts_of(data: dict) -> tuple[str | None, bool]:
    home_postal = data.get("postal_code")
    origin = (
        home_postal
        if data.get("pickup_at_home", True) or not data.get("from_postal_code")
        else data.get("from_postal_code")
    )
    pickup = origin.municipality.number if origin else None
    destination = data.get("to_postal_code")
    if not (origin and destination and data.get("appointment_date") and data.get("appointment_time")):
        return pickup, False
    appointment = dt.datetime.combine(data["appointment_date"], data["appointment_time"], tzinfo=OSLO)
    query = TripQuery(origin.municipality.number, destination.municipality.number, appointment)
    return pickup, helseekspress_available(query, helseekspress_routes())


def _checklist_context(request_data, *, errors: dict | None = None) -> dict:
    ruleset = ruleset_in_force(timezone.localdate())
    answers = answers_from_post(ruleset, request_data)
    pickup_municipality, answers["helseekspress_available"] = _trip_facts(request_data)
    result, partial_errors = beon.validate_partial(ruleset, answers)
    required = set(ruleset.required_questions(answers))
    missing = [q for q in ruleset.visible_questions(answers) if q.id in required and q.id not in answers]
    lang = _lang()
    questions = []
    for question in ruleset.visible_questions(answers):
        value = answers.get(question.id, question.default if question.type != "bool" or not question.required else None)
        questions.append(
            {
                "q": question,
                "name": f"q_{question.id}",
                "label": question.label(lang),
                "help": question.help(lang),
                "choices": question.choices(lang),
                "value": value,
                "required": question.id in required,
                "errors": (errors or {}).get(question.id, []),
                "int_choices": list(range(question.minimum or 0, (question.maximum or 0) + 1))
                if question.type == "int"
                else [],
            }
        )
    recommended = result.level if result else None
    level_labels = dict(Level.choices)
    return {
        "questions": questions,
        "result": result,
        "reasons": [reason.text(lang) for reason in result.reasons] if result else [],
        "requirements": result.requirements if result else (),
        "recommended": recommended,
        "recommended_label": level_labels.get(recommended, ""),
        "missing_count": len(missing),
        # Acute symptoms stop the order at once, before the rest of the checklist is answered.
        "stop": result.stop if result else ("call_113" if answers.get("acute_symptoms") is True else None),
        "levels": [
            {
                "value": value,
                "label": label,
                "below": recommended is not None and beon.level_rank(value) < beon.level_rank(recommended),
                "recommended": value == recommended,
            }
            for value, label in Level.choices
        ],
        "chosen_level": request_data.get("level") or recommended,
        "pickup_municipality": pickup_municipality,
        "answers": answers,
    }


@ordering
def checklist_partial(request: HttpRequest) -> HttpResponse:
    """htmx: re-render the checklist and recommendation as the user answers."""
    data = request.POST if request.method == "POST" else request.GET
    context = _checklist_context(data)
    context.update(form=OrderForm(initial=data.dict()), oob=bool(request.GET.get("oob")))
    return render(request, "requisitions/order_form.html#checklist", context)


@ordering
@require_GET
def postal_code_partial(request: HttpRequest) -> HttpResponse:
    code = request.GET.get(request.GET.get("field", "postal_code"), "").strip()
    postal = PostalCode.objects.select_related("municipality").filter(code=code).first() if len(code) == 4 else None
    return render(
        request,
        "requisitions/order_form.html#postal_place",
        {"postal": postal, "code": code, "target": request.GET.get("field", "postal_code")},
    )


@ordering
@require_GET
def patient_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: a patient the unit has ordered for before is found by national ID and prefilled."""
    patient = known_patient(request.user.unit, request.GET.get("national_id", ""))
    if patient is None:
        return HttpResponse(status=204)  # nothing to fill in: htmx leaves what the user typed alone
    log_access(request.user, [], "patient-lookup", patient_ids=[patient.pk])
    initial = request.GET.copy()
    if patient:
        initial.update(
            {"name": patient.name, "phone": patient.phone, "street": patient.street, "postal_code": patient.postal_code}
        )
    form = OrderForm(initial=initial.dict())
    return render(request, "requisitions/order_form.html#patient", {"form": form, "found": patient, "looked_up": True})


# --- ordering -------------------------------------------------------------------------------------------


def _initial_from(requisition: Requisition) -> dict:
    """Copy an order as a new one: the same patient, answers, trip and level; new dates."""
    patient = requisition.patient
    trips = {trip.direction: trip for trip in requisition.trips.all()}
    outbound = trips["outbound"]
    initial = {
        "national_id": patient.national_id,
        "name": patient.name,
        "phone": patient.phone,
        "street": patient.street,
        "postal_code": patient.postal_code,
        "pickup_at_home": outbound.from_street == patient.street and outbound.from_postal_code == patient.postal_code,
        "from_street": outbound.from_street,
        "from_postal_code": outbound.from_postal_code,
        "to_street": outbound.to_street,
        "to_postal_code": outbound.to_postal_code,
        "appointment_time": timezone.localtime(outbound.appointment_at).strftime("%H:%M"),
        "level": requisition.level,
        "deviation_code": requisition.deviation_code,
        "deviation_reason": requisition.deviation_reason,
        "notes": requisition.notes,
        "return_trip": "return" in trips,
        "return_when_ready": "return" in trips and trips["return"].pickup_when_ready,
    }
    for key, value in requisition.answers.items():
        if isinstance(value, bool):
            initial[f"q_{key}"] = "yes" if value else "no"
        else:
            initial[f"q_{key}"] = str(value)
    return initial


def _clinicians(request):
    from portal.models import User

    return User.objects.filter(unit_id=request.user.unit_id, groups__name=roles.REQUISITIONER).order_by("last_name")


def _render_form(request, form, *, data, answer_errors=None, status=200):
    context = {
        "form": form,
        "clinicians": _clinicians(request),
        "is_clerk": not roles.has_role(request.user, roles.REQUISITIONER),
    }
    context.update(_checklist_context(data, errors=answer_errors))
    return render(request, "requisitions/order_form.html", context, status=status)


def _validated(request, form):
    """Run every check without saving. Returns (orders, answer_errors)."""
    ruleset = ruleset_in_force(timezone.localdate())
    answers = answers_from_post(ruleset, request.POST)
    answer_errors: dict = {}
    if not form.is_valid():
        _result, answer_errors = beon.validate_partial(ruleset, {**answers, "helseekspress_available": False})
        return None, answer_errors
    answers["helseekspress_available"] = _trip_facts_of(form.cleaned_data)[1]
    orders = [form.order_for(day, answers) for day in form.series_dates()]
    try:
        now = timezone.now()
        result = check_answers(answers, on=timezone.localdate())
        check_level(orders[0].level, result.level, orders[0].deviation_code, orders[0].deviation_reason)
        for order in orders:
            check_trips(order.trips, now=now)
    except InputError as exc:
        apply_service_errors(form, exc.errors, answer_errors=answer_errors)
        return None, answer_errors
    return orders, answer_errors


def _requisitioner_for(request):
    if roles.has_role(request.user, roles.REQUISITIONER):
        return request.user
    return _clinicians(request).filter(pk=request.POST.get("clinician") or 0).first()


@ordering
def order_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"pickup_at_home": True}
        source = request.GET.get("copy")
        if source:
            copied = access_requisition(request.user, source)
            log_access(request.user, [copied], "order-copy")
            initial.update(_initial_from(copied))
        form = OrderForm(initial=initial)
        return _render_form(request, form, data=initial)

    form = OrderForm(request.POST)
    orders, answer_errors = _validated(request, form)
    clinician = _requisitioner_for(request)
    if clinician is None:
        form.add_error(None, _("Choose the clinician who will attest the order."))
        orders = None
    if orders is None:
        return _render_form(request, form, data=request.POST, answer_errors=answer_errors, status=400)
    if request.POST.get("action") == "edit":
        return _render_form(request, form, data=request.POST, answer_errors=answer_errors)
    if request.POST.get("action") != "submit":
        context = {"form": form, "orders": orders, "clinician": clinician, "hidden": request.POST}
        context.update(_checklist_context(request.POST))
        return render(request, "requisitions/order_review.html", context)
    try:
        if len(orders) > 1:
            series = series_create(
                orders=orders,
                weekdays=form.cleaned_data["repeat_weekdays"],
                entered_by=request.user,
                requisitioner=clinician,
                unit=request.user.unit,
            )
            first = series.requisitions.order_by("first_trip_at").first()
            messages.success(
                request,
                ngettext(
                    "%(n)d order in the series has been received.",
                    "%(n)d orders in the series have been received.",
                    len(orders),
                )
                % {"n": len(orders)},
            )
        else:
            first = requisition_create(
                order=orders[0], entered_by=request.user, requisitioner=clinician, unit=request.user.unit
            )
            messages.success(request, _("The order has been received."))
    except InputError as exc:
        apply_service_errors(form, exc.errors, answer_errors=answer_errors)
        return _render_form(request, form, data=request.POST, answer_errors=answer_errors, status=400)
    if first.status == Status.AWAITING_ATTESTATION:
        messages.info(request, _("It waits until %(name)s attests it.") % {"name": clinician.display_name()})
    if first.late:
        messages.warning(
            request,
            _(
                "The order came after the cut-off (13:00 on the last working day before the trip). It is marked late; the office will do its best."
            ),
        )
    return redirect("requisitions:detail", pk=first.pk)


# --- list and detail --------------------------------------------------------------------------------


def _without_page(params) -> str:
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


@ordering
def order_list(request: HttpRequest) -> HttpResponse:
    qs = requisitions_visible_to(request.user).select_related("patient", "office", "requisitioner")
    status = request.GET.get("status", "")
    level = request.GET.get("level", "")
    if status in Status.values:
        qs = qs.filter(status=status)
    if level in Level.values:
        qs = qs.filter(level=level)
    if request.GET.get("mine"):
        qs = qs.filter(requisitioner=request.user)
    for name, lookup in (("from", "first_trip_at__date__gte"), ("to", "first_trip_at__date__lte")):
        try:
            if request.GET.get(name):
                qs = qs.filter(**{lookup: dt.date.fromisoformat(request.GET[name])})
        except ValueError:
            messages.error(request, _("Give dates as YYYY-MM-DD."))
    page = Paginator(qs.order_by("-first_trip_at"), 25).get_page(request.GET.get("page"))
    log_access(request.user, list(page.object_list), "order-list")
    context = {
        "page": page,
        "statuses": Status.choices,
        "levels": Level.choices,
        "filters": request.GET,
        "query": _without_page(request.GET),
    }
    template = "requisitions/order_list.html#results" if request.htmx else "requisitions/order_list.html"
    return render(request, template, context)


@ordering
def attestation_list(request: HttpRequest) -> HttpResponse:
    qs = (
        requisitions_visible_to(request.user)
        .filter(status=Status.AWAITING_ATTESTATION, requisitioner=request.user)
        .select_related("patient", "entered_by")
        .order_by("first_trip_at")
    )
    orders = list(qs)
    log_access(request.user, orders, "attestation-list")
    return render(request, "requisitions/attestation_list.html", {"orders": orders})


@ordering
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    requisition = access_requisition(request.user, pk, queryset=with_details(requisitions_visible_to(request.user)))
    log_access(request.user, [requisition], "order-detail")
    actors = actors_for(request.user, requisition)
    lang = _lang()
    context = {
        "r": requisition,
        "reasons": [reason.get(lang) or reason.get("nb") for reason in requisition.reasons],
        "can_cancel": bool(
            states.allowed_targets(requisition.status, actors)
            and states.CANCELLED in states.allowed_targets(requisition.status, actors)
        ),
        "can_attest": states.SUBMITTED in states.allowed_targets(requisition.status, actors)
        and requisition.status == Status.AWAITING_ATTESTATION,
        "can_resubmit": requisition.status == Status.RETURNED and bool(actors & {states.UNIT, states.CLINICIAN}),
        "series_count": requisition.series.requisitions.count() if requisition.series_id else 0,
        "events": event_timeline(requisition),
    }
    return render(request, "requisitions/order_detail.html", context)


def report_refusal(request: HttpRequest, exc: InputError | states.TransitionError) -> None:
    """Tell the user why a service refused: every field message, or the transition's reason."""
    if isinstance(exc, states.TransitionError):
        messages.error(request, exc.message)
        return
    for field_messages in exc.errors.values():
        for message in field_messages:
            messages.error(request, message)


def _transition_view(request, pk, target, note=""):
    requisition = access_requisition(request.user, pk, for_write=True)
    try:
        requisition_transition(
            requisition=requisition,
            user=request.user,
            actors=actors_for(request.user, requisition),
            target=target,
            note=note,
        )
    except (InputError, states.TransitionError) as exc:
        report_refusal(request, exc)
        return None
    return requisition


@ordering
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    if request.POST.get("scope") == "rest_of_series":
        requisition = access_requisition(request.user, pk, for_write=True)
        if requisition.series_id and reason.strip():
            cancelled = series_cancel_from(
                series=requisition.series,
                from_date=timezone.localdate(requisition.first_trip_at),
                user=request.user,
                actors=actors_for(request.user, requisition),
                reason=reason,
            )
            messages.success(
                request,
                ngettext(
                    "%(n)d order in the series was cancelled.",
                    "%(n)d orders in the series were cancelled.",
                    len(cancelled),
                )
                % {"n": len(cancelled)},
            )
            return redirect("requisitions:detail", pk=pk)
    if _transition_view(request, pk, states.CANCELLED, note=reason):
        messages.success(request, _("The order was cancelled."))
    return redirect("requisitions:detail", pk=pk)


@ordering
@require_POST
def order_attest(request: HttpRequest, pk: int) -> HttpResponse:
    if _transition_view(request, pk, states.SUBMITTED):
        messages.success(request, _("You attested the order. It has been sent."))
    return redirect("requisitions:detail", pk=pk)


@ordering
@require_POST
def order_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    """A returned order: answer the office's question, optionally move the appointment, send again."""
    requisition = access_requisition(request.user, pk, for_write=True)
    appointment = None
    raw = request.POST.get("appointment_at", "")
    if raw:
        try:
            appointment = timezone.make_aware(dt.datetime.fromisoformat(raw))
        except ValueError:
            messages.error(request, _("Give the appointment as a date and time."))
            return redirect("requisitions:detail", pk=pk)
    try:
        requisition_amend_resubmit(
            requisition=requisition,
            user=request.user,
            actors=actors_for(request.user, requisition),
            answer=request.POST.get("answer", ""),
            appointment_at=appointment,
        )
    except (InputError, states.TransitionError) as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, _("The order was sent again."))
    return redirect("requisitions:detail", pk=pk)
