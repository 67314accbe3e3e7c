from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from requisitions import beon, states
from requisitions.models import (
    ChecklistVersion,
    HelseekspressRoute,
    HelseekspressStop,
    Requisition,
    RequisitionEvent,
    Status,
    Trip,
)
from requisitions.selectors import actors_for
from requisitions.services import requisition_transition


class ChecklistVersionForm(forms.ModelForm):
    class Meta:
        model = ChecklistVersion
        fields = ["document"]

    def clean_document(self):
        document = self.cleaned_data["document"]
        try:
            ruleset = beon.load_ruleset(document)
        except beon.RuleSetError as exc:
            raise forms.ValidationError([str(error) for error in exc.errors] or str(exc)) from None
        self.ruleset = ruleset
        return document

    def save(self, commit=True):
        instance = super().save(commit=False)
        instance.version = self.ruleset.version
        instance.valid_from = self.ruleset.valid_from
        if commit:
            instance.save()
        return instance


@admin.register(ChecklistVersion)
class ChecklistVersionAdmin(admin.ModelAdmin):
    """A new BEON rule set is pasted as a JSON document; it is validated before it is accepted, and the
    version and start date are taken from the document itself. Published versions are never edited:
    requisitions store the version they were evaluated with."""

    form = ChecklistVersionForm
    list_display = ["version", "valid_from", "created_at"]
    readonly_fields = ["version", "valid_from", "created_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class HelseekspressStopInline(admin.TabularInline):
    model = HelseekspressStop
    extra = 1
    raw_id_fields = ["municipality"]


@admin.register(HelseekspressRoute)
class HelseekspressRouteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "weekdays", "departures", "valid_from", "valid_to"]
    inlines = [HelseekspressStopInline]


class TripInline(admin.TabularInline):
    model = Trip
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Trip._meta.fields]


class EventInline(admin.TabularInline):
    model = RequisitionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Retry routing of the selected orders"))
def retry_routing(modeladmin, request, queryset):
    retried = 0
    for requisition in queryset.filter(status=Status.ROUTING_FAILED):
        try:
            requisition_transition(
                requisition=requisition,
                user=request.user,
                actors=actors_for(request.user, requisition),
                target=states.SUBMITTED,
                note="retried by an administrator",
            )
            retried += 1
        except states.TransitionError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
    modeladmin.message_user(
        request,
        ngettext("%(n)d order sent to routing again.", "%(n)d orders sent to routing again.", retried) % {"n": retried},
    )


@admin.register(Requisition)
class RequisitionAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the services. Routing failures are listed here."""

    list_display = ["id", "status", "level", "recommended_level", "office", "unit", "first_trip_at", "late"]
    list_filter = ["status", "level", "late", "office"]
    date_hierarchy = "first_trip_at"
    list_select_related = ["office", "unit"]
    actions = [retry_routing]
    inlines = [TripInline, EventInline]
    readonly_fields = [f.name for f in Requisition._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
