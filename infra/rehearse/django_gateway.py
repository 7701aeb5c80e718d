"""A stand-in for the Django function's API Gateway (REST API), on 127.0.0.1.

On AWS the other services reach Django at its API Gateway URL (SSM ``api-base-url``). The
rehearsal runs the Django function from the Zappa artifact outside MiniStack, so nothing answers
that https host here. This server turns each request into the proxy event API Gateway would send,
under the same stage path, and hands it to the Django function (``DjangoFunction.request``: a fresh
isolated process each time, a cold start per request).

It serves GET only: the webhooks service only ever reads from Django (its JWKS, and a job for a
``result_url``). Every request is recorded, so the report shows what crossed it.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from infra.rehearse.django_side import DjangoFunction
from infra.threaded_http import HOST, QuietHandler, serving_in_thread

# What a reader sends that Django may look at; API Gateway's own headers come from rest_event.
FORWARDED_HEADERS = ("authorization", "accept", "user-agent")
# Hop-by-hop or recomputed here: never copied from Django's answer.
DROPPED_RESPONSE_HEADERS = {"content-length", "connection", "transfer-encoding"}


@dataclass
class DjangoGateway:
    stage: str
    base_url: str = ""
    requests: list[str] = field(default_factory=list)  # "GET /.well-known/jwks.json 200"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, line: str) -> None:
        with self._lock:
            self.requests.append(line)


def _response_headers(response: dict[str, Any]) -> list[tuple[str, str]]:
    multi: dict[str, list[str]] = response.get("multiValueHeaders") or {}
    single: dict[str, str] = response.get("headers") or {}
    pairs = [(name, value) for name, values in multi.items() for value in values] or list(single.items())
    return [(name, str(value)) for name, value in pairs if name.lower() not in DROPPED_RESPONSE_HEADERS]


def _handler(django: DjangoFunction, gateway: DjangoGateway) -> type[BaseHTTPRequestHandler]:
    prefix = f"/{gateway.stage}/"

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
            if not self.path.startswith(prefix) or "?" in self.path:
                # Neither read the webhooks service makes carries a query string.
                self.answer(404, b'{"message":"Not Found"}', [("Content-Type", "application/json")])
                return
            path = self.path[len(prefix) - 1 :]
            headers = {name: value for name in FORWARDED_HEADERS if (value := self.headers.get(name)) is not None}
            try:
                response = django.request("GET", path, headers=headers)
            except Exception as error:  # the function failed: API Gateway answers 502
                gateway.record(f"GET {path} 502 ({type(error).__name__})")
                self.answer(502, b'{"message":"Internal server error"}', [("Content-Type", "application/json")])
                return
            raw = response.get("body") or ""
            body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
            status = int(response["statusCode"])
            gateway.record(f"GET {path} {status}")
            self.answer(status, body, _response_headers(response))

    return Handler


@contextmanager
def serving(django: DjangoFunction) -> Iterator[DjangoGateway]:
    """The stand-in on a free port of 127.0.0.1; its ``base_url`` ends with the stage, as Django's does."""
    gateway = DjangoGateway(stage=django.stage)
    with serving_in_thread(_handler(django, gateway), name="django-gateway") as server:
        gateway.base_url = f"http://{HOST}:{server.server_address[1]}/{django.stage}"
        yield gateway
