from django.urls import path

from requisitions import views

app_name = "requisitions"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("ny/", views.order_new, name="new"),
    path("sjekkliste/", views.checklist_partial, name="checklist"),
    path("postnummer/", views.postal_code_partial, name="postal-code"),
    path("pasient/", views.patient_lookup, name="patient-lookup"),
    path("attestering/", views.attestation_list, name="attestation"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/kanseller/", views.order_cancel, name="cancel"),
    path("<int:pk>/attester/", views.order_attest, name="attest"),
    path("<int:pk>/send-igjen/", views.order_resubmit, name="resubmit"),
]
