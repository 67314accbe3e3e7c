from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import views
from portal.api import views as api_views
from routing import api as routing_api

api_v1 = [
    path("offices/", api_views.OfficeList.as_view(), name="office-list"),
    path("postal-codes/<str:code>/", api_views.PostalCodeDetail.as_view(), name="postal-code-detail"),
    path("routing/preview/", routing_api.RoutingPreview.as_view(), name="routing-preview"),
    path("", include("requisitions.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("bestillinger/", include("requisitions.urls")),
    path("praksis/", include("requisitions.urls_compliance")),
    path("kontor/", include("routing.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
