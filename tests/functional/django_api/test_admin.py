"""The admin: jobs with filters and actions through the services, API tokens shown once."""

from __future__ import annotations

from typing import Any

import pytest

from django_app.accounts.models import ApiToken
from django_app.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Any, django_user_model: Any) -> Any:
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin_user)
    return admin_user


def test_job_changelist_filters_and_search(client: Any, staff: Any, user: Any) -> None:
    Job.objects.create(owner=user, task="countdown", params={"seconds": 1}, status=JobStatus.FAILED)
    Job.objects.create(owner=user, task="word_count", params={"text": "x"})
    response = client.get("/admin/jobs/job/?status__exact=failed&q=countdown")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_job_detail_is_read_only(client: Any, staff: Any, user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1})
    page = client.get(f"/admin/jobs/job/{job.id}/change/")
    assert page.status_code == 200
    assert 'name="params"' not in page.content.decode()


def test_admin_actions_call_the_services(client: Any, staff: Any, user: Any, jobs_queue: str) -> None:
    failed = Job.objects.create(owner=user, task="countdown", params={"seconds": 1}, status=JobStatus.FAILED, seq=3)
    finished = Job.objects.create(owner=user, task="countdown", params={"seconds": 1}, status=JobStatus.SUCCEEDED)
    response = client.post(
        "/admin/jobs/job/",
        {"action": "retry_jobs", "_selected_action": [str(failed.id), str(finished.id)]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    finished.refresh_from_db()
    assert (failed.status, failed.seq) == (JobStatus.QUEUED, 4)
    assert finished.status == JobStatus.SUCCEEDED  # refused, reported as a warning
    assert "only failed or cancelled" in response.content.decode()

    client.post("/admin/jobs/job/", {"action": "cancel_jobs", "_selected_action": [str(failed.id)]})
    failed.refresh_from_db()
    assert failed.status == JobStatus.CANCELLED


def test_creating_a_token_in_the_admin_shows_it_once(client: Any, staff: Any, user: Any) -> None:
    response = client.post("/admin/accounts/apitoken/add/", {"user": user.pk, "name": "deploy-bot"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    token = ApiToken.objects.get(name="deploy-bot")
    shown = page.split("not shown again: ", 1)[1].split("<", 1)[0].strip()
    assert shown.startswith(token.prefix)
    assert shown not in client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()


def test_a_service_credential_shows_its_service_and_permissions_read_only(client: Any, staff: Any) -> None:
    from django_app.accounts.service_credentials import service_credential_create

    token, _ = service_credential_create(service="webhooks", permissions=["introspect", "jobs:read"])
    listing = client.get("/admin/accounts/apitoken/?service=webhooks").content.decode()
    assert "webhooks service credential" in listing
    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert "introspect" in page
    assert "jobs:read" in page
    assert 'name="permissions"' not in page  # shown, not editable: the command checks them
    # A token made in the admin is a user's token: no service, no permissions.
    client.post("/admin/accounts/apitoken/add/", {"user": token.user.pk, "name": "ops", "service": "webhooks"})
    assert ApiToken.objects.get(name="ops").service == ""


def test_queue_priority_and_run_after_are_shown_read_only_and_filter_by_queue(
    client: Any, staff: Any, user: Any
) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1}, queue_name="long", priority=9)
    Job.objects.create(owner=user, task="countdown", params={"seconds": 1})

    page = client.get(f"/admin/jobs/job/{job.id}/change/").content.decode()
    for field in ("queue_name", "priority", "run_after"):
        assert f"field-{field}" in page
        assert f'name="{field}"' not in page
    assert client.get("/admin/jobs/job/?queue_name__exact=long").context["cl"].result_count == 1
