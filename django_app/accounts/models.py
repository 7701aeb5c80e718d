"""API tokens for programs, and tickets Django has already redeemed through introspection."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored: the plain token is shown once, at creation.

    Tokens are 256 random bits, so a fast hash is enough (no dictionary to attack).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False, help_text="Shown to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("introspect_token", "Can introspect tokens and tickets (service credential)")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RedeemedTicket(models.Model):
    """A ticket id that introspection already answered ``active: true`` for: a ticket works once."""

    jti = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True, help_text="Rows past this can be purged.")
    redeemed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.jti


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
