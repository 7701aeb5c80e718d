"""The PostgreSQL backend waits for a restarting server instead of failing the request at once."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection

from tests.db_pings import pings_counted
from tests.functional.django_api.postgres_cut import own_backend_terminate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


class _LateProxy:
    """Refuses connections (nothing listens) until ``opens_after`` seconds, then forwards bytes
    to the real server: what a client sees while PostgreSQL restarts."""

    def __init__(self, target: tuple[str, int], opens_after: float, *, cut_first: int = 0) -> None:
        self.cut_first = cut_first  # accepted, then closed at once: a server shutting down
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.target = target
        self.timer = threading.Timer(opens_after, self._open)
        self.listener: socket.socket | None = None
        self.timer.start()

    def _open(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.listener is not None
        for _ in range(20):  # bounded: a test opens a connection or two
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_first > 0:
                self.cut_first -= 1
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        for _ in range(1_000_000):  # bounded
            try:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        for end in (source, sink):
            end.close()

    def close(self) -> None:
        self.timer.cancel()
        if self.listener is not None:
            self.listener.close()


def _through(proxy: _LateProxy) -> Any:
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", proxy.port
    return saved


def test_a_refused_connection_is_retried_until_the_server_answers(settings: Any) -> None:
    _require_postgres()
    settings.DATABASE_CONNECT_RETRY_SECONDS = 10
    proxy = _LateProxy((connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"])), 0.6)
    saved = _through(proxy)
    try:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
        assert time.monotonic() - started >= 0.5  # it did wait for the "restart"
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        proxy.close()


def test_without_retry_time_a_refused_connection_fails_at_once(settings: Any) -> None:
    _require_postgres()
    settings.DATABASE_CONNECT_RETRY_SECONDS = 0
    proxy = _LateProxy(("127.0.0.1", 1), 60)
    saved = _through(proxy)
    try:
        with pytest.raises(OperationalError):
            connection.ensure_connection()
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        proxy.close()


def test_a_connection_cut_while_it_is_set_up_is_opened_again(settings: Any) -> None:
    _require_postgres()
    settings.DATABASE_CONNECT_RETRY_SECONDS = 10
    target = (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"]))
    proxy = _LateProxy(target, 0, cut_first=2)
    time.sleep(0.1)  # listening
    saved = _through(proxy)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
        assert proxy.cut_first == 0
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        proxy.close()


def _dropped_by_the_server(*, health_checks: bool) -> Any:
    """A kept connection (CONN_MAX_AGE) whose backend the server ended, then Django's start of a
    request (``close_old_connections``); returns the saved settings to restore."""
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_HEALTH_CHECKS"] = health_checks
    connection.ensure_connection()
    # Idle for longer than the health checks trust an answer (as between two requests a while apart).
    connection.last_answer_at -= settings.DATABASE_HEALTH_CHECK_TRUST_SECONDS + 1  # type: ignore[attr-defined]
    own_backend_terminate()
    close_old_connections()
    return saved


def test_a_kept_connection_the_server_dropped_is_replaced_at_the_next_request() -> None:
    """What the Lambda settings turn on (CONN_HEALTH_CHECKS): the request after a restart works."""
    _require_postgres()
    saved = _dropped_by_the_server(health_checks=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_without_health_checks_the_first_query_on_a_dropped_connection_fails() -> None:
    """Why the Lambda settings need them: the request's first query meets the dead socket."""
    _require_postgres()
    saved = _dropped_by_the_server(health_checks=False)
    try:
        with pytest.raises(OperationalError), connection.cursor() as cursor:
            cursor.execute("select 1")
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def _pings_at_next_query() -> int:
    """Django's start of a request (``close_old_connections``), then a query: how many health
    check pings (``is_usable``) that cost."""
    with pings_counted() as pings:
        close_old_connections()
        with connection.cursor() as cursor:
            cursor.execute("select 1")
    return pings[0]


def _kept_connection() -> Any:
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    return saved


def test_a_connection_that_just_answered_is_not_pinged_again(settings: Any) -> None:
    _require_postgres()
    settings.DATABASE_HEALTH_CHECK_TRUST_SECONDS = 1.0
    saved = _kept_connection()
    try:
        assert _pings_at_next_query() == 0  # a new connection: nothing to check
        assert _pings_at_next_query() == 0  # it answered a moment ago
        connection.last_answer_at -= 1.5  # type: ignore[attr-defined]  # idle past the trust
        assert _pings_at_next_query() == 1
        settings.DATABASE_HEALTH_CHECK_TRUST_SECONDS = 0
        assert _pings_at_next_query() == 1  # no trust: Django's ping before every request
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_within_the_trust_a_dropped_connection_fails_at_its_next_query(settings: Any) -> None:
    """The trade the trust makes: the query meets the dead socket instead of a ping (callers
    handle it: db_retry repeats the view, the worker writes its end on a new connection)."""
    _require_postgres()
    settings.DATABASE_HEALTH_CHECK_TRUST_SECONDS = 60.0
    saved = _kept_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
        own_backend_terminate()
        close_old_connections()
        with pytest.raises(OperationalError), connection.cursor() as cursor:
            cursor.execute("select 1")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
