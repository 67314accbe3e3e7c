from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("aksepter/", views.bulk_accept, name="bulk-accept"),
    path("forhandsvisning/", views.routing_preview, name="preview"),
    path("<int:pk>/", views.office_detail, name="detail"),
    path("<int:pk>/handling/", views.office_act, name="act"),
]
