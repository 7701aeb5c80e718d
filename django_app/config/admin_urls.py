"""The admin, registered on first use: the admin app is installed as SimpleAdminConfig, so
``django.setup()`` does not import every app's admin module on a cold start."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from django_app.accounts.login import login_rate_limited

admin.autodiscover()
# The admin's login page under the same rate limits as the site's (it is listed first, so it wins).
urlpatterns = [path("login/", login_rate_limited(admin.site.login), name="login"), *admin.site.get_urls()]
