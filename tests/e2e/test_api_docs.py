"""Swagger UI renders from our own static files with the network limited to 127.0.0.1 (issue 17,
finding 2): any request elsewhere (a CDN) is aborted and recorded, and the page must not need it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def loopback_server() -> Iterator[LiveServer]:
    """Django on 127.0.0.1 itself (pytest-django's live_server listens on "localhost")."""
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


def test_swagger_ui_renders_with_no_network_but_this_host(page: Any, loopback_server: LiveServer) -> None:
    elsewhere: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.route("**/*", only_local)
    assert urlsplit(loopback_server.url).hostname == "127.0.0.1"
    page.goto(f"{loopback_server.url}/api/docs/")
    # Swagger UI draws the schema's title and one block per operation once its script has run.
    page.locator(".swagger-ui .info .title").filter(has_text="Polyglot jobs API").wait_for(timeout=15_000)
    page.locator(".opblock-summary-path", has_text="/api/jobs/").first.wait_for(timeout=15_000)
    screenshot(page, "api-docs-offline")
    assert elsewhere == []
    assert violations == []
