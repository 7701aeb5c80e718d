"""Security headers on every kind of response the Django function gives."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def responses(client: Any, api: Any, user: Any, settings: Any) -> dict[str, Any]:
    client.force_login(user)
    return {
        "health": client.get("/api/health/"),
        "api": api.get("/api/jobs/"),
        "api error": api.get("/api/jobs/not-a-job/"),
        "page": client.get("/"),
        "login": client.get("/login/"),
        "static": client.get("/static/web/page.css"),
        "docs": client.get("/api/docs/"),
        "disallowed host": client.get("/api/health/", HTTP_HOST="evil.example"),
    }


def test_every_response_carries_the_headers(responses: dict[str, Any]) -> None:
    for name, response in responses.items():
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], name
        assert "script-src 'self'" in response["Content-Security-Policy"], name


def test_no_response_lets_a_cdn_in_the_docs_included(responses: dict[str, Any]) -> None:
    """Swagger UI comes from our static files (issue 17, finding 2): every policy names only this
    origin (and the WebSocket's for connect-src)."""
    assert responses["docs"].status_code == 200
    for name, response in responses.items():
        for directive in response["Content-Security-Policy"].split("; "):
            if not directive.startswith(("connect-src", "img-src")):
                assert "http" not in directive, (name, directive)
        assert "cdn.jsdelivr.net" not in response["Content-Security-Policy"], name
    docs = responses["docs"].content.decode()
    assert "cdn.jsdelivr.net" not in docs
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs


def test_no_inline_script_on_the_page(responses: dict[str, Any]) -> None:
    page = responses["page"].content.decode()
    for chunk in page.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_websocket_origin_is_allowed_to_connect(client: Any, settings: Any, user: Any) -> None:
    from django_app.config.security import policy

    assert "connect-src 'self' wss://ws.example.test" in policy(websocket_url="wss://ws.example.test/dev")
    assert "connect-src 'self';" in policy(websocket_url="")
