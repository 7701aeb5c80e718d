"""The page on the whole local stack, in Debian's chromium: live progress over the WebSocket, and
the same job finishing by polling when the browser cannot get a WebSocket connection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.setup import DEMO_PASSWORD, DEMO_USERNAME
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page: Any, http_url: str) -> None:
    page.goto(f"{http_url}/login/")
    page.get_by_label("Username").fill(DEMO_USERNAME)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{http_url}/")


def run_countdown(page: Any, seconds: int) -> tuple[list[int], set[str]]:
    """Submits a countdown; returns the progress values the bar showed and the transports the
    badge named until the job ended."""
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_label("Task", exact=True).select_option("countdown")
    page.get_by_label("Seconds", exact=True).fill(str(seconds))
    page.get_by_role("button", name="Submit").click()
    seen: list[int] = []
    transports: set[str] = set()
    for _ in range(int(seconds * 10 + 300)):  # bounded: the job's length plus 30 s
        transports.add(page.locator("#transport").get_attribute("data-transport") or "")
        # The status first: the page renders an event's status and progress in one go, so a
        # terminal status read here means the progress read next is the final one. (Read the
        # other way round, an event landing between the two reads left a stale value last.)
        status = page.locator("#current-status").inner_text()
        value = int(page.locator("#current-progress").get_attribute("value") or 0)
        if not seen or seen[-1] != value:
            seen.append(value)
        if status in {"succeeded", "failed", "cancelled"}:
            break
        page.wait_for_timeout(100)
    assert navigations == [], "the page reloaded"
    return seen, transports


def test_progress_moves_and_the_result_shows_over_the_websocket(page: Any, local_stack: Any) -> None:
    log_in(page, local_stack.http_url)
    seen, transports = run_countdown(page, 4)

    assert page.locator("#current-status").inner_text() == "succeeded"
    assert any(0 < value < 100 for value in seen), seen
    assert seen[-1] == 100
    result = json.loads(page.locator("#current-result").inner_text())
    assert result["counted_seconds"] == 4
    assert "websocket" in transports
    assert "polling" not in transports
    screenshot(page, "page-finished-websocket")


def test_with_the_websocket_refused_the_job_completes_by_polling(page: Any, local_stack: Any) -> None:
    """Every ticket the page gets is spoiled, so the gateway refuses each handshake (401), as a
    blocked WebSocket port would fail it; the page must fall back to polling. (A ticket pointing
    at a closed port would test the Content-Security-Policy instead: it only allows the configured
    WebSocket origin.)"""

    def spoil_tickets(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["ticket"] = body["ticket"][:-4] + "AAAA"
        route.fulfill(response=response, json=body)

    page.route("**/api/ws/tickets/", spoil_tickets)
    log_in(page, local_stack.http_url)
    seen, transports = run_countdown(page, 6)

    assert page.locator("#current-status").inner_text() == "succeeded"
    assert seen[-1] == 100
    assert json.loads(page.locator("#current-result").inner_text())["counted_seconds"] == 6
    assert "polling" in transports
    assert "websocket" not in transports
    screenshot(page, "page-finished-polling")


def test_the_webhooks_panel_adds_an_endpoint_sends_a_test_and_shows_the_delivery(page: Any, local_stack: Any) -> None:
    """The panel calls the Node service directly (another origin, a Django access token); the
    delivery reaches a receiver on 127.0.0.1, which verifies it with the secret the panel showed."""
    from infra.webhook_receivers import Receiver, serving

    log_in(page, local_stack.http_url)
    assert page.locator("#webhooks").get_attribute("data-api-url") == local_stack.webhooks_url
    with serving(Receiver(answers=[204])) as receiver:
        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_label("Description").fill("browser test")
        page.locator("#webhook-add").click()
        page.locator("#webhook-secret-box").wait_for(state="visible", timeout=30_000)
        receiver.secret = page.locator("#webhook-secret").input_value()
        assert receiver.secret.startswith("whsec_")
        row = page.locator("[data-testid=endpoint-row]").filter(has_text=receiver.url)
        row.locator("[data-testid=send-test]").click()
        delivery = page.locator("[data-testid=delivery-row]").first
        delivery.locator("[data-testid=delivery-status]").filter(has_text="succeeded").wait_for(timeout=60_000)
        assert delivery.locator(".status-code").inner_text() == "204"
        screenshot(page, "page-webhooks-panel-stack")
        [received] = receiver.wait_for(1)
        assert received.verified
        assert received.payload["type"] == "webhook.test"
        assert delivery.get_attribute("data-delivery-id") == received.headers["webhook-id"]
