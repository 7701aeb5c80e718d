"""Content-Security-Policy for every response (Django 5.2 has no built-in CSP).

Scripts and styles come from this origin only, Swagger UI's included (drf-spectacular-sidecar:
no CDN, so no third party can change what runs on the API's origin); the page opens WebSockets to
the configured WEBSOCKET_URL's origin and calls the webhooks service at WEBHOOKS_API_URL's origin
(its Webhooks panel). Inline styles stay allowed because the admin writes a few
``style`` attributes; inline scripts never are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@lru_cache(maxsize=8)
def policy(*, websocket_url: str, webhooks_api_url: str = "") -> str:
    connect = " ".join(dict.fromkeys(filter(None, ["'self'", _origin(websocket_url), _origin(webhooks_api_url)])))
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {connect}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            # Read per response (cached by value), so a changed setting (a test's override) counts.
            response["Content-Security-Policy"] = policy(
                websocket_url=settings.WEBSOCKET_URL, webhooks_api_url=settings.WEBHOOKS_API_URL
            )
        return response
