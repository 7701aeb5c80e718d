"""DRF throttles backed by the shared counters of ``ratelimits`` (DRF's own keep counts in the
cache, which is per container on Lambda).

DRF runs throttles after authentication and permissions, so anonymous callers get their 401
without being counted, and a refused caller is refused before anything is minted or looked up:
429, ``Retry-After``, error code ``rate_limited`` (``config/errors.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from django_app.accounts.ratelimits import client_subject, rate_limit_hit

TICKETS_USER = "tickets-user"
TICKETS_IP = "tickets-ip"
GRANTS_USER = "grants-user"
INTROSPECTIONS_USER = "introspections-user"
TOKENS_USER = "tokens-user"


class TicketMintThrottle(BaseThrottle):
    """Tickets per user, then per address (``RATE_LIMITS["tickets_per_user"]``/``["tickets_per_ip"]``;
    an IPv6 address counted by its /64)."""

    retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        limits = settings.RATE_LIMITS
        self.retry_after = rate_limit_hit(
            rule=TICKETS_USER, subject=str(request.user.pk), limit=limits["tickets_per_user"]
        )
        if self.retry_after is None:
            self.retry_after = rate_limit_hit(
                rule=TICKETS_IP, subject=client_subject(request), limit=limits["tickets_per_ip"]
            )
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


class _PerUserThrottle(BaseThrottle):
    """One count per authenticated user under ``rule``, limited by ``RATE_LIMITS[limit_name]``."""

    rule = ""
    limit_name = ""
    retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.retry_after = rate_limit_hit(
            rule=self.rule, subject=str(request.user.pk), limit=settings.RATE_LIMITS[self.limit_name]
        )
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


class GrantMintThrottle(_PerUserThrottle):
    """``POST /api/ws/grants/``: ``RATE_LIMITS["grants_per_user"]``."""

    rule = GRANTS_USER
    limit_name = "grants_per_user"


class IntrospectThrottle(_PerUserThrottle):
    """``POST /api/auth/introspect/``, per service credential: ``RATE_LIMITS["introspections_per_user"]``.
    Checked after the permission, so a caller without it gets its 403 uncounted."""

    rule = INTROSPECTIONS_USER
    limit_name = "introspections_per_user"


class TokenExchangeThrottle(_PerUserThrottle):
    """``POST /api/auth/token/`` (a session or credential exchanged for a service's token):
    ``RATE_LIMITS["tokens_per_user"]``."""

    rule = TOKENS_USER
    limit_name = "tokens_per_user"
