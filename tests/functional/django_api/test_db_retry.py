"""A view whose PostgreSQL connection is cut before it wrote anything for good runs again, so a
database restart delays requests instead of answering 500; one that may have written does not."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from django_app.config.db_retry import VIEW_REPEATS, DatabaseRetryMiddleware, repeatable_writes
from django_app.jobs.models import Job
from tests.functional.django_api.postgres_cut import own_backend_terminate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass: make test-postgres)")


def _cut_before(statement_start: str, times: int = 1) -> Any:
    """An execute wrapper that ends the connection's backend just before the first ``times``
    statements starting with ``statement_start`` are sent: what a restart does mid-request."""
    left = [times]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if left[0] and sql.startswith(statement_start):
            left[0] -= 1
            own_backend_terminate()
        return execute(sql, params, many, context)

    return wrapper


def test_a_job_submit_cut_before_its_commit_runs_again_and_creates_one_job(
    api: Any, user: User, jobs_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), connection.execute_wrapper(_cut_before('INSERT INTO "jobs_job"')):
        body = json.dumps({"task": "word_count", "params": {"text": "a b"}})
        response = api.post("/api/jobs/", data=body, content_type="application/json")

    assert response.status_code == 202, response.content
    assert [str(job_id) for job_id in Job.objects.filter(owner=user).values_list("id", flat=True)] == [
        response.json()["id"]
    ]
    assert "database connection lost during POST /api/jobs/ before any write" in caplog.text


def test_a_read_cut_mid_request_runs_again(api: Any, user: User) -> None:
    with connection.execute_wrapper(_cut_before('SELECT "jobs_job"')):
        response = api.get("/api/jobs/")

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_a_body_too_large_to_keep_is_left_to_the_view(
    api: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"task": "word_count", "params": {"text": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}})
    with caplog.at_level(logging.WARNING):
        response = api.post("/api/jobs/", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []  # answered, not an error


# The middleware on its own, around views that write in each way there is.


@pytest.fixture
def run_view() -> Iterator[Callable[[Callable[[], None]], tuple[HttpResponse | None, int]]]:
    """Calls a view through the middleware; the view runs ``before_cut``, then (on its first run
    only) loses its connection, then queries. Returns the response and how many runs there were."""

    def run(before_cut: Callable[[], None], *, cuts: int = 1) -> tuple[HttpResponse | None, int]:
        runs = [0]

        def view(request: HttpRequest) -> HttpResponse:
            runs[0] += 1
            before_cut()
            if runs[0] <= cuts:
                connection.ensure_connection()
                own_backend_terminate()
            with connection.cursor() as cursor:
                cursor.execute("select 1")
            return HttpResponse("done")

        middleware = DatabaseRetryMiddleware(lambda request: HttpResponse())
        connection.ensure_connection()
        try:
            return middleware.process_view(RequestFactory().post("/", {"a": "1"}), view, (), {}), runs[0]
        except OperationalError:
            connection.close()  # what the end of a request does with a broken connection
            return None, runs[0]

    yield run
    connection.close()


def _create_user(name: str) -> Callable[[], None]:
    def create() -> None:
        if not User.objects.filter(username=name).exists():
            User.objects.create(username=name)

    return create


def test_reads_only_runs_again(run_view: Any) -> None:
    response, runs = run_view(lambda: list(User.objects.all()))
    assert (response.status_code, runs) == (200, 2)


def test_a_transaction_cut_before_commit_runs_again(run_view: Any) -> None:
    def uncommitted() -> None:
        with transaction.atomic():
            User.objects.create(username=f"u{User.objects.count()}")
            own_backend_terminate()
            User.objects.create(username="never")

    runs = [0]

    def first_cut_then_commit() -> None:
        runs[0] += 1
        if runs[0] == 1:
            uncommitted()

    response, view_runs = run_view(first_cut_then_commit, cuts=0)
    assert (response.status_code, view_runs) == (200, 2)
    assert not User.objects.exists()  # the cut transaction left nothing


def test_after_a_commit_it_does_not_run_again(run_view: Any) -> None:
    def committed() -> None:
        with transaction.atomic():
            _create_user("carol")()

    response, runs = run_view(committed)
    assert (response, runs) == (None, 1)
    assert User.objects.filter(username="carol").count() == 1


def test_after_an_autocommit_write_it_does_not_run_again(run_view: Any) -> None:
    response, runs = run_view(_create_user("dave"))
    assert (response, runs) == (None, 1)
    assert User.objects.filter(username="dave").count() == 1


def test_a_write_marked_repeatable_does_not_stop_it(run_view: Any) -> None:
    def marked() -> None:
        with repeatable_writes():
            User.objects.filter(username="nobody").update(first_name="x")

    response, runs = run_view(marked)
    assert (response.status_code, runs) == (200, 2)


def test_it_gives_up_after_its_repeats(run_view: Any) -> None:
    response, runs = run_view(lambda: None, cuts=VIEW_REPEATS + 1)
    assert (response, runs) == (None, VIEW_REPEATS + 1)


def test_inside_an_outer_transaction_it_does_not_run_again(run_view: Any) -> None:
    with transaction.atomic():
        outcome = run_view(lambda: None)
    assert outcome == (None, 1)
