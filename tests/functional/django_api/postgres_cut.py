"""Ends a PostgreSQL backend from another connection, as a server restart does to every one."""

from __future__ import annotations

import time

from django.db import connection


def backend_terminate(backend_pid: int) -> None:
    """``pg_terminate_backend`` (the "terminating connection due to administrator command" a
    shutdown sends), then waits until the backend is gone so the next statement on it fails."""
    admin = connection.copy()
    try:
        with admin.cursor() as cursor:
            cursor.execute("select pg_terminate_backend(%s)", [backend_pid])
            for _ in range(50):  # bounded: the backend exits within milliseconds
                cursor.execute("select count(*) from pg_stat_activity where pid = %s", [backend_pid])
                if cursor.fetchone() == (0,):
                    return
                time.sleep(0.05)
    finally:
        admin.close()


def own_backend_terminate() -> None:
    """Ends the backend of Django's default connection (which must be open)."""
    backend_terminate(connection.connection.info.backend_pid)
