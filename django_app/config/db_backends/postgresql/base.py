"""Django's PostgreSQL backend, waiting for the server instead of failing at once when opening a
connection fails: a restart or fail-over (RDS Multi-AZ takes 30-60 s, a plain restart ~1-5 s)
then delays requests and worker batches instead of answering 500 or failing every record.

Only opening a connection is retried (connecting and the session set-up Django runs on it, which
a server shutting down can also cut: "terminating connection due to administrator command"):
no statement of the request has run yet, so nothing can run twice. A connection lost in the middle
of a request's queries fails the view; ``django_app.config.db_retry`` then runs the view again when
this wrapper's count of writes that cannot be repeated (``unrepeatable_writes``) shows that none
was sent.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import Error as DatabaseError
from django.db.backends.postgresql import base

from contracts import backoff

logger = logging.getLogger(__name__)
Database: Any = base.Database  # type: ignore[attr-defined]  # psycopg (or psycopg2), as Django loaded it


# Statements that change nothing; anything else sent outside a transaction commits on its own.
_READ_STATEMENT = re.compile(r"\s*(SELECT|SHOW)\b", re.IGNORECASE)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Counted when sent, not when done: a COMMIT or autocommit write cut by a lost connection
        # may have taken effect, so it counts too.
        self.unrepeatable_writes = 0
        self.repeatable_depth = 0  # > 0 inside ``db_retry.repeatable_writes()``
        # Statements that failed because the connection went (seen when they fail: by the time
        # the error reaches a caller, Django may have opened a new one).
        self.connections_lost = 0
        # When a statement last came back from the server on this connection (see
        # close_if_health_check_failed).
        self.last_answer_at = -math.inf
        self.execute_wrappers.append(self._watch_statement)

    def _watch_statement(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if (
            not self.in_atomic_block
            and self.autocommit
            and not self.repeatable_depth
            and not _READ_STATEMENT.match(sql)
        ):
            self.unrepeatable_writes += 1
        try:
            result = execute(sql, params, many, context)
        except DatabaseError:
            if self.connection is None or self.connection.closed:
                self.connections_lost += 1
            raise
        self.last_answer_at = time.monotonic()
        return result

    def close_if_health_check_failed(self) -> None:
        """Django pings a persistent connection (``SELECT 1``) before its first query after each
        ``close_old_connections``: once per request, and once per record in the worker. A connection
        that answered a statement less than ``DATABASE_HEALTH_CHECK_TRUST_SECONDS`` ago is not pinged
        (PgBouncer's ``server_check_delay`` makes the same trade): the ping was a round trip per
        worker job. If the server went away in between, the next statement fails as the ping would
        have, and the callers already handle that (the worker retries its end write on a new
        connection; ``db_retry`` repeats a view that sent nothing unrepeatable)."""
        trusted = float(getattr(settings, "DATABASE_HEALTH_CHECK_TRUST_SECONDS", 0))
        if (
            self.health_check_enabled  # type: ignore[attr-defined]  # not in django-stubs
            and not self.health_check_done  # type: ignore[has-type]
            and self.connection is not None
            and time.monotonic() - self.last_answer_at < trusted
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def server_bound_cursor(self) -> Any:
        """A cursor that sends its parameters apart from the statement (psycopg's server-side
        binding; unnamed statements, so nothing stays prepared on a pooled server connection)
        instead of quoting each into the SQL text, which costs less CPU for a statement of a dozen
        parameters. Through Django's cursor wrapper, so every execute wrapper still sees it."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)  # type: ignore[attr-defined]  # psycopg 3 only
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]  # Django's, not in the stubs

    def is_usable(self) -> bool:
        usable = bool(super().is_usable())
        if usable:
            self.last_answer_at = time.monotonic()
        return usable

    def commit(self) -> None:
        self.unrepeatable_writes += 1
        super().commit()

    def connect(self) -> None:
        deadline = time.monotonic() + float(getattr(settings, "DATABASE_CONNECT_RETRY_SECONDS", 0))
        for attempt in range(1, 1000):  # bounded by the deadline long before this
            delay = backoff.exponential(base=0.05, exponent=attempt - 1, cap=1.0)
            try:
                super().connect()
                self.last_answer_at = time.monotonic()  # it answered the set-up just now
                return
            except Database.OperationalError as error:
                self._forget_broken_connection()
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("database connection failed (attempt %d), retrying: %s", attempt, error)
                time.sleep(delay)

    def _forget_broken_connection(self) -> None:
        """A connection opened but cut during set-up is closed, so the next try starts clean."""
        broken, self.connection = self.connection, None
        if broken is not None:
            with contextlib.suppress(Database.Error):
                broken.close()
