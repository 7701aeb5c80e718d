"""DRF throttles backed by the shared counters of ``ratelimits`` (DRF's own keep counts in the
cache, which is per container on Lambda)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from django_app.accounts.ratelimits import client_ip, rate_limit_hit

TICKETS_USER = "tickets-user"
TICKETS_IP = "tickets-ip"


class TicketMintThrottle(BaseThrottle):
    """Tickets per user, then per address (``RATE_LIMITS["tickets_per_user"]``/``["tickets_per_ip"]``).

    DRF runs throttles after authentication and permissions, so anonymous callers get their 401
    without being counted, and a refused caller is refused before any ticket is minted: 429,
    ``Retry-After``, error code ``rate_limited`` (``config/errors.py``).
    """

    retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        limits = settings.RATE_LIMITS
        self.retry_after = rate_limit_hit(
            rule=TICKETS_USER, subject=str(request.user.pk), limit=limits["tickets_per_user"]
        )
        if self.retry_after is None:
            self.retry_after = rate_limit_hit(
                rule=TICKETS_IP, subject=client_ip(request), limit=limits["tickets_per_ip"]
            )
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
