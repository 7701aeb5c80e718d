"""Runs a view again when its database connection was lost before it wrote anything for good.

A PostgreSQL restart or fail-over ends every open connection ("terminating connection due to
administrator command"); a request in the middle of its queries then fails, and without this it
would answer 500 for what is a few seconds' outage. The view runs again (its first query
reconnects, waiting for the server: ``db_backends.postgresql``) only when repeating it cannot do
anything twice: no COMMIT was sent and no statement was sent in autocommit mode, except writes
marked with ``repeatable_writes()`` (bookkeeping such as rate-limit hits, where one more count is
harmless). A transaction cut before its COMMIT was rolled back by the server, so it left nothing.

Only our PostgreSQL backend counts writes (``unrepeatable_writes``); on any other database a lost
connection fails the request as before. Inside a transaction opened around the view (a test's, or
``ATOMIC_REQUESTS``) nothing is repeated: the outer transaction is gone.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException

logger = logging.getLogger(__name__)

# Runs of a view after the first. Each one's reconnect already waits up to
# DATABASE_CONNECT_RETRY_SECONDS, so two cover a restart that cuts the retried run as well.
VIEW_REPEATS = 2


@contextlib.contextmanager
def repeatable_writes() -> Iterator[None]:
    """Writes inside may happen twice if the request is repeated; say so only where that is harmless."""
    if not hasattr(connection, "repeatable_depth"):
        yield
        return
    connection.repeatable_depth += 1
    try:
        yield
    finally:
        connection.repeatable_depth -= 1


class DatabaseRetryMiddleware:
    """Last in ``MIDDLEWARE``: its ``process_view`` calls the view itself, so the other middleware's
    ``process_view`` (CSRF) has run once before, and their responses wrap the final answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if (
            not hasattr(connection, "unrepeatable_writes")
            or connection.settings_dict.get("ATOMIC_REQUESTS")  # Django wraps the view itself then
            or iscoroutinefunction(view)
        ):
            return None  # Django calls the view as usual
        # Read once into memory (DATA_UPLOAD_MAX_MEMORY_SIZE bounds it) so a repeat parses it again.
        try:
            request.body  # noqa: B018
        except RawPostDataException:
            pass  # a multipart body already parsed from the stream: request.POST/FILES keep it
        except RequestDataTooBig:
            return None  # not kept: the view answers 413 itself, as without this middleware
        watched: Any = connection  # the counters of db_backends.postgresql
        for repeat in range(VIEW_REPEATS + 1):
            writes_before, losses_before = watched.unrepeatable_writes, watched.connections_lost
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                if (
                    repeat == VIEW_REPEATS
                    or watched.in_atomic_block
                    or watched.unrepeatable_writes != writes_before
                    or watched.connections_lost == losses_before
                ):
                    raise
                logger.warning(
                    "database connection lost during %s %s before any write; running the view again: %s",
                    request.method,
                    request.path,
                    error,
                )
                watched.close()
        raise AssertionError("unreachable: the last run returns or raises")
