"""Run inside the host project (DJANGO_SETTINGS_MODULE=tests.host_project.settings) by
tests/functional/host_project: not named test_*.py, so the main run never collects it with its own
settings. tests/conftest.py still applies: moto in server mode, the jobs queue and events topic.

A person (UUID key, e-mail login) logs in, gets tokens, submits the host's own task through our
REST API, gets a WebSocket ticket naming their UUID, and the worker handler runs the job from the
SQS message. The host's django-tasks tasks are enqueued with Django's Tasks API, and over REST.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.aws import drain
from tests.functional.worker.builders import LambdaContextStub, queue_arn_of, sqs_event_from_received

pytestmark = pytest.mark.django_db(transaction=True)

HOST_TASKS = "tests.host_project.reports.tasks"
EMAIL = "ada@host.example"
PASSWORD = "ada-password-1"


@pytest.fixture
def person() -> Any:
    return get_user_model()._default_manager.create_user(email=EMAIL, password=PASSWORD)


def test_the_host_runs_our_apps_on_its_own_user_model() -> None:
    from django.conf import settings

    from tests.host_project.people.models import Person

    assert settings.AUTH_USER_MODEL == "people.Person"
    assert get_user_model() is Person
    assert "django_app.demo" not in settings.INSTALLED_APPS


def test_the_migrations_are_complete_for_a_uuid_user_model() -> None:
    # Our migrations name AUTH_USER_MODEL (swappable) and pin their own key type: nothing left to make.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_only_the_hosts_tasks_are_registered() -> None:
    from django_app.jobs.registry import task_all

    assert [spec.name for spec in task_all()] == [
        "reports.greet",
        *(f"{HOST_TASKS}.{name}" for name in ("refuse", "where_am_i", "word_total", "yearly_report")),
    ]


def test_a_uuid_person_logs_in_submits_the_hosts_task_and_the_worker_runs_it(
    person: Any, jobs_queue: str, events_topic: tuple[str, str], settings: Any
) -> None:
    person_id = str(person.pk)
    assert uuid.UUID(person_id)

    browser = APIClient()
    logged_in = browser.post("/login/", {"username": EMAIL, "password": PASSWORD})
    assert logged_in.status_code == 302, logged_in.content
    exchanged = browser.post("/api/auth/token/", {"audience": "webhooks"}, format="json")
    assert exchanged.status_code == 200, exchanged.content
    assert jwt.decode(exchanged.json()["access_token"], options={"verify_signature": False})["sub"] == person_id

    # A program's API token, made as an operator would: looked up by the model's USERNAME_FIELD.
    call_command("create_api_token", EMAIL, "--name", "host-journey", stdout=(out := __import__("io").StringIO()))
    api_token = out.getvalue().strip().split()[-1]
    program = APIClient()
    program.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")

    submitted = program.post("/api/jobs/", {"task": "reports.greet", "params": {"name": "Ada"}}, format="json")
    assert submitted.status_code == 202, submitted.content
    job_id = submitted.json()["id"]

    ticket = program.post("/api/ws/tickets/", {"jobs": [job_id]}, format="json")
    assert ticket.status_code == 201, ticket.content
    assert ticket.json()["topics"] == [f"user:{person_id}", f"job:{job_id}"]
    claims = jwt.decode(ticket.json()["ticket"], options={"verify_signature": False})
    assert (claims["sub"], claims["topics"][0]) == (person_id, f"user:{person_id}")

    from functions.worker.handler import handler

    messages = drain(jobs_queue)
    assert [json.loads(m["Body"])["job_id"] for m in messages] == [job_id]
    response = handler(
        sqs_event_from_received(messages=messages, queue_arn=queue_arn_of(queue_url=jobs_queue)), LambdaContextStub()
    )
    assert response == {"batchItemFailures": []}

    done = program.get(f"/api/jobs/{job_id}/")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["result"]) == ("succeeded", {"greeting": "Hello, Ada!"})
    published = [json.loads(m["Body"]) for m in drain(events_topic[1])]
    assert {event["owner"] for event in published} == {person_id}
    assert [event["status"] for event in sorted(published, key=lambda event: event["seq"])][-1] == "succeeded"


def test_another_persons_job_is_not_found_and_cannot_be_put_in_a_ticket(person: Any, jobs_queue: str) -> None:
    other = get_user_model()._default_manager.create_user(email="bob@host.example", password=PASSWORD)
    from django_app.jobs.services import job_submit

    bobs_job = job_submit(owner=other, task_name="reports.greet", params={"name": "Bob"})
    client = APIClient()
    client.force_authenticate(person)
    assert client.get(f"/api/jobs/{bobs_job.pk}/").status_code == 404
    assert client.post("/api/ws/tickets/", {"jobs": [str(bobs_job.pk)]}, format="json").status_code == 404


def test_a_schedule_runs_as_a_system_person_found_by_email_field(settings: Any, jobs_queue: str) -> None:
    from django_app.jobs.periodic import periodic_job_start

    settings.JOBS_SYSTEM_USERNAME = "system@host.example"
    job = periodic_job_start(task_name="reports.greet", params={"name": "cron"}, schedule="greet")
    system = get_user_model()._default_manager.get(email="system@host.example")
    assert (job.owner_id, system.is_active, system.has_usable_password()) == (system.pk, False, False)
    assert periodic_job_start(task_name="reports.greet", params={"name": "cron"}, schedule="greet").pk == job.pk


def _run_on_the_worker(queue_url: str) -> list[str]:
    """Hands what the queue holds to the worker handler, as Lambda's event source mapping would;
    returns the job ids it carried."""
    from functions.worker.handler import handler

    messages = drain(queue_url)
    if messages:
        event = sqs_event_from_received(messages=messages, queue_arn=queue_arn_of(queue_url=queue_url))
        assert handler(event, LambdaContextStub(remaining_seconds=900)) == {"batchItemFailures": []}
    return [json.loads(m["Body"])["job_id"] for m in messages]


def test_the_hosts_django_tasks_run_on_our_worker(person: Any, jobs_queue: str, jobs_long_queue: str) -> None:
    import datetime as dt

    from django.utils import timezone
    from django_tasks import TaskResultStatus

    from django_app.jobs.models import Job
    from django_app.jobs.tasks_backend import enqueue_as
    from tests.host_project.reports import tasks

    with enqueue_as(person):
        counted = tasks.word_total.enqueue("one two three", extra=1)
    refused = tasks.refuse.enqueue("no such report")
    context = tasks.where_am_i.enqueue()
    urgent = tasks.word_total.using(priority=90).enqueue("a b")
    later = tasks.word_total.using(run_after=timezone.now() + dt.timedelta(hours=2)).enqueue("later")
    yearly = tasks.yearly_report.enqueue(2026)
    on_long = tasks.word_total.using(queue_name="long").enqueue("long queue")

    assert Job.objects.get(pk=counted.id).owner_id == person.pk
    assert Job.objects.get(pk=urgent.id).priority == 90
    assert sorted(_run_on_the_worker(jobs_queue)) == sorted([counted.id, refused.id, context.id, urgent.id])
    assert sorted(_run_on_the_worker(jobs_long_queue)) == sorted([yearly.id, on_long.id])

    assert tasks.word_total.get_result(counted.id).return_value == 4
    assert tasks.word_total.get_result(urgent.id).return_value == 2
    assert tasks.where_am_i.get_result(context.id).return_value == {"id": context.id, "attempt": 1}
    assert tasks.yearly_report.get_result(yearly.id).return_value == "report 2026"
    assert tasks.word_total.get_result(on_long.id).return_value == 2
    failed = tasks.refuse.get_result(refused.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[0].exception_class is LookupError
    held = tasks.word_total.get_result(later.id)
    assert (held.status, Job.objects.get(pk=later.id).enqueued_at) == (TaskResultStatus.READY, None)


def test_a_django_task_is_submitted_over_rest_by_its_module_path(person: Any, jobs_queue: str) -> None:
    from tests.host_project.reports import tasks

    client = APIClient()
    client.force_authenticate(person)
    body = {"task": f"{HOST_TASKS}.word_total", "params": {"args": ["x y"], "kwargs": {"extra": 5}}}
    submitted = client.post("/api/jobs/", body, format="json")
    assert submitted.status_code == 202, submitted.content
    job_id = submitted.json()["id"]
    wrong = client.post("/api/jobs/", {"task": f"{HOST_TASKS}.word_total", "params": {"argv": []}}, format="json")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_params")

    assert _run_on_the_worker(jobs_queue) == [job_id]

    done = client.get(f"/api/jobs/{job_id}/").json()
    assert (done["status"], done["result"], done["task"]) == ("succeeded", 7, f"{HOST_TASKS}.word_total")
    assert tasks.word_total.get_result(job_id).return_value == 7
