"""URL map. API views are imported lazily per module so a cold start loads only what it serves."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("api/", include("django_app.config.api_urls")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("django_app.web.urls")),
]

handler400 = "django_app.config.errors.bad_request"
handler403 = "django_app.config.errors.permission_denied"
handler404 = "django_app.config.errors.not_found"
handler500 = "django_app.config.errors.server_error"
