"""Rate limits counted in the database, so that every Lambda container sees the same counts.

Fixed windows of ``RATE_LIMITS["window_seconds"]``: each (rule, subject, window) has its own row,
and a check is one statement, ``INSERT … ON CONFLICT (key) DO UPDATE SET hits = hits + 1
RETURNING hits``. PostgreSQL resolves the conflict under the row's lock and SQLite has one writer
at a time, so concurrent checks each get their own count and none is lost. A fixed window lets a
client reach twice the limit across a window boundary; the limits are set with that in mind, and a
sliding window would cost a second row per check. Rows of past windows are never read again; the
purge sweep deletes them (``rate_limit_counters_purge``).

Subjects (addresses, usernames) are stored as SHA-256 digests: bounded keys, and no user input
kept in the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from django_app.accounts.models import RateLimitCounter
from django_app.config.db_retry import repeatable_writes

# A purge run deletes at most this many expired rows: a few seconds of work at worst, and more rows
# than a minute of traffic creates (two per active user and address), so the every-minute sweep
# keeps up. JOBS_SWEEP_BATCH_LIMIT (500) would be too few for counters.
COUNTERS_PURGED_PER_RUN = 50_000


def now() -> float:
    """The clock of the windows; the tests' time seam."""
    return time.time()


def _window() -> tuple[int, int]:
    seconds = int(settings.RATE_LIMITS["window_seconds"])
    start = int(now()) // seconds * seconds
    return start, start + seconds


def _key(rule: str, subject: str, window_start: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"{rule}:{digest}:{window_start}"


def _increment(*, key: str, expires_at: dt.datetime) -> int:
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    key_column, hits, expires = (connection.ops.quote_name(name) for name in ("key", "hits", "expires_at"))
    sql = (
        f"INSERT INTO {table} ({key_column}, {hits}, {expires}) VALUES (%s, 1, %s) "  # noqa: S608 - names, not input
        f"ON CONFLICT ({key_column}) DO UPDATE SET {hits} = {table}.{hits} + 1 RETURNING {hits}"
    )
    # One more hit if the request is repeated after a lost connection: harmless.
    with repeatable_writes(), connection.cursor() as cursor:
        cursor.execute(sql, [key, connection.ops.adapt_datetimefield_value(expires_at)])
        row = cursor.fetchone()
    return int(row[0])


def rate_limit_hit(*, rule: str, subject: str, limit: int) -> int | None:
    """Counts one request of ``subject`` under ``rule``: None while within ``limit`` per window,
    else the seconds until the window ends (for ``Retry-After``). A limit of 0 counts nothing."""
    if limit <= 0:
        return None
    start, end = _window()
    hits = _increment(key=_key(rule, subject, start), expires_at=dt.datetime.fromtimestamp(end, tz=dt.UTC))
    if hits <= limit:
        return None
    return max(1, math.ceil(end - now()))


def rate_limit_forget(*, rule: str, subject: str) -> None:
    """Clears the subject's count in the current window (a successful login clears its failures)."""
    start, _ = _window()
    RateLimitCounter.objects.filter(key=_key(rule, subject, start)).delete()


def rate_limit_counters_purge(*, limit: int = COUNTERS_PURGED_PER_RUN) -> int:
    """Deletes up to ``limit`` rows of windows that have ended; returns how many."""
    keys = list(RateLimitCounter.objects.filter(expires_at__lt=timezone.now()).values_list("key", flat=True)[:limit])
    if not keys:
        return 0
    deleted, _ = RateLimitCounter.objects.filter(key__in=keys).delete()
    return deleted


def client_ip(request: HttpRequest) -> str:
    """The address API Gateway saw the request come from, else ``REMOTE_ADDR`` (tests, runserver).

    On Lambda, Zappa builds ``REMOTE_ADDR`` from ``X-Forwarded-For``: the second-to-last entry when
    there are several, else the whole header. A client writes the left part of that header, and
    which entry API Gateway added depends on the endpoint type (edge-optimized adds the viewer and
    CloudFront, regional only the viewer), so a client could choose its own address. Zappa also
    keeps the raw event in the environ (``lambda.event``), whose ``sourceIp`` API Gateway takes
    from the connection (the CloudFront viewer on edge-optimized endpoints): that is what counts.
    """
    event = request.META.get("lambda.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        # REST API (payload 1.0): identity.sourceIp; HTTP API (payload 2.0): http.sourceIp.
        source = (context.get("identity") or {}).get("sourceIp") or (context.get("http") or {}).get("sourceIp")
        if isinstance(source, str) and source:
            return source
    return str(request.META.get("REMOTE_ADDR") or "unknown")


# An IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): counted per address it could
# take a fresh one for every request. RFC 6177 and providers hand out at least a /64 per site.
IPV6_PREFIX = 64


def address_subject(ip: str) -> str:
    """What an address is counted as: an IPv4 address itself, an IPv6 address by its /64 (an
    IPv4-mapped one as its IPv4 address); anything unparsable as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def client_subject(request: HttpRequest) -> str:
    """The client's address as rate limits count it (``address_subject`` of ``client_ip``)."""
    return address_subject(client_ip(request))
