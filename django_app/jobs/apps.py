from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "django_app.jobs"
    label = "jobs"
    # What its migrations were made with, whatever the host project's DEFAULT_AUTO_FIELD says.
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Jobs"
