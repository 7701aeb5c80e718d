"""Run inside the host project (DJANGO_SETTINGS_MODULE=tests.host_project.settings) by
tests/functional/host_project: not named test_*.py, so the main run never collects it with its own
settings. tests/conftest.py still applies: moto in server mode, the jobs queue and events topic.

A person (UUID key, e-mail login) logs in, gets tokens, submits the host's own task through our
REST API, gets a WebSocket ticket naming their UUID, and the worker handler runs the job from the
SQS message.
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

    assert [spec.name for spec in task_all()] == ["reports.greet"]


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
