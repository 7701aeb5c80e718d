"""Sample tasks for the local stack, the tests and the docs: installed by settings/local.py and
settings/test.py, never by the settings a deployed stage runs (base.py, lambda_.py)."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "django_app.demo"
    label = "demo"
    verbose_name = "Sample tasks"
