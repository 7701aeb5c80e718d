"""How jobs look over HTTP."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from django_app.jobs.models import Job, JobStatus


class JobSubmitSerializer(serializers.Serializer):
    task = serializers.CharField(max_length=100)
    params = serializers.JSONField(required=False, default=dict)
    queue_name = serializers.CharField(
        max_length=32, required=False, default=None, help_text="A queue of JOBS_QUEUES; the task's own by default."
    )
    # Range checked by job_submit (`invalid_schedule`), the one place that knows it.
    priority = serializers.IntegerField(
        required=False, default=0, help_text="-100..100; orders a worker's batch and the sweep's releases."
    )
    run_after = serializers.DateTimeField(
        required=False, default=None, help_text="Not started before this time (ISO 8601, with its offset)."
    )


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class JobLinksSerializer(serializers.Serializer):
    self = serializers.CharField(help_text="Poll here; send If-None-Match with the last ETag.")
    cancel = serializers.CharField()
    retry = serializers.CharField()
    tickets = serializers.CharField(help_text="POST here for a WebSocket ticket.")
    websocket = serializers.CharField(help_text="Connect here with ?ticket=…")
    topic = serializers.CharField(help_text="Subscribe to this topic for this job's events.")


class JobSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=JobStatus.choices)
    error = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "task",
            "queue_name",
            "priority",
            "run_after",
            "status",
            "progress",
            "note",
            "params",
            "result",
            "error",
            "attempts",
            "max_attempts",
            "seq",
            "created_at",
            "started_at",
            "finished_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict[str, str] | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}

    @extend_schema_field(JobLinksSerializer)
    def get_links(self, job: Job) -> dict[str, str]:
        request = self.context.get("request")

        def absolute(path: str) -> str:
            return request.build_absolute_uri(path) if request is not None else path

        return {
            "self": absolute(reverse("job-detail", args=[job.id])),
            "cancel": absolute(reverse("job-cancel", args=[job.id])),
            "retry": absolute(reverse("job-retry", args=[job.id])),
            "tickets": absolute(reverse("ws-ticket")),
            "websocket": settings.WEBSOCKET_URL,
            "topic": f"job:{job.id}",
        }
