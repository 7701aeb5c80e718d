"""The job: one row per submitted unit of work, the single source of truth for its state."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: job_owner_created starts with owner and serves its lookups and cascades.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", db_index=False)
    task = models.CharField(max_length=100)
    # Which SQS queue (and so which worker function, with its timeout) runs it: a key of
    # settings.JOBS_QUEUES (django_app/jobs/queues.py).
    queue_name = models.CharField(max_length=32, default="default")
    # Higher runs first, -100..100 as django-tasks allows. SQS standard queues have no priority:
    # it orders a batch's records and the sweep's releases of held jobs, nothing more.
    priority = models.SmallIntegerField(default=0)
    # Never started before this time. Null: as soon as possible.
    run_after = models.DateTimeField(null=True, blank=True)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # Grows by one on every change; events carry it so clients can order and de-duplicate.
    seq = models.PositiveBigIntegerField(default=0)
    # While running, the worker holds the job until this time; past it, the job may be reclaimed.
    lease_until = models.DateTimeField(null=True, blank=True)
    # When the job message was last handed to SQS; null while a send is pending or failed.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when SNS did not take an event of this job that the API or a sweep published (the worker
    # keeps its SQS message instead); the ``republish`` sweep publishes the job's state and clears it.
    event_unpublished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Every state change writes a new row version into each index whose condition it meets: the
        # sweeps' indexes are partial, one per status they look at, so a claim or an end adds three
        # index entries (key, owner, its status's), not six.
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            # The unsent sweep: queued jobs whose message went out long ago, or never; held jobs (no
            # message yet, run_after far ahead) are found by run_after within the never-sent ones.
            models.Index(
                fields=["enqueued_at", "run_after"], name="job_queued_enqueued_due", condition=models.Q(status="queued")
            ),
            # The lease sweep: running jobs whose lease expired.
            models.Index(fields=["lease_until"], name="job_running_lease", condition=models.Q(status="running")),
            # The purge: finished jobs past the retention.
            models.Index(fields=["finished_at"], name="job_ended_finished", condition=models.Q(status__in=TERMINAL)),
            models.Index(
                fields=["event_unpublished_at"],
                name="job_event_unpublished",
                condition=models.Q(event_unpublished_at__isnull=False),  # almost always empty
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL
