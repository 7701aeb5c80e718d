"""API tokens: a user's, for programs acting as that user, or a service's own credential."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored: the plain token is shown once, at creation.

    Tokens are 256 random bits, so a fast hash is enough (no dictionary to attack).

    A token with a ``service`` is that service's own credential (``create_service_credential``):
    it may do only what its ``permissions`` list names (``accounts/service_credentials.py``), never
    act as a user. Any other token acts as its user.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False, help_text="Shown to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    service = models.CharField(
        max_length=64, blank=True, default="", help_text="The service (AUTH_SERVICES) this credential belongs to."
    )
    permissions = models.JSONField(
        default=list, blank=True, help_text="What a service credential may do, e.g. introspect, jobs:read."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RateLimitCounter(models.Model):
    """Requests counted for one rate-limit key in one fixed window (``accounts/ratelimits.py``).

    Kept in the database, not in memory, because every Lambda container must see the same counts.
    """

    # "<rule>:<sha256 of the subject, 32 hex>:<window start, epoch seconds>": one row per window,
    # so a new window starts from a fresh row and never has to reset an old one.
    key = models.CharField(max_length=100, primary_key=True)
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True, help_text="The window's end; purged after.")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
