"""Tickets for the WebSocket, RFC 7662 introspection, API tokens from the command line."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import jwt
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from contracts.tickets import TICKET_AUDIENCE, TicketClaims
from django_app.accounts.models import ApiToken
from django_app.accounts.service_credentials import service_credential_create
from django_app.accounts.signing_keys import keyring
from django_app.accounts.tickets import grant_mint, ticket_mint
from django_app.accounts.tokens import api_token_create, api_token_revoke
from django_app.jobs.models import Job

pytestmark = pytest.mark.django_db


def verify_with_jwks(token: str, *, audience: str) -> dict[str, Any]:
    """PyJWT with Django's published JWKS alone, as any Python service would."""
    jwks = APIClient().get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["ES256"], audience=audience, issuer="http://testserver")
    return claims


@pytest.fixture
def service() -> APIClient:
    """A client holding the webhooks service's credential, allowed to introspect."""
    _, raw = service_credential_create(service="webhooks", permissions=["introspect"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
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
    claims = TicketClaims.model_validate(verify_with_jwks(body["ticket"], audience=TICKET_AUDIENCE))
    assert claims.sub == str(user.pk)
    assert claims.topics == [f"user:{user.pk}", f"job:{job.id}"]
    assert 0 < claims.exp - int(time.time()) <= 60
    assert body["expires_in"] <= 60
    assert jwt.get_unverified_header(body["ticket"]) == {"alg": "ES256", "typ": "JWT", "kid": keyring().current.kid}
    assert claims.iss == settings.AUTH_ISSUER


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


def test_introspect_an_inactive_users_token(service: APIClient, user: Any, token: str) -> None:
    user.is_active = False
    user.save()
    assert introspect(service, token) == {"active": False}


def test_tickets_and_grants_are_never_active_at_introspection(service: APIClient, user: Any) -> None:
    """A ticket is redeemed in exactly one place, $connect: introspection never answers for one."""
    ticket, _ = ticket_mint(user_id=user.pk)
    grant, _ = grant_mint(user_id=user.pk, job_ids=[uuid.uuid4()])
    assert introspect(service, ticket) == {"active": False}
    assert introspect(service, grant) == {"active": False}


def test_introspection_needs_a_service_credential(api: Any, token: str, django_user_model: Any) -> None:
    response = api.post("/api/auth/introspect/", {"token": token}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "service_credential_required"
    assert APIClient().post("/api/auth/introspect/", {"token": token}, format="json").status_code == 401
    # Not a superuser's browser session either.
    admin = django_user_model.objects.create_superuser(username="root", password="root-password-1")
    browser = APIClient()
    browser.force_authenticate(user=admin)
    refused = browser.post("/api/auth/introspect/", {"token": token}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "service_credential_required"


def test_a_service_credential_without_introspect_is_refused(token: str) -> None:
    _, raw = service_credential_create(service="webhooks", permissions=["jobs:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/auth/introspect/", {"token": token}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "service_credential_required"


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
    assert response.json()["error"]["code"] == "csrf_failed"


def test_grant_for_own_jobs_has_its_own_audience(api: Any, user: Any, other_user: Any, settings: Any) -> None:
    mine = Job.objects.create(owner=user, task="countdown", params={})
    theirs = Job.objects.create(owner=other_user, task="countdown", params={})

    response = api.post("/api/ws/grants/", {"jobs": [str(mine.id)]}, format="json")
    assert response.status_code == 201
    claims = verify_with_jwks(response.json()["grant"], audience="ws-grant")
    assert claims["topics"] == [f"job:{mine.id}"]
    assert claims["sub"] == str(user.pk)
    refused = api.post("/api/ws/grants/", {"jobs": [str(mine.id), str(theirs.id)]}, format="json")
    assert refused.status_code == 404
    empty = api.post("/api/ws/grants/", {"jobs": []}, format="json")
    assert empty.status_code == 400
