"""Deeply nested JSON (issue 17, finding 3): Python's json raises RecursionError past ~1,000
levels, which no JSON parser's ``except ValueError`` catches. Every route that parses a user's
JSON answers 400 ``malformed_json`` instead of a 500."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_app.accounts.service_credentials import service_credential_create
from django_app.accounts.tokens import api_token_create
from django_app.jobs.models import Job
from polyglot_auth import TokenRejected, TokenVerifier

pytestmark = pytest.mark.django_db

# 100 KB as the review tried, under DATA_UPLOAD_MAX_MEMORY_SIZE (256 KB), so the parser sees it.
NESTED = "[" * 50_000 + "]" * 50_000


# Every POST route that reads a body (cancel and retry read none: test below).
BODY_ROUTES = ["/api/jobs/", "/api/ws/tickets/", "/api/ws/grants/", "/api/auth/introspect/"]
NOBODYS_JOB = uuid.UUID(int=1)


@pytest.fixture
def service() -> APIClient:
    """A service credential that may introspect, so that introspection reaches its parser."""
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {service_credential_create(service='webhooks', permissions=['introspect'])[1]}"
    )
    return client


@pytest.fixture
def user_api(django_user_model: Any) -> APIClient:
    """A user's API token: the job and ticket routes (a service credential acts as no user)."""
    client = APIClient()
    user = django_user_model.objects.create_user(username="deep-json-user")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='deep')[1]}")
    return client


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("body", [NESTED, '{"task": ' + NESTED[:60_000] + "}", "{" + '"a":{' * 20_000])
def test_every_json_route_answers_400_to_deep_nesting(
    service: APIClient, user_api: APIClient, path: str, body: str
) -> None:
    client = service if path == "/api/auth/introspect/" else user_api
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "malformed_json"
    assert Job.objects.count() == 0


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_routes_without_a_body_never_parse_it(user_api: APIClient, action: str) -> None:
    response = user_api.post(f"/api/jobs/{NOBODYS_JOB}/{action}/", data=NESTED, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


def _segment(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()


def test_a_ticket_whose_header_nests_deeply_is_inactive_not_a_500(service: APIClient) -> None:
    # The JWT header is parsed before any signature is checked; the token stays under the length cap.
    forged = f"{_segment('[' * 2_000)}.{_segment('{}')}.c2ln"
    with pytest.raises(TokenRejected):
        TokenVerifier(issuer="http://testserver", audience="webhooks", jwks={"keys": []}).verify(forged)
    response = service.post("/api/auth/introspect/", {"token": forged}, format="json")
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_ordinary_json_still_parses(service: APIClient) -> None:
    response = service.post(
        "/api/auth/introspect/", data=json.dumps({"token": "pgt_nothing"}), content_type="application/json"
    )
    assert response.json() == {"active": False}
