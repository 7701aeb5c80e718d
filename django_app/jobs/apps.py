from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "django_app.jobs"
    label = "jobs"
    verbose_name = "Jobs"
