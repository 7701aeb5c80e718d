"""Content-Security-Policy for every response (Django 5.2 has no built-in CSP).

Scripts and styles come from this origin only; the page opens WebSockets to the configured
WEBSOCKET_URL's origin. Swagger UI is the one page that loads assets from a CDN, so only
/api/docs/ widens the policy for it. Inline styles stay allowed because the admin writes a few
``style`` attributes; inline scripts never are.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

SWAGGER_CDN = "https://cdn.jsdelivr.net"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def policy(*, websocket_url: str, cdn: str = "") -> str:
    extra = f" {cdn}" if cdn else ""
    connect = " ".join(filter(None, ["'self'", _origin(websocket_url)]))
    directives = [
        "default-src 'self'",
        f"script-src 'self'{extra}",
        f"style-src 'self' 'unsafe-inline'{extra}",
        f"img-src 'self' data:{extra}",
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
        self.default = policy(websocket_url=settings.WEBSOCKET_URL)
        self.docs = policy(websocket_url=settings.WEBSOCKET_URL, cdn=SWAGGER_CDN)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path_info.startswith("/api/docs/")
            response["Content-Security-Policy"] = self.docs if docs else self.default
        return response
