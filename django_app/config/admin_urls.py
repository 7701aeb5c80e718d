"""The admin, registered on first use: the admin app is installed as SimpleAdminConfig, so
``django.setup()`` does not import every app's admin module on a cold start."""

from __future__ import annotations

from django.contrib import admin

admin.autodiscover()
urlpatterns = admin.site.get_urls()
