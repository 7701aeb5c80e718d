from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "django_app.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Registers the sample tasks with the registry.
        from django_app.jobs import tasks  # noqa: F401
