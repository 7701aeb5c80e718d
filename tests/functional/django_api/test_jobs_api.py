"""The jobs API through Django's test client, on SQLite and (in the PostgreSQL pass) PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from contracts.job_event import JobEvent
from contracts.job_message import JobMessage
from django_app.jobs.models import Job, JobStatus
from tests.aws import drain

pytestmark = pytest.mark.django_db(transaction=True)


def submit(api: Any, body: Any, **extra: Any) -> Any:
    return api.post("/api/jobs/", data=json.dumps(body), content_type="application/json", **extra)


def test_submit_answers_202_with_location_and_where_to_follow(api: Any, jobs_queue: str, settings: Any) -> None:
    settings.WEBSOCKET_URL = "wss://ws.example.test/dev"
    response = submit(api, {"task": "countdown", "params": {"seconds": 2}})

    assert response.status_code == 202
    body = response.json()
    job_id = body["id"]
    assert response["Location"] == f"http://testserver/api/jobs/{job_id}/"
    assert body["status"] == "queued"
    assert body["params"] == {"seconds": 2}
    assert body["links"]["topic"] == f"job:{job_id}"
    assert body["links"]["websocket"] == "wss://ws.example.test/dev"
    assert body["links"]["tickets"] == "http://testserver/api/ws/tickets/"


def test_submit_sends_exactly_one_job_message_after_commit(api: Any, jobs_queue: str) -> None:
    response = submit(api, {"task": "word_count", "params": {"text": "a b a"}}, HTTP_X_CORRELATION_ID="req-123")

    messages = drain(jobs_queue)
    assert len(messages) == 1
    message = JobMessage.model_validate_json(messages[0]["Body"])
    assert str(message.job_id) == response.json()["id"]
    assert message.task == "word_count"
    assert message.attempt == 0
    assert message.correlation_id == "req-123"
    assert Job.objects.get(pk=message.job_id).enqueued_at is not None


def test_submit_publishes_a_queued_event(api: Any, jobs_queue: str, events_topic: tuple[str, str]) -> None:
    response = submit(api, {"task": "countdown", "params": {"seconds": 1}})

    events = [JobEvent.model_validate_json(m["Body"]) for m in drain(events_topic[1], wait_seconds=1)]
    assert [(e.type, str(e.job_id), e.seq) for e in events] == [("job.queued", response.json()["id"], 1)]
    assert events[0].owner == str(Job.objects.get(pk=response.json()["id"]).owner_id)


def test_a_failed_send_leaves_the_job_queued_for_the_sweep(api: Any, settings: Any) -> None:
    settings.JOBS_QUEUE_URL = "http://127.0.0.1:1/000000000000/nowhere"  # nothing listens on port 1

    response = submit(api, {"task": "countdown", "params": {"seconds": 1}})

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == JobStatus.QUEUED
    assert job.enqueued_at is None


def test_a_connection_lost_after_the_send_still_answers_202(api: Any, jobs_queue: str) -> None:
    # A database restart can cut the connection between SendMessage and the enqueued_at note.
    from django.db import OperationalError, connection

    def cut_the_note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("UPDATE") and "enqueued_at" in sql:
            raise OperationalError("terminating connection due to administrator command (simulated)")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(cut_the_note):
        response = submit(api, {"task": "countdown", "params": {"seconds": 1}})

    assert response.status_code == 202
    [message] = drain(jobs_queue)
    assert str(JobMessage.model_validate_json(message["Body"]).job_id) == response.json()["id"]
    assert Job.objects.get(pk=response.json()["id"]).enqueued_at is None  # the sweep may send it again


def test_get_job_with_etag_and_304(api: Any, jobs_queue: str) -> None:
    job_id = submit(api, {"task": "countdown", "params": {"seconds": 1}}).json()["id"]

    first = api.get(f"/api/jobs/{job_id}/")
    assert first.status_code == 200
    etag = first["ETag"]
    again = api.get(f"/api/jobs/{job_id}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    Job.objects.filter(pk=job_id).update(progress=50, seq=2)
    changed = api.get(f"/api/jobs/{job_id}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["progress"] == 50


def test_list_own_jobs_paginated_and_filtered(api: Any, jobs_queue: str, other_user: Any) -> None:
    for seconds in range(3):
        submit(api, {"task": "countdown", "params": {"seconds": seconds}})
    Job.objects.create(owner=other_user, task="countdown", params={"seconds": 1})
    Job.objects.filter(params={"seconds": 0}).update(status=JobStatus.SUCCEEDED)

    page = api.get("/api/jobs/?page_size=2").json()
    assert len(page["results"]) == 2
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    succeeded = api.get("/api/jobs/?status=succeeded").json()["results"]
    assert [job["params"] for job in succeeded] == [{"seconds": 0}]


def test_cancel_a_queued_job_then_retry_it(api: Any, jobs_queue: str, events_topic: tuple[str, str]) -> None:
    job_id = submit(api, {"task": "countdown", "params": {"seconds": 5}}).json()["id"]

    cancelled = api.post(f"/api/jobs/{job_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    retried = api.post(f"/api/jobs/{job_id}/retry/")
    assert retried.status_code == 200
    assert retried.json()["status"] == "queued"

    events = [JobEvent.model_validate_json(m["Body"]) for m in drain(events_topic[1], wait_seconds=1)]
    assert [(e.type, e.seq) for e in sorted(events, key=lambda e: e.seq)] == [
        ("job.queued", 1),
        ("job.cancelled", 2),
        ("job.queued", 3),
    ]
    assert len(drain(jobs_queue)) == 2  # the first send, and the retry's


def test_task_list_describes_params(api: Any) -> None:
    tasks = {task["name"]: task for task in api.get("/api/tasks/").json()}
    assert {"countdown", "word_count", "csv_summary"} <= set(tasks)
    assert tasks["countdown"]["params_schema"]["properties"]["seconds"]["maximum"] == 60


def test_health_needs_no_login(client: Any) -> None:
    response = client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema_and_docs(api: Any) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/jobs/" in json.loads(schema.content)["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_openapi_schema_documents_the_error_answers(api: Any) -> None:
    # Found by tests/security/test_api_schemathesis.py: no operation listed a 4xx, and the job list
    # was documented as an array although it answers a page.
    paths = json.loads(api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)["paths"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            assert all(responses[code]["content"] == error for code in responses if code.startswith("4"))
            if "requestBody" in operation:
                assert {"400", "403", "413", "415"} <= set(responses), (method, path)
            if "{job_id}" in path:
                assert "404" in responses, (method, path)
    assert {"404", "429"} <= set(paths["/api/ws/tickets/"]["post"]["responses"])
    assert "409" in paths["/api/jobs/{job_id}/cancel/"]["post"]["responses"]
    page = paths["/api/jobs/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/JobPage"}


def test_unknown_job_id_is_404(api: Any) -> None:
    response = api.get(f"/api/jobs/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


def test_submit_takes_a_priority_and_a_run_after(api: Any, jobs_queue: str) -> None:
    run_after = "2031-05-01T12:00:00Z"
    response = submit(api, {"task": "countdown", "params": {"seconds": 1}, "priority": 7, "run_after": run_after})

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["queue_name"], body["priority"], body["run_after"]) == ("default", 7, run_after)
    job = Job.objects.get(pk=body["id"])
    assert (job.priority, job.enqueued_at) == (7, None)  # years ahead: held, not sent
    assert drain(jobs_queue) == []
