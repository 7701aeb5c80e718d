"""The jobs HTTP API: thin views over ``services`` and ``selectors``."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_app.accounts.authentication import authenticated_user
from django_app.accounts.permissions import service_credential_of, service_may
from django_app.config.errors import ApiError
from django_app.jobs import selectors, services
from django_app.jobs.errors import (
    JobConflict,
    JobError,
    ParamsTooLarge,
    QuotaExceeded,
    TaskTooLongForQueue,
    UnknownQueue,
    UnknownTask,
)
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.quota import quota_check
from django_app.jobs.registry import task_all
from django_app.jobs.serializers import JobSerializer, JobSubmitSerializer

CORRELATION_HEADER = "HTTP_X_CORRELATION_ID"


def _api_error(error: JobError) -> ApiError | serializers.ValidationError:
    if isinstance(error, UnknownTask | UnknownQueue | TaskTooLongForQueue):
        return ApiError(status_code=400, code=error.code, message=error.message)
    if isinstance(error, ParamsTooLarge):
        return ApiError(status_code=413, code=error.code, message=error.message)
    if isinstance(error, JobConflict):
        return ApiError(status_code=409, code=error.code, message=error.message)
    if isinstance(error, QuotaExceeded):
        # No Retry-After: when a job ends depends on the user's own jobs, not on a clock.
        return ApiError(status_code=429, code=error.code, message=error.message)
    return serializers.ValidationError({"code": error.code, "message": error.message, "fields": error.fields})


def _owned_job(request: Request, job_id: uuid.UUID) -> Job:
    try:
        return selectors.job_get(owner_id=authenticated_user(request).pk, job_id=job_id)
    except Job.DoesNotExist:
        raise ApiError(status_code=404, code="job_not_found", message="No such job.") from None


def _etag(job: Job) -> str:
    return f'"{job.id.hex}.{job.seq}"'


class JobCursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        # DRF falls back to the default on `page_size=abc` or `0`; bad input gets a 400 here.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ApiError(status_code=400, code="invalid_filter", message="`page_size` must be a positive integer.")
        return super().get_page_size(request)


class TaskListApi(APIView):
    @extend_schema(responses={200: inline_serializer("Task", {"name": serializers.CharField()}, many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "name": spec.name,
                    "description": spec.description,
                    "timeout": spec.timeout,
                    "max_attempts": spec.max_attempts,
                    "params_schema": spec.params.model_json_schema(),
                }
                for spec in task_all()
            ]
        )


class JobListCreateApi(APIView):
    @extend_schema(
        operation_id="jobs_list",  # a page, not a list: spectacular would name it jobs_retrieve too
        parameters=[
            OpenApiParameter("status", enum=JobStatus.values),
            OpenApiParameter("cursor", str, description="`next` or `previous` of the page before."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description=f"Jobs per page, {JobCursorPagination.page_size} by default; more than "
                f"{JobCursorPagination.max_page_size} gives {JobCursorPagination.max_page_size}.",
            ),
        ],
        responses={
            200: inline_serializer(
                "JobPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": JobSerializer(many=True),
                },
            ),
            404: OpenApiResponse(description="`not_found`: the cursor is not one this API gave out."),
        },
    )
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status")
        if status_filter is not None and status_filter not in JobStatus.values:
            raise ApiError(
                status_code=400,
                code="invalid_filter",
                message=f"`status` must be one of {', '.join(JobStatus.values)}.",
            )
        jobs = selectors.job_list(owner_id=authenticated_user(request).pk, status=status_filter)
        paginator = JobCursorPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=JobSubmitSerializer,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(
                description="`unknown_task`, `invalid_params` (see `fields`), `invalid_request`, `unknown_queue`, "
                "`task_timeout_exceeds_queue`, `invalid_schedule` (priority or run_after)."
            ),
            413: OpenApiResponse(description="`params_too_large`, `payload_too_large`."),
            429: OpenApiResponse(
                description="`quota_exceeded`: the user has as many unfinished (queued or running) jobs as "
                "JOBS_MAX_UNFINISHED_PER_USER allows; submit again once one has finished (no Retry-After)."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ApiError(status_code=400, code="invalid_request", message="Send a JSON object.")
        body = JobSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = services.job_submit(
                owner=authenticated_user(request),
                task_name=body.validated_data["task"],
                params=body.validated_data["params"],
                correlation_id=request.META.get(CORRELATION_HEADER, "")[:100],
                queue_name=body.validated_data["queue_name"],
                priority=body.validated_data["priority"],
                run_after=body.validated_data["run_after"],
            )
        except JobError as error:
            raise _api_error(error) from None
        data = JobSerializer(job, context={"request": request}).data
        return Response(
            data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": data["links"]["self"], "ETag": _etag(job)},
        )


def _readable_job(request: Request, job_id: uuid.UUID) -> Job:
    """The caller's own job; or any job, for a service credential allowed ``jobs:read``."""
    if service_credential_of(request) is None:
        return _owned_job(request, job_id)
    if not service_may(request, "jobs:read"):
        raise ApiError(status_code=403, code="service_permission_missing", message="This credential lacks jobs:read.")
    try:
        return selectors.job_get_any(job_id=job_id)
    except Job.DoesNotExist:
        raise ApiError(status_code=404, code="job_not_found", message="No such job.") from None


class JobDetailApi(APIView):
    # Services read a job whose event carried a result_url instead of the result.
    service_permission = "jobs:read"

    @extend_schema(responses={200: JobSerializer, 304: None})
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        job = _readable_job(request, job_id)
        etag = _etag(job)
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match.strip() == "*" or etag in [tag.strip() for tag in if_none_match.split(",")]:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(JobSerializer(job, context={"request": request}).data, headers={"ETag": etag})


class _JobActionApi(APIView):
    def act(self, job: Job) -> Job:
        raise NotImplementedError

    @extend_schema(
        request=None,
        responses={
            200: JobSerializer,
            409: OpenApiResponse(
                description="`job_not_cancellable`, `job_not_retryable`: its status does not allow it."
            ),
            429: OpenApiResponse(description="retry: `quota_exceeded`, as for a new job."),
        },
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        job = _owned_job(request, job_id)
        try:
            job = self.act(job)
        except JobError as error:
            raise _api_error(error) from None
        return Response(JobSerializer(job, context={"request": request}).data, headers={"ETag": _etag(job)})


class JobCancelApi(_JobActionApi):
    def act(self, job: Job) -> Job:
        return services.job_cancel(job=job)


class JobRetryApi(_JobActionApi):
    def act(self, job: Job) -> Job:
        # A retried job is unfinished again: the quota holds as for a new one (the admin's retry,
        # an operator's decision, does not ask it).
        quota_check(owner=job.owner)
        return services.job_retry(job=job)
