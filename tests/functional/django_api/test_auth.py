"""Tickets for the WebSocket, RFC 7662 introspection, API tokens from the command line."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from rest_framework.test import APIClient

from contracts.tickets import TICKET_AUDIENCE, TicketClaims
from django_app.accounts.models import ApiToken
from django_app.accounts.tickets import key_id, ticket_mint
from django_app.accounts.tokens import api_token_create, api_token_revoke
from django_app.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(django_user_model: Any) -> APIClient:
    """A client holding a service credential: a token whose user may introspect."""
    robot = django_user_model.objects.create_user(username="billing-service")
    robot.user_permissions.add(Permission.objects.get(codename="introspect_token"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=robot, name='svc')[1]}")
    return client


def introspect(service: APIClient, token: str) -> dict[str, Any]:
    response = service.post("/api/auth/introspect/", {"token": token}, format="json")
    assert response.status_code == 200
    return response.json()


def test_ticket_grants_own_topics_and_expires_within_a_minute(api: Any, user: Any, settings: Any) -> None:
    job = Job.objects.create(owner=user, task="countdown", params={})
    response = api.post("/api/ws/tickets/", {"jobs": [str(job.id)]}, format="json")

    assert response.status_code == 201
    body = response.json()
    claims = TicketClaims.model_validate(
        jwt.decode(body["ticket"], settings.TICKET_SIGNING_KEY, algorithms=["HS256"], audience=TICKET_AUDIENCE)
    )
    assert claims.sub == str(user.pk)
    assert claims.topics == [f"user:{user.pk}", f"job:{job.id}"]
    assert 0 < claims.exp - int(time.time()) <= 60
    assert body["expires_in"] <= 60
    assert jwt.get_unverified_header(body["ticket"])["kid"] == key_id(settings.TICKET_SIGNING_KEY)


def test_ticket_for_another_users_job_is_refused(api: Any, other_user: Any) -> None:
    theirs = Job.objects.create(owner=other_user, task="countdown", params={})
    response = api.post("/api/ws/tickets/", {"jobs": [str(theirs.id)]}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_ticket_needs_login() -> None:
    response = APIClient().post("/api/ws/tickets/", {}, format="json")
    assert response.status_code == 401


def test_introspect_an_api_token(service: APIClient, user: Any, token: str) -> None:
    answer = introspect(service, token)
    assert answer["active"] is True
    assert answer["sub"] == str(user.pk)
    assert answer["username"] == "alice"
    assert answer["token_type"] == "api_token"


def test_introspect_a_revoked_token(service: APIClient, user: Any) -> None:
    stored, raw = api_token_create(user=user, name="gone")
    api_token_revoke(token=stored)
    assert introspect(service, raw) == {"active": False}


def test_introspect_a_ticket_works_once(service: APIClient, user: Any) -> None:
    ticket, _claims = ticket_mint(user_id=user.pk)
    first = introspect(service, ticket)
    assert first["active"] is True
    assert first["token_type"] == "ws_ticket"
    assert first["sub"] == str(user.pk)
    assert first["scope"] == f"user:{user.pk}"
    assert introspect(service, ticket) == {"active": False}  # used


def test_introspect_forged_and_expired_tickets(service: APIClient, user: Any, settings: Any) -> None:
    now = int(time.time())
    claims = {
        "sub": str(user.pk),
        "aud": TICKET_AUDIENCE,
        "iat": now,
        "exp": now + 30,
        "jti": uuid.uuid4().hex,
        "topics": [f"user:{user.pk}"],
    }
    kid = {"kid": key_id(settings.TICKET_SIGNING_KEY)}
    forged = jwt.encode(claims, "not-the-key-but-long-enough-to-pass-32-bytes", algorithm="HS256", headers=kid)
    expired = jwt.encode(
        {**claims, "iat": now - 120, "exp": now - 60}, settings.TICKET_SIGNING_KEY, algorithm="HS256", headers=kid
    )
    wrong_audience = jwt.encode({**claims, "aud": "api"}, settings.TICKET_SIGNING_KEY, algorithm="HS256", headers=kid)
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in [forged, expired, wrong_audience, unsigned, "garbage", "a.b.c"]:
        assert introspect(service, token) == {"active": False}, token


def test_a_ticket_signed_with_the_previous_key_still_verifies(service: APIClient, user: Any, settings: Any) -> None:
    old_key = settings.TICKET_SIGNING_KEY
    ticket, _ = ticket_mint(user_id=user.pk)
    settings.TICKET_SIGNING_KEY = "the-new-ticket-signing-key-of-enough-length"
    settings.TICKET_SIGNING_KEY_PREVIOUS = old_key
    assert introspect(service, ticket)["active"] is True


def test_introspection_needs_a_service_credential(api: Any, token: str) -> None:
    response = api.post("/api/auth/introspect/", {"token": token}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert APIClient().post("/api/auth/introspect/", {"token": token}, format="json").status_code == 401


def test_introspection_without_a_token_field(service: APIClient) -> None:
    response = service.post("/api/auth/introspect/", {"nope": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_create_api_token_command_prints_a_working_token(user: Any) -> None:
    out = io.StringIO()
    call_command("create_api_token", "alice", "--name", "ci", stdout=out)
    raw = out.getvalue().strip()
    stored = ApiToken.objects.get(name="ci")
    assert raw not in stored.token_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/jobs/").status_code == 200


def test_session_login_for_browsers(client: Any, user: Any) -> None:
    assert client.get("/").status_code == 302
    response = client.post("/login/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/jobs/").status_code == 200


def test_session_api_writes_need_csrf(user: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="alice-password-1")
    response = client.post("/api/jobs/", {"task": "countdown"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_grant_for_own_jobs_has_its_own_audience(api: Any, user: Any, other_user: Any, settings: Any) -> None:
    mine = Job.objects.create(owner=user, task="countdown", params={})
    theirs = Job.objects.create(owner=other_user, task="countdown", params={})

    response = api.post("/api/ws/grants/", {"jobs": [str(mine.id)]}, format="json")
    assert response.status_code == 201
    claims = jwt.decode(
        response.json()["grant"], settings.TICKET_SIGNING_KEY, algorithms=["HS256"], audience="ws-grant"
    )
    assert claims["topics"] == [f"job:{mine.id}"]
    assert claims["sub"] == str(user.pk)
    refused = api.post("/api/ws/grants/", {"jobs": [str(mine.id), str(theirs.id)]}, format="json")
    assert refused.status_code == 404
    empty = api.post("/api/ws/grants/", {"jobs": []}, format="json")
    assert empty.status_code == 400
