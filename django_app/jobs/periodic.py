"""Periodic tasks: a schedule names a task, and it runs as an ordinary job owned by a system user.

So a scheduled run is visible like any job (API for the system user, admin), goes through the same
registry, queue, retries and DLQ, and its events carry the system user's id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from django_app.jobs.conf import system_username
from django_app.jobs.models import Job
from django_app.jobs.services import job_submit


def system_user_get() -> AbstractBaseUser:
    """The owner of scheduled jobs. It cannot log in: no usable password, and inactive where the user
    model has an ``is_active`` field. Found by the model's ``USERNAME_FIELD`` (a custom user model
    may log in by e-mail), so ``JOBS_SYSTEM_USERNAME`` must fit that field."""
    user_model = get_user_model()
    defaults: dict[str, Any] = {}
    try:
        user_model._meta.get_field("is_active")
        defaults["is_active"] = False
    except FieldDoesNotExist:  # AbstractBaseUser's is_active is a constant True, not a column
        pass
    lookup = {user_model.USERNAME_FIELD: system_username()}
    user, created = user_model._default_manager.get_or_create(**lookup, defaults=defaults)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def periodic_job_start(*, task_name: str, params: Any, schedule: str = "", now: dt.datetime | None = None) -> Job:
    """Submits one job for a schedule firing. EventBridge delivers at least once, so a second
    invocation for the same task in the same minute returns the job the first one created."""
    now = now or timezone.now()
    correlation_id = f"schedule:{schedule or task_name}:{now:%Y%m%dT%H%M}"[:100]
    owner = system_user_get()
    existing = Job.objects.filter(owner_id=owner.pk, task=task_name, correlation_id=correlation_id).first()
    if existing is not None:
        return existing
    return job_submit(owner=owner, task_name=task_name, params=params, correlation_id=correlation_id)
