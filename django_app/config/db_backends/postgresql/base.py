"""Django's PostgreSQL backend, waiting for the server instead of failing at once when opening a
connection fails: a restart or fail-over (RDS Multi-AZ takes 30-60 s, a plain restart ~1-5 s)
then delays requests and worker batches instead of answering 500 or failing every record.

Only opening a connection is retried (connecting and the session set-up Django runs on it, which
a server shutting down can also cut: "terminating connection due to administrator command"):
no statement of the request has run yet, so nothing can run twice. A connection lost in the middle
of a request's queries still fails that request (Django reconnects on the next one).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)
Database: Any = base.Database  # type: ignore[attr-defined]  # psycopg (or psycopg2), as Django loaded it


class DatabaseWrapper(base.DatabaseWrapper):
    def connect(self) -> None:
        deadline = time.monotonic() + float(getattr(settings, "DATABASE_CONNECT_RETRY_SECONDS", 0))
        delay = 0.05
        for attempt in range(1, 1000):  # bounded by the deadline long before this
            try:
                super().connect()
                return
            except Database.OperationalError as error:
                self._forget_broken_connection()
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("database connection failed (attempt %d), retrying: %s", attempt, error)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _forget_broken_connection(self) -> None:
        """A connection opened but cut during set-up is closed, so the next try starts clean."""
        broken, self.connection = self.connection, None
        if broken is not None:
            with contextlib.suppress(Database.Error):
                broken.close()
