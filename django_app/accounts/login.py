"""Rate limits around Django's login views (the site's and the admin's).

Three counts per login POST, in this order:

- ``login-ip``: every attempt from one address (``RATE_LIMITS["login_per_ip"]``; an IPv6 client
  by its /64), so one host cannot try many usernames;
- ``login-username``: every attempt for one username from any address
  (``RATE_LIMITS["login_per_username"]``), so many addresses cannot share the guessing of one
  password; roomier, since anyone can spend it;
- ``login-failures``: failed attempts for one username from one address
  (``RATE_LIMITS["login_failures_per_username"]``). Keyed by address too, so that someone who
  knows a username cannot lock its owner out from everywhere. The attempt is counted before the
  password is checked, so concurrent guesses cannot all slip under the limit; a success then
  clears the count, as people expect after finally typing the right password.

Over a limit, the page answers 429 with ``Retry-After`` and the empty form with a message; the
password is not checked and no session is made.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from django_app.accounts.ratelimits import client_subject, rate_limit_forget, rate_limit_hit

LOGIN_IP = "login-ip"
LOGIN_FAILURES = "login-failures"
LOGIN_USERNAME = "login-username"

View = Callable[..., HttpResponseBase]


def _username(request: HttpRequest) -> str:
    # Casefolded: "Alice" and "alice" share one count whichever the user model tells apart.
    return str(request.POST.get("username", "")).strip().casefold()


def _username_at(request: HttpRequest, ip: str) -> str:
    return f"{_username(request)}\n{ip}"


def login_attempt_refusal(request: HttpRequest) -> int | None:
    """Counts a login POST; the seconds to wait when one of its limits is exceeded, else None."""
    ip = client_subject(request)
    limits = settings.RATE_LIMITS
    retry_after = rate_limit_hit(rule=LOGIN_IP, subject=ip, limit=limits["login_per_ip"])
    if retry_after is None:
        retry_after = rate_limit_hit(
            rule=LOGIN_USERNAME, subject=_username(request), limit=limits["login_per_username"]
        )
    if retry_after is None:
        retry_after = rate_limit_hit(
            rule=LOGIN_FAILURES, subject=_username_at(request, ip), limit=limits["login_failures_per_username"]
        )
    return retry_after


def _refused(view: View, request: HttpRequest, retry_after: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
    text = f"Too many login attempts. Try again in {retry_after} second{'' if retry_after == 1 else 's'}."
    messages.error(request, text)
    # The page as a GET renders it: an unbound form. A bound one would check the password.
    as_get = copy.copy(request)
    as_get.method = "GET"
    response = view(as_get, *args, **kwargs)
    if response.status_code != 200:  # e.g. the admin redirects a signed-in admin to its index
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


def login_rate_limited(view: View) -> View:
    """Wraps a login view (``LoginView.as_view()``, ``admin.site.login``) in the login limits."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        retry_after = login_attempt_refusal(request)
        if retry_after is not None:
            return _refused(view, request, retry_after, *args, **kwargs)
        response = view(request, *args, **kwargs)
        if response.status_code in (301, 302, 303) and request.user.is_authenticated:
            rate_limit_forget(rule=LOGIN_FAILURES, subject=_username_at(request, client_subject(request)))
        return response

    return guarded
