from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.models import HealthTrust, Municipality, Office, PostalCode, RequisitioningUnit, User


@admin.register(HealthTrust)
class HealthTrustAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "white_cars_from_pasientreiser", "default_amk", "default_pasientreiser"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "trust", "cut_off_time", "webhook_url"]
    list_filter = ["kind", "trust"]
    search_fields = ["code", "name"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "county_name", "trust"]
    list_filter = ["trust", "county_name"]
    search_fields = ["number", "name"]


@admin.register(PostalCode)
class PostalCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "place", "municipality", "category"]
    search_fields = ["code", "place"]
    list_select_related = ["municipality"]
    raw_id_fields = ["municipality"]


@admin.register(RequisitioningUnit)
class RequisitioningUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "municipality", "trust"]
    list_filter = ["kind", "trust"]
    search_fields = ["name"]
    raw_id_fields = ["municipality"]


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Portal", {"fields": ("hpr_number", "unit", "office")}))
    list_display = ["username", "first_name", "last_name", "unit", "office", "is_active"]
    list_filter = ["groups", "is_active"]
