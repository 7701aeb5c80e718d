"""The page's Webhooks panel: rendered only when WEBHOOKS_API_URL is set, and allowed to call it (CSP)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

SERVICE = "https://hooks.example.test/dev"


def test_the_panel_is_rendered_with_the_service_url(client: Any, user: Any, settings: Any) -> None:
    settings.WEBHOOKS_API_URL = SERVICE
    client.force_login(user)
    response = client.get("/")
    page = response.content.decode()
    assert 'id="webhooks"' in page
    assert f'data-api-url="{SERVICE}"' in page
    assert "/static/web/webhooks-panel.js" in page
    for field in ["webhook-url", "webhook-description", "webhook-add", "webhook-secret", "webhooks-error"]:
        assert f'id="{field}"' in page, field
    ticked = {event["name"] for event in response.context["webhook_event_types"] if event["checked"]}
    assert ticked == {"job.succeeded", "job.failed", "job.cancelled"}
    assert 'id="webhook-event-job-succeeded" name="event_types" value="job.succeeded" checked' in page
    assert 'id="webhook-event-job-progress" name="event_types" value="job.progress">' in page


def test_the_panel_is_absent_without_a_service(client: Any, user: Any, settings: Any) -> None:
    settings.WEBHOOKS_API_URL = ""
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'id="webhooks"' not in page
    assert "webhooks-panel.js" not in page
    assert 'id="submit-form"' in page  # the rest of the page is unchanged


def test_the_page_may_connect_to_the_service_origin_only(client: Any, user: Any, settings: Any) -> None:
    settings.WEBSOCKET_URL = "wss://ws.example.test/dev"
    settings.WEBHOOKS_API_URL = SERVICE
    client.force_login(user)
    csp = client.get("/")["Content-Security-Policy"]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    assert connect == "connect-src 'self' wss://ws.example.test https://hooks.example.test"
    settings.WEBHOOKS_API_URL = ""
    csp = client.get("/")["Content-Security-Policy"]
    assert "hooks.example.test" not in csp


def test_policy_names_each_origin_once() -> None:
    from django_app.config.security import policy

    assert "connect-src 'self' https://a.test;" in policy(websocket_url="", webhooks_api_url="https://a.test/stage/")
    assert "connect-src 'self' https://a.test;" in policy(
        websocket_url="https://a.test/ws", webhooks_api_url="https://a.test/hooks"
    )
