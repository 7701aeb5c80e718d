"""``manage.py jobs_dlq list|redrive`` against moto's SQS."""

from __future__ import annotations

import io
import json
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
