from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "django_app.web"
    label = "web"
    verbose_name = "Browser page"
