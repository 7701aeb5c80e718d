"""The rotation as steps over the three key slots, each checked against the clock.

A step never loses a key a verifier may still need: ``activate`` waits until the next key has been
published longer than any verifier caches the JWKS, ``retire`` until every token the previous key
signed has expired. ``force`` skips the wait (a leaked key is retired at once, accepting that
tokens it signed stop verifying).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from contracts.access_tokens import ACCESS_TOKEN_MAX_TTL_SECONDS
from contracts.tickets import TICKET_CLOCK_SKEW_SECONDS
from polyglot_auth.jwk import private_key_generate_pem

# Verifiers cache the JWKS this long (Django's Cache-Control; the websocket function reads it again
# for an unknown kid), plus a margin for clocks and slow rollouts.
PUBLISH_AHEAD = dt.timedelta(seconds=300 + 300)
# The longest a token lives, plus skew: after that no token signed by the previous key is valid.
RETIRE_AFTER = dt.timedelta(seconds=ACCESS_TOKEN_MAX_TTL_SECONDS + TICKET_CLOCK_SKEW_SECONDS + 60)


class RotationRefused(Exception):
    """The step would break verifiers now; the message says what to do or when."""


@dataclass(frozen=True)
class Slot:
    pem: str = ""
    written_at: dt.datetime | None = None  # when SSM last changed it


@dataclass(frozen=True)
class Slots:
    current: Slot
    next: Slot
    previous: Slot

    def pems(self) -> list[str]:
        """In the order Django publishes them: current, next, previous."""
        return [slot.pem for slot in (self.current, self.next, self.previous) if slot.pem]


def create(slots: Slots) -> Slots:
    if slots.current.pem:
        raise RotationRefused("a signing key exists already: rotate it with publish-next, activate, retire")
    return replace(slots, current=Slot(private_key_generate_pem()))


def publish_next(slots: Slots) -> Slots:
    if not slots.current.pem:
        raise RotationRefused("no signing key yet: run create first")
    if slots.next.pem:
        raise RotationRefused("a next key is published already: activate it (or wait)")
    if slots.previous.pem:
        raise RotationRefused("the previous key is still published: retire it first")
    return replace(slots, next=Slot(private_key_generate_pem()))


def activate(slots: Slots, *, now: dt.datetime, force: bool = False) -> Slots:
    if not slots.next.pem:
        raise RotationRefused("no next key: run publish-next first")
    published = slots.next.written_at
    if not force and published is not None and now - published < PUBLISH_AHEAD:
        ready = published + PUBLISH_AHEAD
        raise RotationRefused(f"activate after {ready:%H:%M:%S} UTC, once every verifier's JWKS cache has the next key")
    return Slots(current=slots.next, next=Slot(), previous=slots.current)


def retire(slots: Slots, *, now: dt.datetime, force: bool = False) -> Slots:
    if not slots.previous.pem:
        raise RotationRefused("no previous key to retire")
    moved = slots.previous.written_at
    if not force and moved is not None and now - moved < RETIRE_AFTER:
        raise RotationRefused(f"tokens of the previous key may be valid until {moved + RETIRE_AFTER:%H:%M:%S} UTC")
    return replace(slots, previous=Slot())
