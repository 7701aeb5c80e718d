"""What a person's browser does against the stack's HTTP API: the login page (session cookie, CSRF),
then API calls with that session, as the page's own scripts make them (same origin, X-CSRFToken)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tests.integration.local_stack.client import WAIT_SECONDS

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A login answers 302: the test reads it rather than following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    def __init__(self, http_url: str) -> None:
        self.origin = http_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def _open(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self._opener.open(request, timeout=WAIT_SECONDS) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _cookie(self, name: str) -> str:
        return next((cookie.value or "" for cookie in self.cookies if cookie.name == name), "")

    def log_in(self, username: str, password: str) -> int:
        """GET the login page (its CSRF token), POST the form; the status of the POST (302: in)."""
        status, page = self._open(urllib.request.Request(f"{self.origin}/login/"))
        assert status == 200, page[:500]
        found = _CSRF_FIELD.search(page.decode())
        assert found is not None, "no CSRF token in the login page"
        form = {"username": username, "password": password, "csrfmiddlewaretoken": found.group(1)}
        request = urllib.request.Request(
            f"{self.origin}/login/",
            method="POST",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin},
        )
        return self._open(request)[0]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A JSON call with the session, as the page's scripts send it."""
        headers = {"Content-Type": "application/json", "Origin": self.origin, "X-CSRFToken": self._cookie("csrftoken")}
        data = json.dumps(body).encode() if body is not None else None
        status, raw = self._open(urllib.request.Request(self.origin + path, method=method, data=data, headers=headers))
        return status, json.loads(raw or b"null")

    def ticket(self, jobs: list[str] | None = None) -> dict[str, Any]:
        status, body = self.call("POST", "/api/ws/tickets/", {"jobs": jobs or []})
        assert status == 201, body
        return dict(body)

    @property
    def logged_in(self) -> bool:
        return bool(self._cookie("sessionid"))
