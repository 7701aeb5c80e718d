"""Schemathesis against the OpenAPI schema the Django app serves (``/api/schema/``).

The schema is fetched from the app in-process, through Django's WSGI application, and every
operation is called the same way, with generated valid and invalid input, three times over: without
credentials, with a bearer API token, and with a session (cookie + CSRF token, as the browser page
calls the API). Each answer must be no 5xx, have a status code, content type, headers and body that
the schema documents. Job ids in paths are also swapped for a job the caller owns, so the 200
answers of the detail, cancel and retry operations are checked too, not only their 404s.

Bounded and reproducible: a fixed number of examples per operation, derandomized, no deadline.
Rate limits are far above what this sends (settings/test.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis import checks

from django_app.accounts.tokens import api_token_create
from django_app.jobs.services import job_submit

MAX_EXAMPLES = 25

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    # Credentials come from the callers below, not from generated Authorization/Cookie headers: a
    # negative case whose only fault was its generated credential would turn valid with ours.
    with_security_parameters=False,
)
# Schema-valid input the domain refuses (an unknown task, params that do not fit the task) is a
# documented 400, not a fault: the schema cannot say which task names are registered.
schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)
    job_id: uuid.UUID | None = None

    @property
    def excluded_checks(self) -> list[Any]:
        # ignored_auth takes a session cookie it did not set for a generated one, and a 2xx with it
        # for auth not enforced; the anonymous and bad-token callers check enforcement instead.
        return [checks.ignored_auth] if self.cookies else []


@pytest.fixture(autouse=True)
def connections_kept() -> Iterator[None]:
    """Django's WSGI handler closes the database connection after each request, which ends the
    test's transaction on PostgreSQL (SQLite's in-memory database ignores it). The test client
    disconnects the same signal handlers for the same reason."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=["anonymous", "bad-token", "token", "session"])
def caller(request: pytest.FixtureRequest, django_user_model: Any, jobs_queue: str) -> Iterator[Caller]:
    if request.param == "anonymous":
        yield Caller("anonymous", {})
        return
    if request.param == "bad-token":
        yield Caller("bad-token", {"Authorization": "Bearer pgt_not-a-token-of-ours"})
        return
    user = django_user_model.objects.create_user(username=f"fuzz-{request.param}", password="fuzz-password-1")
    job = job_submit(owner=user, task_name="countdown", params={"seconds": 1}, correlation_id="schemathesis")
    if request.param == "token":
        yield Caller("token", {"Authorization": f"Bearer {api_token_create(user=user, name='fuzz')[1]}"}, job_id=job.id)
        return
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32)  # the CSRF secret, in the cookie and, as the page sends it, the header
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    yield Caller("session", {"X-CSRFToken": csrf}, cookies, job.id)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_schema(case: schemathesis.Case, caller: Caller) -> None:
    case.call_and_validate(headers=caller.headers, cookies=caller.cookies, excluded_checks=caller.excluded_checks)
    if caller.job_id is not None and "job_id" in (case.path_parameters or {}):
        # The same request on a job the caller owns; it may no longer be invalid where it was.
        case.path_parameters = {**case.path_parameters, "job_id": str(caller.job_id)}
        case.call_and_validate(
            headers=caller.headers,
            cookies=caller.cookies,
            excluded_checks=[*caller.excluded_checks, checks.negative_data_rejection],
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "body", "expected"),
    [
        ("/api/tasks/", "GET", None, {"anonymous": 401, "bad-token": 401, "token": 200, "session": 200}),
        ("/api/ws/tickets/", "POST", {}, {"anonymous": 401, "bad-token": 401, "token": 201, "session": 201}),
    ],
)
def test_the_callers_are_who_they_say(
    caller: Caller, path: str, method: str, body: dict[str, Any] | None, expected: dict[str, int]
) -> None:
    """The fuzzing above proves little if a caller's credentials or CSRF token were refused."""
    case = schema[path][method].Case(body=body) if body is not None else schema[path][method].Case()
    assert case.call(headers=caller.headers, cookies=caller.cookies).status_code == expected[caller.name]
