"""The per-user quota of unfinished jobs (JOBS_MAX_UNFINISHED_PER_USER) through the jobs API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.periodic import periodic_job_start, system_user_get
from django_app.jobs.quota import unfinished_count
from tests.aws import drain

pytestmark = pytest.mark.django_db(transaction=True)

WORD_COUNT = {"task": "word_count", "params": {"text": "a b"}}


def submit(api: Any) -> Any:
    return api.post("/api/jobs/", data=json.dumps(WORD_COUNT), content_type="application/json")


def test_at_the_limit_a_submit_is_refused_with_429_until_a_job_finishes(
    api: Any, user: Any, jobs_queue: str, settings: Any
) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 2
    first, second = submit(api), submit(api)
    assert (first.status_code, second.status_code) == (202, 202)
    Job.objects.filter(pk=first.json()["id"]).update(status=JobStatus.RUNNING)  # running counts too
    sent = len(drain(jobs_queue))

    refused = submit(api)

    assert refused.status_code == 429
    assert refused.json() == {
        "error": {
            "code": "quota_exceeded",
            "message": "You have 2 unfinished jobs (queued or running); the limit is 2. "
            "Submit more once some of them have finished.",
        }
    }
    assert "Retry-After" not in refused
    assert Job.objects.filter(owner=user).count() == 2  # nothing created...
    assert (sent, drain(jobs_queue)) == (2, [])  # ...and nothing sent

    Job.objects.filter(pk=first.json()["id"]).update(status=JobStatus.SUCCEEDED)
    again = submit(api)
    assert again.status_code == 202
    assert Job.objects.filter(owner=user).count() == 3


@pytest.mark.parametrize("finished", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_finished_jobs_do_not_count(api: Any, user: Any, jobs_queue: str, settings: Any, finished: str) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 1
    Job.objects.bulk_create([Job(owner=user, task="word_count", status=finished, seq=3) for _ in range(5)])

    assert submit(api).status_code == 202
    assert submit(api).status_code == 429


def test_other_users_jobs_do_not_count(api: Any, other_user: Any, jobs_queue: str, settings: Any) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 1
    Job.objects.bulk_create([Job(owner=other_user, task="word_count", seq=1) for _ in range(3)])

    assert submit(api).status_code == 202


def test_zero_turns_the_quota_off(api: Any, user: Any, jobs_queue: str, settings: Any) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 0
    Job.objects.bulk_create([Job(owner=user, task="word_count", seq=1) for _ in range(150)])

    assert submit(api).status_code == 202


def test_the_default_limit_is_100(api: Any, user: Any, jobs_queue: str, settings: Any) -> None:
    del settings.JOBS_MAX_UNFINISHED_PER_USER  # the code's default, whatever the settings module says
    Job.objects.bulk_create([Job(owner=user, task="word_count", seq=1) for _ in range(99)])
    assert submit(api).status_code == 202
    response = submit(api)
    assert (response.status_code, response.json()["error"]["code"]) == (429, "quota_exceeded")


def test_scheduled_jobs_of_the_system_user_are_exempt(jobs_queue: str, settings: Any) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 1
    system = system_user_get()
    Job.objects.bulk_create([Job(owner=system, task="word_count", seq=1) for _ in range(3)])

    job = periodic_job_start(task_name="word_count", params={"text": "nightly"}, schedule="nightly")

    assert job.owner_id == system.pk
    assert unfinished_count(owner_id=system.pk, at_most=100) == 4


def test_the_count_stops_at_the_limit(user: Any) -> None:
    Job.objects.bulk_create([Job(owner=user, task="word_count", seq=1) for _ in range(7)])
    assert unfinished_count(owner_id=user.pk, at_most=5) == 5
    assert unfinished_count(owner_id=user.pk, at_most=50) == 7


def test_retrying_a_failed_job_counts_against_the_quota(api: Any, user: Any, jobs_queue: str, settings: Any) -> None:
    settings.JOBS_MAX_UNFINISHED_PER_USER = 1
    failed = Job.objects.create(
        owner=user, task="word_count", status=JobStatus.FAILED, attempts=2, max_attempts=2, seq=5
    )
    assert submit(api).status_code == 202

    refused = api.post(f"/api/jobs/{failed.pk}/retry/")

    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "quota_exceeded")
    assert Job.objects.get(pk=failed.pk).status == JobStatus.FAILED
    Job.objects.exclude(pk=failed.pk).update(status=JobStatus.SUCCEEDED)
    assert api.post(f"/api/jobs/{failed.pk}/retry/").status_code == 200
