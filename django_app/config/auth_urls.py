"""Session login and logout for browsers (Django's views, CSRF on; login rate-limited)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from django_app.accounts.login import login_rate_limited

urlpatterns = [
    path("login/", login_rate_limited(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
