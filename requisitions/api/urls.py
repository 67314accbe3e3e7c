from django.urls import path

from requisitions.api import compliance, views

urlpatterns = [
    path("beon/evaluate/", views.Evaluate.as_view(), name="beon-evaluate"),
    path("requisitions/", views.RequisitionListCreate.as_view(), name="requisition-list"),
    path("requisitions/<int:pk>/", views.RequisitionDetail.as_view(), name="requisition-detail"),
    path("requisitions/<int:pk>/cancel/", views.RequisitionCancel.as_view(), name="requisition-cancel"),
    path("requisitions/<int:pk>/attest/", views.RequisitionAttest.as_view(), name="requisition-attest"),
    path("requisitions/<int:pk>/resubmit/", views.RequisitionResubmit.as_view(), name="requisition-resubmit"),
    path(
        "requisitions/<int:pk>/transition/",
        views.RequisitionTransition.as_view(),
        name="requisition-transition",
    ),
    path("offices/<str:code>/queue/", views.OfficeQueue.as_view(), name="office-queue"),
    path("compliance/me/", compliance.ComplianceMe.as_view(), name="compliance-me"),
    path("compliance/requisitioners/", compliance.ComplianceRequisitioners.as_view(), name="compliance-requisitioners"),
    path("patients/access-log/", compliance.PatientAccessLog.as_view(), name="patient-access-log"),
]
