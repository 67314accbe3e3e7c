from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from routing.delivery import pickup_sms_retry, webhook_deliveries_retry
from routing.models import Coverage, DeliveryAttempt, SmsNotification, WebhookDelivery


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ["municipality", "office_kind", "office", "valid_from", "valid_to"]
    list_filter = ["office_kind", "office"]
    search_fields = ["municipality__name", "municipality__number"]
    list_select_related = ["municipality", "office"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Delivery records are written by the tasks only; admins look and retry."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "at", "succeeded", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "requisition_id",
        "office",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "office", "event"]
    list_select_related = ["office"]
    search_fields = ["=requisition__id", "=uuid"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["retry_deliveries"]

    @admin.action(description=_("Retry the selected failed deliveries"), permissions=["retry"])
    def retry_deliveries(self, request, queryset):
        count = webhook_deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", count) % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(SmsNotification)
class SmsNotificationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "requisition_id", "pickup_at", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["=requisition__id"]
    date_hierarchy = "created_at"
    actions = ["retry_sms"]

    @admin.action(description=_("Retry the selected failed SMS"), permissions=["retry"])
    def retry_sms(self, request, queryset):
        count = pickup_sms_retry(notification_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)d SMS queued again.", "%(n)d SMS queued again.", count) % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )
