"""The Webhooks panel in a real browser, against Django and a small in-memory fake of the webhooks
service's HTTP API (another origin, CORS, bearer tokens): the real service is tested on its own."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_page_django import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class FakeService:
    """Endpoints and deliveries in memory; a test delivery is pending until it has been listed once."""

    def __init__(self) -> None:
        self.endpoints: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []  # method, path, Authorization

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.split("?")[0].strip("/").split("/")
        if parts[:2] != ["webhooks", "endpoints"] and parts[:2] != ["webhooks", "deliveries"]:
            return 404, {"error": {"code": "not_found", "message": "No such route."}}
        if method == "POST" and parts == ["webhooks", "endpoints"]:
            if not str(body.get("url", "")).startswith("https://"):
                return 400, {
                    "error": {
                        "code": "invalid_url",
                        "message": "The URL must use https: <b>not</b> http.",
                        "fields": {"url": ["Use https."]},
                    }
                }
            endpoint = {
                "id": f"ep_{len(self.endpoints) + 1}",
                "url": body["url"],
                "description": body.get("description", ""),
                "event_types": body["event_types"],
                "status": "active",
                "created_at": "2025-01-01T00:00:00Z",
            }
            self.endpoints.append(endpoint)
            return 201, {**endpoint, "secret": SECRET}
        if method == "GET" and parts == ["webhooks", "endpoints"]:
            return 200, {"endpoints": self.endpoints}
        if method == "DELETE" and len(parts) == 3:
            self.endpoints = [e for e in self.endpoints if e["id"] != parts[2]]
            return 204, None
        if method == "POST" and parts[3:] == ["test"]:
            delivery = self.delivery(parts[2], "webhook.test", "pending")
            return 202, {"delivery": delivery}
        if method == "GET" and parts[3:] == ["deliveries"]:
            listed = [d for d in self.deliveries if d["endpoint_id"] == parts[2]]
            answer = json.loads(json.dumps(listed))
            for delivery in listed:  # the next listing finds it delivered
                if delivery["status"] == "pending":
                    delivery.update(
                        status="succeeded",
                        attempt_count=1,
                        attempts=[{"at": "2025-01-01T00:00:01Z", "status_code": 204, "latency_ms": 42, "error": None}],
                    )
            return 200, {"deliveries": answer}
        if method == "POST" and parts[:2] == ["webhooks", "deliveries"] and parts[3:] == ["retry"]:
            delivery = next(d for d in self.deliveries if d["id"] == parts[2])
            delivery.update(status="pending")
            return 202, {"delivery": delivery}
        return 405, {"error": {"code": "method_not_allowed", "message": "No."}}

    def delivery(self, endpoint_id: str, event_type: str, status: str) -> dict[str, Any]:
        delivery = {
            "id": f"msg_{len(self.deliveries) + 1}",
            "endpoint_id": endpoint_id,
            "event_type": event_type,
            "job_id": None,
            "status": status,
            "attempt_count": 0,
            "attempts": [],
            "next_attempt_at": None,
            "created_at": "2025-01-01T00:00:00Z",
        }
        self.deliveries.insert(0, delivery)
        return delivery


@pytest.fixture
def service(settings: Any) -> Iterator[FakeService]:
    fake = FakeService()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE")

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self.cors()
            self.end_headers()

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            authorization = self.headers.get("Authorization", "")
            fake.requests.append((self.command, self.path, authorization))
            if not authorization.startswith("Bearer ey"):
                status, payload = 401, {"error": {"code": "invalid_token", "message": "No token."}}
            else:
                status, payload = fake.handle(self.command, self.path, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def do_DELETE(self) -> None:
            self.answer()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOKS_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def test_add_an_endpoint_see_its_secret_once_send_a_test_and_follow_it(
    page: Any, live_server: Any, user: Any, service: FakeService
) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, live_server)
    panel = page.locator("#webhooks")
    panel.get_by_text("No endpoints yet.").wait_for(timeout=10_000)

    page.get_by_label("Endpoint URL").fill("http://insecure.example.test/in")
    page.locator("#webhook-add").click()
    page.locator("#webhooks-error").filter(has_text="must use https").wait_for(timeout=10_000)
    assert page.locator("#webhooks-error").inner_text() == "The URL must use https: <b>not</b> http."
    assert page.locator("#webhook-url-error").inner_text() == "Use https."

    page.get_by_label("Endpoint URL").fill("https://receiver.example.test/in")
    page.get_by_label("Description").fill("CI")
    page.get_by_label("job.progress").check()
    page.locator("#webhook-add").click()
    page.locator("#webhook-secret-box").wait_for(state="visible", timeout=10_000)
    assert page.get_by_label("Signing secret of the new endpoint").input_value() == SECRET
    assert "will not be shown again" in page.locator("#webhook-secret-box").inner_text()
    assert service.endpoints[0]["event_types"] == ["job.succeeded", "job.failed", "job.cancelled", "job.progress"]
    row = page.locator("[data-testid=endpoint-row]")
    assert row.count() == 1
    assert row.locator("[data-testid=endpoint-status]").inner_text() == "active"
    assert page.evaluate("JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})") == "{}{}"
    page.locator("#webhook-secret-dismiss").click()
    assert page.locator("#webhook-secret-box").is_hidden()
    assert page.locator("#webhook-secret").input_value() == ""

    row.locator("[data-testid=send-test]").click()
    delivery = page.locator("[data-testid=delivery-row]")
    delivery.locator("[data-testid=delivery-status]").filter(has_text="succeeded").wait_for(timeout=10_000)
    assert delivery.locator(".status-code").inner_text() == "204"
    assert delivery.locator(".latency").inner_text() == "42 ms"
    screenshot(page, "page-webhooks-panel")

    tokens = {authorization for _, _, authorization in service.requests}
    assert len(tokens) == 1, "one access token for every call"

    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("[data-testid=delete-endpoint]").click()
    panel.get_by_text("No endpoints yet.").wait_for(timeout=10_000)
    assert page.locator("#webhook-deliveries").is_hidden()
    assert violations == []


def test_a_failed_delivery_can_be_retried(page: Any, live_server: Any, user: Any, service: FakeService) -> None:
    service.handle("POST", "/webhooks/endpoints", {"url": "https://r.example.test/", "event_types": ["job.failed"]})
    failed = service.delivery("ep_1", "job.failed", "failed")
    failed.update(
        attempt_count=8,
        attempts=[{"at": "2025-01-01T00:00:00Z", "status_code": None, "latency_ms": 5000, "error": "timeout"}],
    )
    log_in(page, live_server)
    page.locator("[data-testid=endpoint-row] [data-testid=show-deliveries]").click()
    delivery = page.locator("[data-testid=delivery-row]")
    delivery.locator("[data-testid=delivery-status]").filter(has_text="failed").wait_for(timeout=10_000)
    assert delivery.locator(".status-code").inner_text() == "timeout"
    delivery.locator("[data-testid=retry-delivery]").click()
    delivery.locator("[data-testid=delivery-status]").filter(has_text="succeeded").wait_for(timeout=10_000)
    assert ("POST", f"/webhooks/deliveries/{failed['id']}/retry") in [(m, p) for m, p, _ in service.requests]
