"""The per-user quota of unfinished jobs: a user with ``JOBS_MAX_UNFINISHED_PER_USER`` jobs queued or
running submits no more until one ends, so one client cannot fill the queue for everyone else.

The system user (scheduled jobs, ``periodic.py``) is exempt: a schedule must never stop firing
because earlier runs are still waiting. 0 turns the quota off.

A soft limit: two submits of one user at the same moment may both pass the count, so a user can
end up a few jobs over it (at most the number of requests in flight). Locking the user's row to
make it exact would serialise every submit of that user for a rule that only needs to be close.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser

from django_app.jobs.conf import system_username
from django_app.jobs.errors import QuotaExceeded
from django_app.jobs.models import Job, JobStatus

DEFAULT_MAX_UNFINISHED_PER_USER = 100
UNFINISHED_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


def max_unfinished_per_user() -> int:
    """The limit now (read on every use, so tests and settings overrides apply); 0: no limit."""
    return int(getattr(settings, "JOBS_MAX_UNFINISHED_PER_USER", DEFAULT_MAX_UNFINISHED_PER_USER))


def unfinished_count(*, owner_id: Any, at_most: int) -> int:
    """The owner's queued and running jobs, counted up to ``at_most``: the count stops there, so a
    user with thousands of old jobs costs no more than one under the limit (the owner's rows are
    found through the ``job_owner_created`` index)."""
    return Job.objects.filter(owner_id=owner_id, status__in=UNFINISHED_STATUSES)[:at_most].count()


def quota_check(*, owner: AbstractBaseUser) -> None:
    """Raises ``QuotaExceeded`` when ``owner`` may not submit another job now."""
    limit = max_unfinished_per_user()
    if limit <= 0 or owner.get_username() == system_username():
        return
    count = unfinished_count(owner_id=owner.pk, at_most=limit)
    if count >= limit:
        raise QuotaExceeded(
            f"You have {count} unfinished jobs (queued or running); the limit is {limit}. "
            "Submit more once some of them have finished."
        )
