from django.contrib import admin

from routing.models import Coverage


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ["municipality", "office_kind", "office", "valid_from", "valid_to"]
    list_filter = ["office_kind", "office"]
    search_fields = ["municipality__name", "municipality__number"]
    list_select_related = ["municipality", "office"]
