"""Django's Tasks API on our workers: ``.enqueue()`` makes a job and a message, the worker runs the
django-tasks task, and ``get_result`` reads the job back as a ``TaskResult``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from django_tasks import TaskResultStatus, default_task_backend, task_backends
from django_tasks import task as django_task
from django_tasks.exceptions import InvalidTaskError, TaskResultDoesNotExist

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.periodic import system_user_get
from django_app.jobs.registry import task_get
from django_app.jobs.services import job_cancel, job_submit
from django_app.jobs.tasks_backend import ArgumentsNotJson, SqsLambdaBackend, enqueue_as
from tests.aws import drain
from tests.functional.worker import django_tasks_sample as sample
from tests.functional.worker.builders import LambdaContextStub, sqs_event, sqs_record
from tests.functional.worker.helpers import job_message_body

pytestmark = pytest.mark.django_db(transaction=True)

LAZY_MODULE = "tests.functional.worker.django_tasks_lazy"


def test_the_default_backend_is_ours_and_says_what_it_supports() -> None:
    backend = task_backends["default"]
    assert isinstance(backend, SqsLambdaBackend)
    assert (backend.supports_defer, backend.supports_get_result, backend.supports_priority) == (True, True, True)
    assert backend.supports_async_task is True
    assert backend.queues == {"default", "long"}


def test_enqueue_makes_a_system_job_the_worker_runs_and_get_result_reads_back(
    worker_queue: Any, esm: Callable[..., Any]
) -> None:
    result = sample.add.enqueue(2, b=3)

    job = Job.objects.get(pk=result.id)
    assert (job.task, job.params) == (sample.add.module_path, {"args": [2], "kwargs": {"b": 3}})
    assert job.owner_id == system_user_get().pk
    assert (result.status, result.args, result.kwargs) == (TaskResultStatus.READY, [2], {"b": 3})
    assert result.is_finished is False

    assert esm(worker_queue).failed_ids == set()

    done = sample.add.get_result(result.id)
    assert (done.status, done.return_value, done.attempts, done.errors) == (TaskResultStatus.SUCCESSFUL, 5, 1, [])
    assert done.started_at is not None
    assert done.finished_at is not None
    result.refresh()
    assert result.return_value == 5


def test_enqueue_as_a_user_gives_them_the_job_and_its_events(
    user: Any, worker_queue: Any, events_topic: tuple[str, str], esm: Callable[..., Any]
) -> None:
    with enqueue_as(user):
        result = sample.add.enqueue(1, 1)
    outside = sample.add.enqueue(0, 0)

    assert Job.objects.get(pk=result.id).owner_id == user.pk
    assert Job.objects.get(pk=outside.id).owner_id != user.pk
    esm(worker_queue)
    mine = [json.loads(m["Body"]) for m in drain(events_topic[1]) if json.loads(m["Body"])["job_id"] == result.id]
    assert {event["owner"] for event in mine} == {str(user.pk)}
    assert [event["status"] for event in sorted(mine, key=lambda event: event["seq"])] == [
        "queued",
        "running",
        "succeeded",
    ]


def test_a_task_that_raises_fails_naming_its_exception_class_and_nothing_internal(
    worker_queue: Any, esm: Callable[..., Any]
) -> None:
    result = sample.explode.enqueue("boom")

    esm(worker_queue)  # one attempt: django-tasks tasks are not retried unless @job_options says so

    failed = sample.explode.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    (error,) = failed.errors
    assert error.exception_class is ValueError
    assert error.traceback.startswith("task_failed: The task raised builtins.ValueError;")
    assert "secret internal detail" not in error.traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = failed.return_value


def test_a_task_taking_context_gets_its_result_and_attempt_and_reports_progress(
    worker_queue: Any, esm: Callable[..., Any], events_topic: tuple[str, str]
) -> None:
    result = sample.tell_context.enqueue(label="x")

    esm(worker_queue)

    done = sample.tell_context.get_result(result.id)
    assert done.return_value == {"attempt": 1, "id": result.id, "label": "x"}
    assert Job.objects.get(pk=result.id).max_attempts == 2  # @job_options
    notes = [json.loads(m["Body"]).get("note") for m in drain(events_topic[1])]
    assert "half way" in notes


def test_using_sets_queue_priority_and_run_after_on_the_job(worker_queue: Any, jobs_long_queue: str) -> None:
    run_after = timezone.now() + dt.timedelta(hours=1)

    held = sample.add.using(priority=40, run_after=run_after).enqueue(1, 2)
    on_long = sample.add.using(queue_name="long").enqueue(3, 4)
    declared_long = sample.long_haul.enqueue()

    job = Job.objects.get(pk=held.id)
    assert (job.priority, job.run_after, job.enqueued_at, job.queue_name) == (40, run_after, None, "default")
    assert held.status == TaskResultStatus.READY
    assert drain(worker_queue.url) == []  # held: due beyond SQS's 15-minute delay
    assert sorted(json.loads(m["Body"])["job_id"] for m in drain(jobs_long_queue)) == sorted(
        [on_long.id, declared_long.id]
    )


def test_tasks_that_no_worker_could_run_are_refused_when_declared_or_used() -> None:
    with pytest.raises(InvalidTaskError, match="is not valid for backend"):
        sample.add.using(queue_name="slow")
    with pytest.raises(InvalidTaskError, match="does not fit the 300 s of queue 'default'"):
        django_task(sample.too_long_for_the_default_queue)
    assert django_task(queue_name="long")(sample.too_long_for_the_default_queue).queue_name == "long"
    with pytest.raises(InvalidTaskError, match="does not fit"):
        sample.long_haul.using(queue_name="default")
    with pytest.raises(InvalidTaskError, match="priority"):
        sample.add.using(priority=101)


def test_arguments_that_do_not_survive_json_are_refused_before_any_job(worker_queue: Any) -> None:
    with pytest.raises(ArgumentsNotJson, match="not JSON"):
        sample.add.enqueue(1, b={1, 2})
    with pytest.raises(TypeError, match="would not come back the same"):
        sample.add.enqueue((1, 2), b=3)
    assert not Job.objects.exists()


def test_aenqueue_and_aget_result_work(worker_queue: Any, esm: Callable[..., Any]) -> None:
    result = async_to_sync(sample.add.aenqueue)(20, 22)
    esm(worker_queue)
    assert async_to_sync(sample.add.aget_result)(result.id).return_value == 42


def test_a_coroutine_task_runs_on_the_worker(worker_queue: Any, esm: Callable[..., Any]) -> None:
    result = sample.add_later.enqueue(40, 2)
    assert esm(worker_queue).failed_ids == set()
    assert sample.add_later.get_result(result.id).return_value == 42


def test_get_result_of_what_is_not_a_django_tasks_job_does_not_exist(user: Any, worker_queue: Any) -> None:
    ours = job_submit(owner=user, task_name="wt_big", params={})
    for result_id in ("not-a-uuid", "6f1c1c1e-0000-4000-8000-000000000000", str(ours.pk)):
        with pytest.raises(TaskResultDoesNotExist):
            default_task_backend.get_result(result_id)


def test_a_cancelled_job_reads_as_failed_with_task_cancelled(worker_queue: Any) -> None:
    result = sample.add.enqueue(1, 2)
    job_cancel(job=Job.objects.get(pk=result.id))

    cancelled = sample.add.get_result(result.id)
    assert cancelled.status == TaskResultStatus.FAILED
    assert cancelled.errors[0].exception_class_path == "django_app.jobs.registry.TaskCancelled"
    assert cancelled.errors[0].exception_class.__name__ == "TaskCancelled"


def test_the_worker_imports_a_django_task_by_its_path_only_from_allowed_modules(
    user: Any, settings: Any, worker_queue: Any, worker_handler: Callable[..., dict[str, Any]]
) -> None:
    name = f"{LAZY_MODULE}.shout"
    assert LAZY_MODULE not in sys.modules

    # Not under an installed app nor JOBS_EXTRA_TASK_MODULES: never imported, an unknown task.
    assert task_get(name) is None
    assert LAZY_MODULE not in sys.modules

    settings.JOBS_EXTRA_TASK_MODULES = [LAZY_MODULE]
    job = Job.objects.create(
        owner=user, task=name, params={"args": ["hey"], "kwargs": {}}, max_attempts=1, seq=1, status=JobStatus.QUEUED
    )
    record = sqs_record(body=job_message_body(job_id=job.pk, task=name), queue_arn=worker_queue.arn)
    assert worker_handler(sqs_event(records=[record]), LambdaContextStub()) == {"batchItemFailures": []}

    assert LAZY_MODULE in sys.modules
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, "HEY")
