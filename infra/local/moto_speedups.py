"""Hot spots of moto's server that cost the local stack most of its CPU, removed without
changing what moto answers (profiled with py-spy under 100 jobs in flight: moto spent most of
the stack's CPU, most of that in the first two), and three races, one of which lost messages.

1. Routing. Every request goes through ``DomainDispatcherApplication.get_application``, which, under
   one lock, lists moto's service folders on disk and matches the host against every backend's URL
   patterns before it falls back to the SigV4 credential scope. Our clients always sign, and the
   scope (service, region) plus the host and ``X-Amz-Target`` decide the backend, so the answer is
   remembered per such key. Unsigned requests take moto's own path.

2. SQS queue attributes. ``SendMessage`` (also each SNS → SQS delivery) and each message
   ``ReceiveMessage`` returns build *all* of the queue's attributes, three of which
   (``ApproximateNumberOf…``) scan every message in the queue, to read one static attribute
   (``ContentBasedDeduplication``, ``MessageRetentionPeriod``): quadratic in the backlog. Inside
   those two calls the counts are never read, so they are skipped there; everywhere else
   (``GetQueueAttributes``) they are computed as before. Each received message's retention check
   also built all of them to read ``MessageRetentionPeriod``; it reads that one attribute now.

3. DynamoDB requests one at a time. moto's ``TransactWriteItems`` deep-copies the tables while
   another request thread may insert into them ("dictionary changed size during iteration",
   answered as an HTML 500); under the soak's 20 concurrent WebSocket connects that happened
   every run. The GIL serialises the work anyway, so one lock costs nothing measurable.

4. ``TransactWriteItems`` backs up every table it touches, whole, with ``copy.deepcopy``, to roll
   back a cancelled transaction: with the soak's hundreds of connections each ``$connect`` took
   long enough to time out. The backup is made of the items the transaction names instead,
   and a cancelled transaction puts exactly those back.

5. Receives of one queue racing each other inside moto: two moving the same message to its DLQ
   (the loser's ``list.remove`` raises ``ValueError``), or one copying the queue's pending groups
   while another changes them (``RuntimeError: Set changed size during iteration``); either answered
   500 under the soak's concurrent pollers. The receive is tried again; a message the failed try had
   already marked received comes back after its visibility timeout, as after any lost receive.

6. ``Query`` on a table's own key gathers and sorts *every* item of the table, then keeps one
   partition's: the push function's subscriber queries spent most of their time in the soak on it.
   It now sees only the partition it asked for; index queries are left as they are.

7. A lost-message race, not a hot spot: ``DeleteMessage`` rebuilt a queue's message list and stored
   it back without the lock ``SendMessage`` takes, so a message sent meanwhile (an SNS delivery to the
   push queue while a poller deleted a batch) could vanish. Deletes and receives now hold that lock.

8. Start-up, not requests: moto lists each backend's regions with a new boto3 session, and EC2's
   models (SSM's import them) three more times; every session parses botocore's endpoint data
   and the service's model again, a large part of the emulator's start.
   ``share_botocore_data`` parses each file once per process: they do not change while it runs.

9. SNS ``PublishBatch``, the call behind every job event: moto's CPU for each went almost all to
   its generic request machinery, hardly any to the SNS backend. ``moto_publish_batch`` answers our
   plain requests by calling that backend itself (see there); moto takes every other request, and
   every one it would refuse.

10. Connections. Werkzeug's server closes every connection after one answer (``Connection: close``),
   so each call of every client (the pollers, every function) opened a new TCP connection and moto
   started a new thread for it. AWS keeps connections alive; so does moto now (``_KeepAliveHandler``):
   a request's body is read whole before moto sees it, so the next request on the connection starts
   where this one ended. Requests it cannot frame that way (chunked, ``Expect: 100-continue``, a body
   over 16 MiB) are answered as before, connection closed.

11. Routing, again: for SQS, DynamoDB and the other RPC (JSON, query) services, moto matches every
   request's path against the service's path templates to pick resource ids out of it, building a
   werkzeug ``NotFound`` exception each time the path is ``/`` (every SDK call to SQS). The answer
   depends on the router, host, path and method only, so it is remembered per such key
   (``_remembered_path_params``), a bounded number of them.

12. Flask. Each request went through a Flask app (request context, URL map, CORS, response
   finalisation) to reach the one view moto registers for a JSON-protocol service's ``/``: its
   response class's ``dispatch``. For SQS and DynamoDB requests signed, POSTed to ``/`` with an
   ``X-Amz-Target``, ``_direct_answer`` calls that same view callback with the request moto's Flask
   app would have built and turns its answer into the same response, CORS header included (a test
   compares both answers, header for header). Anything else goes through Flask as before.

13. ``BaseResponse.call_action`` lists its class's methods with ``inspect.getmembers`` on every
   request to check that the action is one of them; the list is made once per class
   (``_methods_once``): moto's response classes do not gain methods while it serves.

14. Request headers. ``http.server`` hands each request's header block to the ``email`` package's
   feed parser (``http.client.parse_headers``), a good part of a small request's cost. Plain blocks,
   one ``Name: value`` per line, are read into the same ``HTTPMessage`` directly
   (``_parse_plain_headers``); anything else (folded lines, a line without a name) goes to the
   email parser as before. Installed in moto's process only.
"""

from __future__ import annotations

import io
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from infra.local import moto_publish_batch

_skip_counts = threading.local()


@contextmanager
def _counts_unused() -> Iterator[None]:
    previous = getattr(_skip_counts, "active", False)
    _skip_counts.active = True
    try:
        yield
    finally:
        _skip_counts.active = previous


def _without_counts(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _counts_unused():
            return method(*args, **kwargs)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


def _retried_on_receive_race(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, 4):
            try:
                return method(*args, **kwargs)
            except (ValueError, RuntimeError):  # moto's own races between receives (see 5. above)
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")

    return wrapper


def _count_unless_skipped(prop: property) -> property:
    def getter(queue: Any) -> int:
        return 0 if getattr(_skip_counts, "active", False) else int(prop.fget(queue))  # type: ignore[misc]

    return property(getter)


def _retention_check(backend: Any, queue_name: str, message: Any) -> bool:
    """moto's check, reading the one attribute instead of building all of them per message."""
    from moto.core.utils import unix_time

    retention = int(backend.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > unix_time())


def _routing_key(environ: dict[str, Any]) -> tuple[str, ...] | None:
    """What decides the backend of a signed request; None when moto must work it out itself."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in authorization:
        return None
    scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")  # key/date/region/service/aws4
    if len(scope) != 5:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "").split(".", 1)[0]
    path_head = environ.get("PATH_INFO", "").split("/", 2)[1:2]  # moto-api, latest, s3 buckets...
    return (environ.get("HTTP_HOST", ""), scope[2], scope[3], target, *path_head)


def share_botocore_data() -> None:
    """Called before moto is imported (8. above)."""
    from botocore import loaders

    for name in ("load_data_with_path", "load_service_model"):
        setattr(loaders.Loader, name, _parsed_once(getattr(loaders.Loader, name)))


def _parsed_once(method: Callable[..., Any]) -> Callable[..., Any]:
    parsed: dict[tuple[Any, ...], Any] = {}

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        if key not in parsed:  # two threads may both parse it once: the same data either way
            parsed[key] = method(self, *args, **kwargs)
        return parsed[key]

    return wrapper


_KEEP_ALIVE_BODY_LIMIT = 16 * 1024 * 1024


def keep_alive_handler(base: Any) -> Any:
    """moto's request handler (``base``), answering HTTP/1.1 requests on a kept-alive connection."""

    class _KeepAliveHandler(base):
        _keep_alive = False

        def setup(self) -> None:
            super().setup()
            # An answer leaves as several writes (headers, body): with Nagle's algorithm on, a kept
            # connection's second write waits for the client's delayed ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def run_wsgi(self) -> None:
            length = self.headers.get("Content-Length", "0").strip()
            self._keep_alive = (
                not self.close_connection
                and "Transfer-Encoding" not in self.headers
                and "Expect" not in self.headers
                and length.isdigit()
                and int(length) <= _KEEP_ALIVE_BODY_LIMIT
            )
            if not self._keep_alive:
                super().run_wsgi()  # werkzeug's own: answered with Connection: close
                return
            connection_file: Any = getattr(self, "rfile")  # noqa: B009 - mypy cannot type base
            # The body, read whole: werkzeug's server then drains "the rest" of an empty buffer, not
            # the connection, where the client's next request may already be waiting.
            self.rfile = io.BytesIO(connection_file.read(int(length)) if int(length) else b"")
            try:
                super().run_wsgi()
            finally:
                self.rfile = connection_file

        def send_header(self, keyword: str, value: str) -> None:
            if self._keep_alive and keyword.lower() == "connection" and value.lower() == "close":
                return  # werkzeug adds it to every answer; http.server would then close
            super().send_header(keyword, value)

    _KeepAliveHandler.__name__ = _KeepAliveHandler.__qualname__ = f"KeepAlive{base.__name__}"
    return _KeepAliveHandler


_PATH_PARAMS_KEPT = 4096


def _remembered_path_params(method: Callable[..., Any]) -> Callable[..., Any]:
    """``RPCRouter._get_path_params``, remembered per (router, host, path, method) (11. above)."""
    known: dict[tuple[Any, ...], dict[str, Any]] = {}

    def get_path_params(self: Any, request: Any) -> dict[str, Any]:
        key = (id(self), request.host, request.raw_path, request.method)
        params = known.get(key)
        if params is None:
            params = method(self, request)
            if len(known) < _PATH_PARAMS_KEPT:
                known[key] = params
        return dict(params)  # each caller its own copy, as each call made a new one

    get_path_params.__wrapped__ = method  # type: ignore[attr-defined]
    return get_path_params


_DIRECT_SERVICES = ("sqs", "dynamodb")


def _direct_callback(app: Any, environ: dict[str, Any]) -> Callable[..., Any] | None:
    """The view callback moto's Flask ``app`` routes this request to, when it takes no URL
    arguments (moto's ``dispatch`` for ``/``); None otherwise."""
    from moto.core.utils import convert_to_flask_response
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, arguments = app.url_map.bind_to_environ(environ).match()
    except HTTPException:
        return None
    view = app.view_functions.get(endpoint)
    if arguments or not isinstance(view, convert_to_flask_response):
        return None
    return view.callback


def _direct_answer(
    app: Any, callback: Callable[..., Any], environ: dict[str, Any], start_response: Any
) -> Iterable[bytes]:
    """What Flask and ``convert_to_flask_response`` do around ``callback`` (12. above)."""
    from botocore.exceptions import ClientError
    from flask import Response
    from moto.core.request import normalize_request
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    request = normalize_request(app.request_class(environ))
    try:
        recorder._record_request(request)
        result = callback(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        result = 400, {}, exc.response["Error"]["Message"]
    except HTTPException as exc:  # Flask answers these itself
        return exc(environ, start_response)
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    response = Response(response=content, status=status, headers=headers)
    response.headers["Access-Control-Allow-Origin"] = "*"  # flask-cors on every moto answer
    return response(environ, start_response)


def install_direct_dispatch(get_application: Callable[..., Any]) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call: Callable[..., Any] = DomainDispatcherApplication.__call__
    callbacks: dict[tuple[str, ...], Callable[..., Any] | None] = {}

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        key = _routing_key(environ)
        if (
            key is None
            or key[2] not in _DIRECT_SERVICES
            or not key[3]  # no X-Amz-Target: not the JSON protocol
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != "/"
            or environ.get("QUERY_STRING")
        ):
            return original_call(self, environ, start_response)
        app = get_application(self, environ)
        if key not in callbacks:
            callbacks[key] = _direct_callback(app, environ)
        callback = callbacks[key]
        if callback is None:
            return original_call(self, environ, start_response)
        return _direct_answer(app, callback, environ, start_response)

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


def _methods_once(method_names: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """``method_names_from_class``, once per class (13. above)."""
    known: dict[object, list[str]] = {}

    def method_names_from_class(clazz: object) -> list[str]:
        if clazz not in known:
            known[clazz] = method_names(clazz)
        return known[clazz]

    return method_names_from_class


_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:")


def _parse_plain_headers(original: Callable[..., Any]) -> Callable[..., Any]:
    """``http.client.parse_headers`` without the email parser for plain header blocks (14. above)."""
    import http.client

    def parse_headers(fp: Any, _class: Any = http.client.HTTPMessage) -> Any:
        lines = http.client._read_headers(fp)  # type: ignore[attr-defined]
        message = _class()
        for line in lines:
            if line in (b"\r\n", b"\n", b""):
                break  # the blank line ending the block (or the end of the stream)
            if not _HEADER_NAME.match(line):
                # Folded or odd: the email parser, on the block as read.
                return original(io.BytesIO(b"".join(lines)), _class)
            name, _, value = line.decode("iso-8859-1").partition(":")
            # The email package's compat32 policy: value without leading blanks and line ending.
            message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
        message.set_payload("")
        return message

    return parse_headers


def install_plain_headers() -> None:
    import http.client

    http.client.parse_headers = _parse_plain_headers(http.client.parse_headers)


def install_keep_alive() -> None:
    """Before ``ThreadedMotoServer.start`` makes its server (10. above)."""
    from moto.moto_server import threaded_moto_server

    handler = keep_alive_handler(threaded_moto_server.MotoRequestHandler)
    setattr(threaded_moto_server, "MotoRequestHandler", handler)  # noqa: B010 - a class moto imported


def install() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.sqs.models import Queue, SQSBackend

    original_get_application = DomainDispatcherApplication.get_application
    routes: dict[tuple[str, ...], Any] = {}

    def get_application(self: Any, environ: dict[str, Any]) -> Any:
        key = _routing_key(environ)
        if key is None:
            return original_get_application(self, environ)
        app = routes.get(key)
        if app is None:
            app = routes[key] = original_get_application(self, environ)
        return app

    DomainDispatcherApplication.get_application = get_application  # type: ignore[method-assign]
    install_direct_dispatch(get_application)
    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        setattr(Queue, name, _count_unless_skipped(getattr(Queue, name)))
    SQSBackend.send_message = _without_counts(SQSBackend.send_message)  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _retention_check  # type: ignore[method-assign,assignment]
    SQSBackend.receive_message = _without_counts(_retried_on_receive_race(SQSBackend.receive_message))  # type: ignore[method-assign]

    dynamodb_lock = threading.Lock()
    dynamodb_call_action = DynamoHandler.call_action

    def call_action_alone(self: Any) -> Any:
        with dynamodb_lock:
            return dynamodb_call_action(self)

    DynamoHandler.call_action = call_action_alone  # type: ignore[method-assign]
    _install_item_level_transaction_backup()
    _install_partition_query()
    _install_locked_queue_lists()
    moto_publish_batch.install()
    install_keep_alive()
    install_plain_headers()
    from moto.core.routing import RPCRouter

    RPCRouter._get_path_params = _remembered_path_params(RPCRouter._get_path_params)  # type: ignore[method-assign]
    from moto.core import responses

    if not callable(getattr(responses, "method_names_from_class", None)):
        raise RuntimeError("moto changed: moto.core.responses.method_names_from_class is gone (moto_speedups 13.)")
    responses.method_names_from_class = _methods_once(responses.method_names_from_class)  # type: ignore[assignment]


def _install_partition_query() -> None:
    import inspect

    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name") or hash_key is None:
            return original(self, *args, **kwargs)
        everything = self.items
        partition = everything.get(hash_key)
        # DynamoDB requests run one at a time (above), so no other request sees the narrowed view.
        self.items = {hash_key: partition} if partition is not None else {}
        try:
            return original(self, *args, **kwargs)
        finally:
            self.items = everything

    Table.query = query  # type: ignore[method-assign]


_whole_table_copy = threading.local()


def _install_item_level_transaction_backup() -> None:
    import copy

    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
        if getattr(_whole_table_copy, "skip", False):
            return table  # the transaction's own item backup (below) replaces this copy
        clone = object.__new__(type(table))
        memo[id(table)] = clone
        clone.__dict__.update(copy.deepcopy(table.__dict__, memo))
        return clone

    Table.__deepcopy__ = table_deepcopy  # type: ignore[attr-defined]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = []  # (table name, key, the item before or None), for every item named
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            if op_type == "Put":
                attrs = op.get("Item") or {}
                key = {name: attrs[name] for name in (table.hash_key_attr, table.range_key_attr) if name in attrs}
            else:
                key = op.get("Key") or {}
            try:
                before = self.get_item(op["TableName"], key)
            except (KeyError, MockValidationException):  # an invalid key: the original call answers it
                continue
            backup.append((op["TableName"], key, copy.deepcopy(before.to_json()["Attributes"]) if before else None))
        _whole_table_copy.skip = True
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(backup):
                table = self.tables[table_name]
                hash_key, range_key = self.get_keys_value(table, key)
                table.delete_item(hash_key, range_key)
                if attributes is not None:
                    table.put_item(attributes, overwrite=True)
            raise
        finally:
            _whole_table_copy.skip = False

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _install_locked_queue_lists() -> None:
    """Deletes and receives change a queue's message list under the lock its sends take.

    ``Queue.delete_message`` rebuilds the list and stores it back without that lock, so a message
    sent while it ran (or while another delete ran) could vanish when the rebuilt list was stored:
    job events reached the push queue and were never delivered, most when its backlog was long.
    A receive moving a message to the DLQ removes it from the same list. The lock is the queue's
    condition (re-entrant; a long poll's wait releases it), so sends only wait for the list work.
    """
    from moto.sqs.models import Queue, SQSBackend

    original_delete = Queue.delete_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            original_delete(self, receipt_handle)

    Queue.delete_message = delete_message  # type: ignore[method-assign]
    original_receive = SQSBackend.receive_message

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with self.get_queue(queue_name)._messages_lock:
            return original_receive(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
