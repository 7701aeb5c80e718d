"""Jobs in the admin: filter, search, and retry or cancel through the same services as the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest

from django_app.jobs import services
from django_app.jobs.errors import JobError
from django_app.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "owner", "status", "progress", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "queue_name", "task", "created_at"]
    search_fields = ["id", "task", "correlation_id", "error_code"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    actions = ["retry_jobs", "cancel_jobs"]
    readonly_fields = [
        "id",
        "owner",
        "task",
        "queue_name",
        "priority",
        "run_after",
        "params",
        "status",
        "progress",
        "note",
        "result",
        "error_code",
        "error_message",
        "attempts",
        "max_attempts",
        "seq",
        "lease_until",
        "enqueued_at",
        "correlation_id",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    ]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The user model's own login field (AUTH_USER_MODEL may log in by e-mail, with no username).
        return [*self.search_fields, f"owner__{get_user_model().USERNAME_FIELD}"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are submitted through the API, which validates their params

    def _apply(self, request: HttpRequest, queryset: QuerySet[Job], action: str) -> None:
        done, refused = 0, []
        for job in queryset:
            try:
                services.job_retry(job=job) if action == "retry" else services.job_cancel(job=job)
                done += 1
            except JobError as error:
                refused.append(f"{job.id}: {error.message}")
        if done:
            self.message_user(request, f"{action.title()}: {done} job(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Retry selected failed or cancelled jobs", permissions=["change"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._apply(request, queryset, "retry")

    @admin.action(description="Cancel selected queued or running jobs", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._apply(request, queryset, "cancel")
