"""/praksis/: the requisitioner's own ordering practice and the auditor's dashboards (views_compliance)."""

from django.urls import path

from requisitions import views_compliance as views

app_name = "compliance"

urlpatterns = [
    path("", views.my_practice, name="mine"),
    path("bestillinger/", views.my_orders, name="my-orders"),
    path("revisjon/", views.audit_dashboard, name="audit"),
    path("revisjon/bestillinger/", views.audit_orders, name="audit-orders"),
    path("revisjon/bestillinger/<int:pk>/", views.audit_order, name="audit-order"),
    path("revisjon/eksport/", views.audit_export, name="audit-export"),
    path("revisjon/eksport/<int:pk>/", views.export_status, name="export-status"),
    path("revisjon/eksport/<int:pk>/fil/", views.export_download, name="export-download"),
]
