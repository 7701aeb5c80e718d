"""Services acting on their own behalf: credentials with explicit permissions, introspection of
access tokens for the calling service, reading a job for a result_url, and user deactivation."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from django_app.accounts.service_credentials import ServiceCredentialError, service_credential_create
from django_app.jobs.models import Job
from tests.aws import drain

pytestmark = pytest.mark.django_db


def credential(*permissions: str, service: str = "webhooks") -> APIClient:
    _, raw = service_credential_create(service=service, permissions=list(permissions))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def access_token(api: APIClient, audience: str = "webhooks") -> str:
    response = api.post("/api/auth/token/", {"audience": audience}, format="json")
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


def test_introspecting_an_access_token_for_the_calling_service(api: APIClient, user: Any) -> None:
    answer = credential("introspect").post("/api/auth/introspect/", {"token": access_token(api)}, format="json").json()

    assert answer["active"] is True
    assert (answer["token_type"], answer["sub"], answer["aud"]) == ("access_token", str(user.pk), "webhooks")
    assert answer["username"] == "alice"
    assert answer["scope"] == "webhooks:read webhooks:write"


def test_an_access_token_for_another_service_is_not_active_for_this_one(api: APIClient, settings: Any) -> None:
    settings.AUTH_SERVICES = {
        **settings.AUTH_SERVICES,
        "reports": {"scopes": {"reports:read": None}, "permissions": ["introspect"]},
    }
    for_reports = access_token(api, "reports")
    assert credential("introspect").post("/api/auth/introspect/", {"token": for_reports}, format="json").json() == {
        "active": False
    }
    reports = credential("introspect", service="reports")
    assert reports.post("/api/auth/introspect/", {"token": for_reports}, format="json").json()["active"] is True


def test_an_access_token_of_a_deactivated_user_is_not_active(api: APIClient, user: Any) -> None:
    token = access_token(api)
    user.is_active = False
    user.save()
    answer = credential("introspect").post("/api/auth/introspect/", {"token": token}, format="json").json()
    assert answer == {"active": False}


def test_a_service_credential_reads_any_job_with_jobs_read(user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={}, result={"big": "x"})

    response = credential("jobs:read").get(f"/api/jobs/{job.id}/")

    assert response.status_code == 200
    assert response.json()["id"] == str(job.id)
    missing = credential("jobs:read").get("/api/jobs/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "job_not_found"


def test_a_service_credential_without_jobs_read_reads_no_job(user: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={})
    response = credential("introspect").get(f"/api/jobs/{job.id}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "service_permission_missing"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/jobs/"), ("post", "/api/jobs/"), ("post", "/api/ws/tickets/"), ("post", "/api/auth/token/")],
)
def test_a_service_credential_never_acts_as_a_user(method: str, path: str) -> None:
    response = getattr(credential("introspect", "jobs:read"), method)(path, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "service_credential_not_allowed"


def test_the_command_creates_a_credential_with_exactly_its_permissions() -> None:
    out = io.StringIO()
    call_command("create_service_credential", "webhooks", "--permission", "jobs:read", stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    assert client.post("/api/auth/introspect/", {"token": "x"}, format="json").status_code == 403
    with pytest.raises(CommandError, match="may be given only"):
        call_command("create_service_credential", "webhooks", "--permission", "admin")
    with pytest.raises(CommandError, match="not in AUTH_SERVICES"):
        call_command("create_service_credential", "billing", "--permission", "introspect")


def test_a_service_user_cannot_log_in() -> None:
    token, _ = service_credential_create(service="webhooks", permissions=["introspect"])
    assert not token.user.has_usable_password()
    assert not token.user.is_staff
    with pytest.raises(ServiceCredentialError):
        service_credential_create(service="webhooks", permissions=[])


@pytest.mark.django_db(transaction=True)
def test_deactivating_a_user_publishes_user_deactivated(user: Any, events_topic: tuple[str, str]) -> None:
    _, events_queue = events_topic
    user.last_name = "Renamed"
    user.save()  # a save that keeps the user active publishes nothing
    user.is_active = False
    user.save()
    user.save()  # nor does saving an already inactive user again

    messages = drain(events_queue, wait_seconds=1)

    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert (event["type"], event["user"]) == ("user.deactivated", str(user.pk))
    assert messages[0]["MessageAttributes"]["type"]["StringValue"] == "user.deactivated"


def test_a_deactivated_user_gets_no_new_ticket(api: APIClient, user: Any) -> None:
    user.is_active = False
    user.save()
    response = api.post("/api/ws/tickets/", {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "inactive_user"
