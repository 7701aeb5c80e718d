"""The worker handler on real SQS event shapes, against moto's SQS and SNS (server mode)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_cancel, job_submit
from tests.aws import aws_client, drain
from tests.functional.worker import tasks
from tests.functional.worker.builders import LambdaContextStub, event_fixture, sqs_event, sqs_record
from tests.functional.worker.helpers import events_of, job_message_body, poison_send, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_fixture_batch_acknowledges_the_job_and_reports_the_poison_record(
    user: Any, worker_handler: Any, settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""  # the job message is delivered by hand below
    job = job_submit(owner=user, task_name="word_count", params={"text": "b a b"})
    event = event_fixture(name="sqs_job_batch.json")
    good, poison = event["Records"]
    good["body"] = job_message_body(job_id=job.pk, task="word_count")

    response = worker_handler(event, LambdaContextStub())

    assert response == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["words"] == 3
    assert (job.attempts, job.progress, job.lease_until) == (1, 100, None)


def test_a_mixed_batch_acknowledges_exactly_the_good_records(
    user: Any, worker_queue: Any, esm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = [job_submit(owner=user, task_name="word_count", params={"text": f"job {n}"}) for n in range(3)]
    poison = {
        poison_send(queue_url=worker_queue.url, body="{not json"): "not_json",
        poison_send(queue_url=worker_queue.url, body=job_message_body(job_id=jobs[0].pk, task="word_count", v=2)): (
            "wrong_version"
        ),
        poison_send(queue_url=worker_queue.url, body=job_message_body(job_id=uuid.uuid4(), task="word_count")): (
            "unknown_job"
        ),
        poison_send(queue_url=worker_queue.url, body=job_message_body(job_id=jobs[1].pk, task="no_such_task")): (
            "unknown_task"
        ),
    }

    with caplog.at_level(logging.ERROR):
        delivery = esm(worker_queue)

    assert delivery is not None
    assert len(delivery.message_ids) == 7
    assert delivery.failed_ids == set(poison)
    assert all(Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED for job in jobs)
    # Only the poison messages are left, visible again at once (the tests' poison visibility is 0).
    assert {m["MessageId"] for m in drain(worker_queue.url)} == set(poison)
    for message_id, reason in poison.items():
        assert any(message_id in r.getMessage() and f"({reason})" in r.getMessage() for r in caplog.records)


def test_a_batch_where_every_record_fails_reports_every_id(worker_handler: Any) -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:nowhere"
    records = [sqs_record(body=body, queue_arn=arn) for body in ("", "[]", '{"v": 1}')]

    response = worker_handler(sqs_event(records=records), LambdaContextStub())

    assert sorted(item["itemIdentifier"] for item in response["batchItemFailures"]) == sorted(
        record["messageId"] for record in records
    )


def test_a_poison_message_lands_in_the_dlq_after_max_receive_count(
    worker_queue: Any, esm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = poison_send(queue_url=worker_queue.url, body="definitely not json")

    invocations = 0
    with caplog.at_level(logging.ERROR):
        for _ in range(worker_queue.max_receive_count + 3):  # bounded: a few more polls than receives allowed
            delivery = esm(worker_queue)
            if delivery is None:
                break
            invocations += 1
            assert delivery.failed_ids == {message_id}

    assert invocations == worker_queue.max_receive_count
    assert drain(worker_queue.url) == []
    assert [m["MessageId"] for m in drain(worker_queue.dlq_url)] == [message_id]
    reasons = [r.getMessage() for r in caplog.records if message_id in r.getMessage()]
    assert len(reasons) == worker_queue.max_receive_count
    assert all("not_json" in reason for reason in reasons)


@pytest.mark.slow
def test_a_failed_attempt_is_retried_after_an_invisible_backoff_then_fails_for_good(
    user: Any, worker_queue: Any, esm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job = job_submit(owner=user, task_name="wt_crash", params={})

    with caplog.at_level(logging.ERROR):
        first = esm(worker_queue)
    assert first is not None
    assert first.failed_ids == first.message_ids
    failed_at = time.monotonic()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == (JobStatus.QUEUED, 1, "task_failed")
    assert "secret" not in job.error_message
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)  # the traceback is logged
    assert job.enqueued_at is not None
    backoff = (job.enqueued_at - job.updated_at).total_seconds()
    assert 1 <= backoff <= 2  # attempt 1: base 2 s, jittered into [1, 2]

    # Invisible during the backoff...
    assert aws_client("sqs").receive_message(QueueUrl=worker_queue.url, WaitTimeSeconds=0).get("Messages") is None
    # ...and back after it: the second attempt runs, then the third (the last) fails for good.
    outcomes = []
    for _ in range(2):
        delivery: Any = None

        def delivered() -> bool:
            nonlocal delivery
            delivery = esm(worker_queue)
            return delivery is not None

        assert wait_until(delivered, timeout=8, step=0.2)
        outcomes.append(delivery.failed_ids == delivery.message_ids)
        if len(outcomes) == 1:
            assert time.monotonic() - failed_at >= backoff - 0.5
    job.refresh_from_db()
    assert outcomes == [True, False]  # attempt 2 reported for a retry; attempt 3 acknowledged
    assert (job.status, job.attempts, job.error_code) == (JobStatus.FAILED, 3, "task_failed")
    assert drain(worker_queue.url) == []


def test_a_task_error_fails_the_job_at_once_with_its_code(user: Any, worker_queue: Any, esm: Any) -> None:
    job = job_submit(owner=user, task_name="wt_refuse", params={})

    delivery = esm(worker_queue)

    assert delivery is not None
    assert delivery.failed_ids == set()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_code, job.error_message) == (
        JobStatus.FAILED,
        1,
        "bad_input",
        "The input is not acceptable.",
    )


def test_a_result_over_the_row_limit_is_refused_as_the_tasks_error(
    user: Any, worker_queue: Any, esm: Any, settings: Any
) -> None:
    settings.JOB_RESULT_MAX_BYTES = 1000
    job = job_submit(owner=user, task_name="wt_big", params={"size": 5000})

    delivery = esm(worker_queue)

    assert delivery is not None
    assert delivery.failed_ids == set()
    job.refresh_from_db()
    assert (job.status, job.error_code, job.result) == (JobStatus.FAILED, "result_too_large", None)
    assert "limit is 1000 bytes" in job.error_message


def test_a_large_result_is_stored_and_its_event_carries_a_link(
    user: Any, worker_queue: Any, esm: Any, events_topic: tuple[str, str]
) -> None:
    job = job_submit(owner=user, task_name="wt_big", params={"size": 150_000})

    esm(worker_queue)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert len(job.result["blob"]) == 150_000
    events = events_of(queue_url=events_topic[1], job_id=job.pk, expect=3)
    final = events[-1]
    assert (final.type, final.result, final.result_url) == ("job.succeeded", None, f"/api/jobs/{job.pk}/")


def test_cancel_before_start_never_runs_the_task(
    user: Any, worker_queue: Any, esm: Any, side_effect_file: Any, events_topic: tuple[str, str]
) -> None:
    job = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    job_cancel(job=job)

    delivery = esm(worker_queue)

    assert delivery is not None
    assert delivery.failed_ids == set()
    assert not side_effect_file.exists()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.CANCELLED, 0)
    events = events_of(queue_url=events_topic[1], job_id=job.pk, expect=2)
    assert [(e.type, e.seq) for e in events] == [("job.queued", 1), ("job.cancelled", 2)]


def test_cancel_during_a_run_stops_the_task_at_its_next_check(
    user: Any, worker_queue: Any, esm: Any, side_effect_file: Any, events_topic: tuple[str, str]
) -> None:
    job = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 5})

    def cancel_at_step_two(step: int) -> None:
        if step == 2:
            job_cancel(job=Job.objects.get(pk=job.pk))  # as the API would, from another request

    tasks.HOOKS["wt_steps"] = cancel_at_step_two
    try:
        delivery = esm(worker_queue)
    finally:
        tasks.HOOKS.pop("wt_steps")

    assert delivery is not None
    assert delivery.failed_ids == set()
    assert side_effect_file.read_text().splitlines() == ["step 0", "step 1"]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (JobStatus.CANCELLED, 1, None)
    events = events_of(queue_url=events_topic[1], job_id=job.pk, expect=job.seq)
    assert [e.type for e in events].count("job.cancelled") == 1
    assert [e.seq for e in events] == list(range(1, job.seq + 1))


def test_every_state_change_publishes_exactly_one_event_with_a_growing_seq(
    user: Any, worker_queue: Any, esm: Any, side_effect_file: Any, events_topic: tuple[str, str]
) -> None:
    # Steps sleep longer than the progress interval, so every progress call is written.
    job = job_submit(
        owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 3, "sleep_seconds": 0.3}
    )

    esm(worker_queue)

    job.refresh_from_db()
    events = events_of(queue_url=events_topic[1], job_id=job.pk, expect=job.seq)
    assert [e.seq for e in events] == list(range(1, job.seq + 1))
    assert [e.type for e in events] == [
        "job.queued",
        "job.running",
        "job.progress",
        "job.progress",
        "job.progress",
        "job.succeeded",
    ]
    assert [e.progress for e in events] == [0, 0, 0, 33, 66, 100]
    assert events[-1].result == {"steps": 3}


def test_retries_publish_one_event_per_change_too(
    user: Any, worker_queue: Any, esm: Any, events_topic: tuple[str, str], settings: Any
) -> None:
    settings.WORKER_RETRY_BASE_SECONDS = 0  # retried messages are visible again at once
    job = job_submit(owner=user, task_name="wt_crash", params={})

    for _ in range(3):
        assert esm(worker_queue) is not None

    job.refresh_from_db()
    events = events_of(queue_url=events_topic[1], job_id=job.pk, expect=7)
    assert [(e.type, e.seq) for e in events] == [
        ("job.queued", 1),
        ("job.running", 2),
        ("job.queued", 3),
        ("job.running", 4),
        ("job.queued", 5),
        ("job.running", 6),
        ("job.failed", 7),
    ]
    assert events[-1].error is not None
    assert events[-1].error.code == "task_failed"


def test_records_whose_task_does_not_fit_the_time_left_go_back_at_once(user: Any, worker_queue: Any, esm: Any) -> None:
    job = job_submit(owner=user, task_name="word_count", params={"text": "late"})  # timeout 30 s

    delivery = esm(worker_queue, context=LambdaContextStub(remaining_seconds=35))  # < 30 + 10 margin

    assert delivery is not None
    assert delivery.failed_ids == delivery.message_ids
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    assert len(drain(worker_queue.url)) == 1  # visible again without waiting for the visibility timeout


def test_a_schedule_event_naming_a_task_starts_a_job_owned_by_the_system_user(
    worker_queue: Any, worker_handler: Any, esm: Any, monkeypatch: Any
) -> None:
    import types

    from django.utils import timezone

    from django_app.jobs import periodic

    # Both deliveries inside one minute (the schedule's dedup key): two calls that straddled a
    # minute boundary made two jobs, and failed a CI-sized run at hh:mm:59.
    firing = timezone.now().replace(second=10, microsecond=0)
    monkeypatch.setattr(periodic, "timezone", types.SimpleNamespace(now=lambda: firing))
    event = event_fixture(name="schedule_task.json")

    first = worker_handler(event, LambdaContextStub())
    again = worker_handler(event, LambdaContextStub())  # EventBridge delivers at least once

    assert first["job_id"] == again["job_id"]
    job = Job.objects.get(pk=first["job_id"])
    assert (job.owner.username, job.owner.is_active, job.owner.has_usable_password()) == ("system", False, False)
    assert job.correlation_id.startswith("schedule:nightly-word-count:")
    esm(worker_queue)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["words"] == 3


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"task": "no_such_task"}, "unknown_task"),
        ({"task": "word_count", "params": {"text": ""}}, "invalid_params"),
        ({"sweep": "everything"}, "unknown_sweep"),
        ({"detail-type": "Scheduled Event"}, "unrecognised_event"),
        (["not", "a", "dict"], "unrecognised_event"),
    ],
)
def test_bad_scheduled_events_are_refused_without_raising(worker_handler: Any, event: Any, error: str) -> None:
    assert worker_handler(event, LambdaContextStub()) == {"error": error}


def test_the_sweep_schedule_event_runs_every_sweep(worker_handler: Any) -> None:
    response = worker_handler(event_fixture(name="schedule_sweep.json"), LambdaContextStub())

    assert set(response["sweeps"]) == {"unsent", "leases", "purge", "republish"}
    assert all(isinstance(counts, dict) for counts in response["sweeps"].values())


def test_serverless_yml_wires_the_worker_as_the_issue_requires() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # CloudFormation tags
    config = yaml.load((Path(__file__).parents[3] / "serverless.yml").read_text(), Loader)  # noqa: S506 - SafeLoader subclass
    worker = config["functions"]["worker"]
    sqs = next(e["sqs"] for e in worker["events"] if "sqs" in e)
    assert (sqs["batchSize"], sqs["maximumBatchingWindow"], sqs["functionResponseType"]) == (
        10,
        0,
        "ReportBatchItemFailures",
    )
    assert any(e.get("schedule", {}).get("input") == {"sweep": "all"} for e in worker["events"])
    resources = config["resources"]["Resources"]
    assert resources["JobsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert config["params"]["default"]["jobsVisibilityTimeout"] >= 6 * worker["timeout"]
    assert (
        resources["JobsDLQ"]["Properties"]["MessageRetentionPeriod"]
        > resources["JobsQueue"]["Properties"]["MessageRetentionPeriod"]
    )
    assert json.dumps(worker)  # plain data all the way down


def test_a_message_for_an_ended_job_publishes_its_terminal_event_again(
    user: Any, worker_queue: Any, esm: Any, events_topic: tuple[str, str]
) -> None:
    # As if the worker that ended the job died before publishing: its message comes back.
    job = job_submit(owner=user, task_name="word_count", params={"text": "one two"})
    esm(worker_queue)
    job.refresh_from_db()
    first = events_of(queue_url=events_topic[1], job_id=job.pk, expect=job.seq)
    aws_client("sqs").send_message(
        QueueUrl=worker_queue.url, MessageBody=job_message_body(job_id=job.pk, task="word_count")
    )

    delivery = esm(worker_queue)

    assert delivery is not None
    assert delivery.failed_ids == set()
    again = events_of(queue_url=events_topic[1], job_id=job.pk, expect=1)
    assert [(e.type, e.seq, e.result) for e in again] == [("job.succeeded", job.seq, first[-1].result)]
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)


def test_a_terminal_event_sns_did_not_take_keeps_the_message_until_it_is_published(
    user: Any, worker_queue: Any, esm: Any, events_topic: tuple[str, str], settings: Any, monkeypatch: Any
) -> None:
    """A connected client learns of an end only from its event: when SNS does not take it, the
    record is reported not done, comes back, and its redelivery publishes the event again."""
    from django_app.jobs.events import job_events_publish
    from django_app.jobs.outbox import EventOutbox
    from functions.worker import batch

    settings.WORKER_RETRY_BASE_SECONDS = 0  # the kept message is visible again at once

    def drop_terminal(*, events: list[Any]) -> list[Any]:
        ends = [e for e in events if e.type == "job.succeeded"]
        return [*job_events_publish(events=[e for e in events if e not in ends]), *ends]

    class LosingOutbox(EventOutbox):
        def __init__(self, *, max_delay: float) -> None:
            super().__init__(max_delay=max_delay, publish=drop_terminal)

    job = job_submit(owner=user, task_name="word_count", params={"text": "one two"})
    monkeypatch.setattr(batch, "EventOutbox", LosingOutbox)

    first = esm(worker_queue)

    assert first is not None
    assert first.failed_ids == {first.event["Records"][0]["messageId"]}
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    published = [e.type for e in events_of(queue_url=events_topic[1], job_id=job.pk, expect=2)]
    assert published[:2] == ["job.queued", "job.running"]
    assert "job.succeeded" not in published

    monkeypatch.setattr(batch, "EventOutbox", EventOutbox)  # SNS takes events again
    again = esm(worker_queue)

    assert again is not None
    assert again.failed_ids == set()
    ends = events_of(queue_url=events_topic[1], job_id=job.pk, expect=1)
    assert [(e.type, e.seq) for e in ends] == [("job.succeeded", job.seq)]
    job.refresh_from_db()
    assert job.attempts == 1  # published again, not run again
