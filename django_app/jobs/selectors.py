"""Reads of jobs, always scoped to an owner: another user's job simply does not exist (404)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from django_app.jobs.models import Job


def job_list(*, owner_id: int, status: str | None = None) -> QuerySet[Job]:
    jobs = Job.objects.filter(owner_id=owner_id)
    if status:
        jobs = jobs.filter(status=status)
    return jobs.order_by("-created_at")


def job_get(*, owner_id: int, job_id: uuid.UUID) -> Job:
    """Raises ``Job.DoesNotExist`` for a missing job and for another user's job alike."""
    return Job.objects.get(owner_id=owner_id, pk=job_id)


def job_get_any(*, job_id: uuid.UUID) -> Job:
    """Any user's job: only for a service credential allowed ``jobs:read``. Raises ``Job.DoesNotExist``."""
    return Job.objects.get(pk=job_id)


def job_ids_owned(*, owner_id: int, job_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(job_ids)
    if not wanted:
        return set()
    return set(Job.objects.filter(owner_id=owner_id, pk__in=wanted).values_list("id", flat=True))
