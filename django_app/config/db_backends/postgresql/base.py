"""Django's PostgreSQL backend, waiting for the server instead of failing at once when a new
connection is refused: a restart or fail-over (RDS Multi-AZ takes 30-60 s, a plain restart ~1 s)
then delays requests and worker batches instead of answering 500 or failing every record.

Only opening a connection is retried: nothing has been sent yet, so nothing can run twice. A
connection lost in the middle of a query still fails that request or batch (Django reconnects
on the next one: CONN_HEALTH_CHECKS is on).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)
Database: Any = base.Database  # type: ignore[attr-defined]  # psycopg (or psycopg2), as Django loaded it


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        deadline = time.monotonic() + float(getattr(settings, "DATABASE_CONNECT_RETRY_SECONDS", 0))
        delay = 0.05
        for attempt in range(1, 1000):  # bounded by the deadline long before this
            try:
                return super().get_new_connection(conn_params)
            except Database.OperationalError as error:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("database refused connection (attempt %d), retrying: %s", attempt, error)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise RuntimeError("unreachable")
