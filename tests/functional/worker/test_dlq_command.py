"""``manage.py jobs_dlq list|redrive`` against moto's SQS."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_submit
from tests.aws import aws_client, drain
from tests.functional.worker.helpers import job_message_body

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("jobs_dlq", *args, stdout=out)
    return out.getvalue()


def test_list_then_redrive_runs_the_dead_lettered_jobs(user: Any, worker_queue: Any, esm: Any, settings: Any) -> None:
    settings.JOBS_QUEUE_URL = ""  # submit without sending: the messages are put in the DLQ by hand
    jobs = [job_submit(owner=user, task_name="word_count", params={"text": f"t {n}"}) for n in range(2)]
    settings.JOBS_QUEUE_URL = worker_queue.url
    sqs = aws_client("sqs")
    for job in jobs:
        sqs.send_message(QueueUrl=worker_queue.dlq_url, MessageBody=job_message_body(job_id=job.pk, task=job.task))
    sqs.send_message(QueueUrl=worker_queue.dlq_url, MessageBody="garbage")

    listed = [json.loads(line) for line in run("list", "--json").splitlines()[:-1]]
    assert sorted(item["job_id"] for item in listed if item["job_id"]) == sorted(str(job.pk) for job in jobs)
    assert [item["body"] for item in listed if not item["job_id"]] == ["garbage"]
    assert "3 message(s) listed" in run("list")  # listing again right away still sees them all

    assert run("redrive").strip() == "redrove 3 message(s) to the jobs queue"
    assert drain(worker_queue.dlq_url) == []
    for _ in range(3):
        if esm(worker_queue) is None:
            break
    assert [Job.objects.get(pk=job.pk).status for job in jobs] == [JobStatus.SUCCEEDED] * 2


def test_a_queue_without_a_dlq_is_a_clear_error(settings: Any) -> None:
    settings.JOBS_QUEUE_URL = aws_client("sqs").create_queue(QueueName="no-redrive-queue")["QueueUrl"]

    with pytest.raises(CommandError, match="no RedrivePolicy"):
        run("list")


def _queue_with_dlq(name: str) -> tuple[str, str]:
    """A queue shaped like serverless.yml's LongJobsQueue (redrive after 5 receives): (url, dlq url)."""
    sqs = aws_client("sqs")
    suffix = uuid.uuid4().hex[:12]
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=f"{name}-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})},
    )["QueueUrl"]
    return url, dlq_url


def test_the_long_queue_has_its_own_dlq_to_list_and_redrive(worker_queue: Any, settings: Any) -> None:
    long_url, long_dlq_url = _queue_with_dlq("jobs-long")
    settings.JOBS_LONG_QUEUE_URL = long_url
    sqs = aws_client("sqs")
    long_body = job_message_body(job_id=uuid.uuid4(), task="long_report")
    sqs.send_message(QueueUrl=long_dlq_url, MessageBody=long_body)
    sqs.send_message(QueueUrl=worker_queue.dlq_url, MessageBody="default garbage")

    listed = [json.loads(line) for line in run("list", "--queue", "long", "--json").splitlines()[:-1]]
    assert [item["task"] for item in listed] == ["long_report"]
    assert "1 message(s) listed" in run("list")  # the default queue's DLQ, as before: its own message

    assert run("redrive", "--queue", "long").strip() == "redrove 1 message(s) to the long jobs queue"
    assert [m["Body"] for m in drain(long_url)] == [long_body]  # back to the queue it came from
    assert drain(long_dlq_url) == []
    assert drain(worker_queue.url) == []
    assert [m["Body"] for m in drain(worker_queue.dlq_url)] == ["default garbage"]  # untouched


def test_the_long_queue_unconfigured_or_an_unknown_queue_is_a_clear_error(settings: Any) -> None:
    settings.JOBS_LONG_QUEUE_URL = ""
    with pytest.raises(CommandError, match="JOBS_LONG_QUEUE_URL is not configured"):
        run("list", "--queue", "long")
    with pytest.raises(CommandError, match="invalid choice: 'short'"):
        run("list", "--queue", "short")
