"""Every kind of bad input gets a 4xx with a stable code and a message, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_app.accounts.tokens import api_token_create, api_token_revoke
from django_app.jobs.models import Job, JobStatus
from tests.aws import drain

pytestmark = pytest.mark.django_db


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.content.decode()
    return error


def post_raw(api: Any, body: str) -> Any:
    return api.post("/api/jobs/", data=body, content_type="application/json")


def test_malformed_json(api: Any, jobs_queue: str) -> None:
    assert_error(post_raw(api, '{"task": "countdown",'), 400, "malformed_json")
    assert Job.objects.count() == 0
    assert drain(jobs_queue) == []


@pytest.mark.parametrize("body", ["[1, 2]", '"countdown"', "null"])
def test_body_not_an_object(api: Any, body: str) -> None:
    assert_error(post_raw(api, body), 400, "invalid_request")


def test_missing_task_field(api: Any) -> None:
    error = assert_error(post_raw(api, json.dumps({"params": {}})), 400, "invalid_request")
    assert "task" in error["fields"]


def test_unknown_task(api: Any, jobs_queue: str) -> None:
    assert_error(post_raw(api, json.dumps({"task": "mine_bitcoin"})), 400, "unknown_task")
    assert Job.objects.count() == 0
    assert drain(jobs_queue) == []


def test_params_failing_the_schema_name_each_field(api: Any) -> None:
    body = {"task": "countdown", "params": {"seconds": 999, "colour": "red"}}
    error = assert_error(post_raw(api, json.dumps(body)), 400, "invalid_params")
    assert set(error["fields"]) == {"seconds", "colour"}
    assert Job.objects.count() == 0


def test_params_not_an_object(api: Any) -> None:
    error = assert_error(post_raw(api, json.dumps({"task": "countdown", "params": [1]})), 400, "invalid_params")
    assert "params" in error["fields"]


def test_params_over_the_size_limit(api: Any, settings: Any) -> None:
    body = {"task": "word_count", "params": {"text": "x" * (settings.JOB_PARAMS_MAX_BYTES + 1)}}
    assert_error(post_raw(api, json.dumps(body)), 413, "params_too_large")
    assert Job.objects.count() == 0


def test_body_over_the_request_limit(api: Any, settings: Any) -> None:
    body = {"task": "word_count", "params": {"text": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}}
    assert_error(post_raw(api, json.dumps(body)), 413, "payload_too_large")


def test_missing_token() -> None:
    response = APIClient().post("/api/jobs/", data="{}", content_type="application/json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer pgt_not-a-real-token", "Bearer ", "Bearer " + "x" * 500])
def test_invalid_token(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/jobs/"), 401, "invalid_token")


def test_revoked_token(user: Any) -> None:
    token, raw = api_token_create(user=user, name="old")
    api_token_revoke(token=token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(client.get("/api/jobs/"), 401, "revoked_token")


def test_another_users_job_is_404_not_403(api: Any, other_user: Any) -> None:
    theirs = Job.objects.create(owner=other_user, task="countdown", params={"seconds": 1})
    assert_error(api.get(f"/api/jobs/{theirs.id}/"), 404, "job_not_found")
    assert_error(api.post(f"/api/jobs/{theirs.id}/cancel/"), 404, "job_not_found")
    theirs.refresh_from_db()
    assert theirs.status == JobStatus.QUEUED


def test_cancel_a_finished_job_is_409(api: Any, user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1}, status=JobStatus.SUCCEEDED, seq=4)
    assert_error(api.post(f"/api/jobs/{job.id}/cancel/"), 409, "job_not_cancellable")
    job.refresh_from_db()
    assert (job.status, job.seq) == (JobStatus.SUCCEEDED, 4)


def test_retry_a_queued_job_is_409(api: Any, user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1})
    assert_error(api.post(f"/api/jobs/{job.id}/retry/"), 409, "job_not_retryable")


def test_bad_status_filter(api: Any) -> None:
    assert_error(api.get("/api/jobs/?status=exploded"), 400, "invalid_filter")


def test_malformed_job_id_is_404(api: Any) -> None:
    assert_error(api.get("/api/jobs/not-a-uuid/"), 404, "not_found")


def test_wrong_method(api: Any, user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1})
    assert_error(api.delete(f"/api/jobs/{job.id}/"), 405, "method_not_allowed")


def test_form_encoded_body_is_refused(api: Any) -> None:
    response = api.post("/api/jobs/", data="task=countdown", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_disallowed_host(client: Any) -> None:
    response = client.get("/api/health/", HTTP_HOST="evil.example.com")
    assert_error(response, 400, "disallowed_host")


@pytest.mark.parametrize("page_size", ["abc", "0", "-1", "1.5", "", "٣"])
def test_bad_page_size(api: Any, page_size: str) -> None:
    # DRF used the default page size instead: found by tests/security/test_api_schemathesis.py.
    assert_error(api.get("/api/jobs/", {"page_size": page_size}), 400, "invalid_filter")


def test_a_page_size_over_the_maximum_gives_the_maximum(api: Any) -> None:
    assert api.get("/api/jobs/", {"page_size": "1000"}).status_code == 200


@pytest.mark.parametrize("path", ["/api/ws/tickets/", "/api/ws/grants/"])
@pytest.mark.parametrize("job_id", [False, True, 0, 5, 1.5, None])
def test_a_job_id_that_is_not_a_uuid_string(api: Any, path: str, job_id: Any) -> None:
    # DRF's UUIDField took JSON numbers (and booleans) as UUID(int=…): `false` was job 00000000-….
    error = assert_error(api.post(path, {"jobs": [job_id]}, format="json"), 400, "invalid_request")
    assert "jobs" in error["fields"]


def test_an_unknown_queue(api: Any, jobs_queue: str) -> None:
    body = {"task": "countdown", "params": {"seconds": 1}, "queue_name": "slow"}
    assert_error(post_raw(api, json.dumps(body)), 400, "unknown_queue")
    assert Job.objects.count() == 0
    assert drain(jobs_queue) == []


def test_a_task_longer_than_the_queues_worker(api: Any, jobs_queue: str, settings: Any) -> None:
    # countdown may run 90 s; a 60 s worker could never finish it.
    settings.JOBS_QUEUES = {**settings.JOBS_QUEUES, "quick": {"url": jobs_queue, "function_timeout": 60}}
    body = {"task": "countdown", "params": {"seconds": 1}, "queue_name": "quick"}
    assert_error(post_raw(api, json.dumps(body)), 400, "task_timeout_exceeds_queue")
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    ("schedule", "field"),
    [({"priority": 101}, "priority"), ({"priority": -101}, "priority"), ({"run_after": "2030-01-01T00:00"}, None)],
)
def test_a_priority_out_of_range_or_a_run_after_without_offset(
    api: Any, jobs_queue: str, schedule: dict[str, Any], field: str | None
) -> None:
    body = {"task": "countdown", "params": {"seconds": 1}, **schedule}
    response = post_raw(api, json.dumps(body))
    if field is None:
        # DRF reads an offset-less time in the server's zone (UTC): accepted, not guessed wrong.
        assert response.status_code == 202, response.content
        assert response.json()["run_after"] == "2030-01-01T00:00:00Z"
        return
    error = assert_error(response, 400, "invalid_schedule")
    assert field in error["fields"]
    assert Job.objects.count() == 0
