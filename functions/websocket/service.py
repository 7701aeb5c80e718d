"""What the WebSocket routes do, as functions of a ``WsRequest`` and the container's clients.

The FastAPI routes in ``app`` are only glue around these.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts import backoff
from contracts.tickets import GRANT_AUDIENCE, TICKET_AUDIENCE
from contracts.ws_protocol import (
    MAX_CLIENT_FRAME_BYTES,
    ClientMessage,
    ErrorCode,
    ErrorReply,
    PingRequest,
    PongReply,
    SubscribedReply,
    SubscribeRequest,
    UnsubscribedReply,
    UnsubscribeRequest,
)
from functions.websocket.connections import (
    Connection,
    ConnectionStore,
    ConnectionUnknown,
    StoreUnavailable,
    TicketReplayed,
    UserBlocked,
)
from functions.websocket.management import ConnectionGone, ManagementApi, ManagementApiError
from functions.websocket.tickets import TicketRejected, Trust, topics_fit_user
from functions.websocket.ws_events import WsRequest

logger = logging.getLogger(__name__)

_CLIENT_MESSAGE: TypeAdapter[SubscribeRequest | UnsubscribeRequest | PingRequest] = TypeAdapter(ClientMessage)
_ACTIONS = frozenset({"subscribe", "unsubscribe", "ping"})
# A reply posted while the management API throttles (429) is retried with backoff, ~1.5 s at
# most; one still lost is recovered by the client, which re-subscribes when no ``subscribed``
# arrives (subscribing is idempotent).
_REPLY_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ConnectOutcome:
    status: int
    code: str | None = None  # a ConnectErrorCode when refused
    message: str = ""


# -- $connect ---------------------------------------------------------------------------------


def connect(*, request: WsRequest, store: ConnectionStore, trust: Trust) -> ConnectOutcome:
    """Verify the ticket, use it up and record the connection; or refuse having written nothing.

    Never posts to the connection: it does not exist until $connect returns (a post gives 410).
    """
    try:
        claims = trust.verify(request.query.get("ticket"), audience=TICKET_AUDIENCE)
    except TicketRejected as rejected:
        return _refuse(request, 401, rejected.code, rejected.message)
    if not topics_fit_user(claims):
        return _refuse(request, 403, "ticket_topics_invalid", "a topic of another user")
    connected_at = (request.connected_at_ms or int(time.time() * 1000)) // 1000
    try:
        store.connection_open(connection_id=request.connection_id, claims=claims, connected_at=connected_at)
    except TicketReplayed:
        return _refuse(request, 403, "ticket_replayed", "ticket already used")
    except UserBlocked:
        return _refuse(request, 403, "user_inactive", "this user was deactivated")
    except StoreUnavailable as error:
        logger.error("connect %s: store unavailable: %s", request.connection_id, error)
        return _refuse(request, 503, "unavailable", "try again with a new ticket")
    logger.info("connect %s user=%s topics=%d", request.connection_id, claims.sub, len(claims.topics))
    return ConnectOutcome(200)


def _refuse(request: WsRequest, status: int, code: str, message: str) -> ConnectOutcome:
    logger.info("connect %s refused %d %s", request.connection_id, status, code)
    return ConnectOutcome(status, code, message)


# -- messages ---------------------------------------------------------------------------------


def _error(code: ErrorCode, message: str) -> ErrorReply:
    return ErrorReply(code=code, message=message)


def parse_frame(body: bytes, *, is_binary: bool) -> SubscribeRequest | UnsubscribeRequest | PingRequest | ErrorReply:
    """A client frame as a protocol message, or the error to answer it with. Never raises."""
    if len(body) > MAX_CLIENT_FRAME_BYTES:
        return _error("frame_too_large", f"frames are limited to {MAX_CLIENT_FRAME_BYTES} bytes")
    if is_binary:
        return _error("invalid_json", "send text frames holding a JSON object")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting raises RecursionError
        return _error("invalid_json", "the frame is not JSON")
    if not isinstance(data, dict):
        return _error("invalid_json", "the frame is not a JSON object")
    action = data.get("action")
    if not isinstance(action, str) or not action:
        return _error("invalid_message", "the frame has no action")
    if action not in _ACTIONS:
        return _error("unknown_action", f"actions are {', '.join(sorted(_ACTIONS))}")
    try:
        return _CLIENT_MESSAGE.validate_python(data)
    except ValidationError as error:
        # Field names only: never echo the client's input back. (Lone surrogates, which JSON may
        # escape as "\ud800" and no UTF-8 reply could echo, fail here too: pydantic's string_unicode.)
        fields = sorted({".".join(str(part) for part in item["loc"][1:]) or action for item in error.errors()})
        return _error("invalid_message", f"invalid {action}: check {', '.join(fields)}")


def message(*, request: WsRequest, store: ConnectionStore, trust: Trust) -> BaseModel:
    """The reply to one client frame."""
    parsed = parse_frame(request.body, is_binary=request.is_binary)
    if isinstance(parsed, ErrorReply):
        return parsed
    if isinstance(parsed, PingRequest):
        return PongReply(id=parsed.id)
    try:
        if isinstance(parsed, UnsubscribeRequest):
            store.subscription_remove(connection_id=request.connection_id, topic=parsed.topic)
            return UnsubscribedReply(topic=parsed.topic)
        connection = store.connection_get(connection_id=request.connection_id)
        refusal = _subscribe_refusal(parsed, connection=connection, trust=trust)
        if refusal is not None:
            return refusal
        store.subscription_add(connection=connection, topic=parsed.topic)
        return SubscribedReply(topic=parsed.topic)
    except ConnectionUnknown:
        return _error("not_connected", "this connection has expired: reconnect with a new ticket")
    except StoreUnavailable as error:
        logger.warning("message on %s: store unavailable: %s", request.connection_id, error)
        return _error("unavailable", "try again")


def _subscribe_refusal(request: SubscribeRequest, *, connection: Connection, trust: Trust) -> ErrorReply | None:
    if request.topic in connection.topics:
        return None
    if request.grant is None:
        return _error("topic_not_granted", "ask Django for a grant (POST /api/ws/grants/) and send it along")
    try:
        grant = trust.verify(request.grant, audience=GRANT_AUDIENCE)
    except TicketRejected as rejected:
        return _error("grant_invalid", rejected.message)
    if grant.sub != connection.user:
        return _error("grant_invalid", "the grant is for another user")
    if request.topic not in grant.topics:
        return _error("topic_not_granted", "the grant does not cover this topic")
    return None


def reply(*, request: WsRequest, answer: BaseModel, management: ManagementApi, store: ConnectionStore) -> bool:
    """Sends ``answer`` to the connection; True when delivered. A gone connection is forgotten."""
    data = answer.model_dump_json().encode()
    for attempt in range(1, _REPLY_ATTEMPTS + 1):
        try:
            management.post_to_connection(connection_id=request.connection_id, data=data)
            return True
        except ConnectionGone:
            connection_forget(request=request, store=store)
            return False
        except ManagementApiError as error:
            if not error.retryable or attempt == _REPLY_ATTEMPTS:
                logger.warning("reply to %s failed: %s", request.connection_id, error)
                return False
            time.sleep(backoff.full_jitter(base=0.05, exponent=attempt, cap=1.0))
    return False


# -- $disconnect ------------------------------------------------------------------------------


def connection_forget(*, request: WsRequest, store: ConnectionStore) -> None:
    """Best effort, like $disconnect itself: whatever stays behind expires by TTL."""
    try:
        removed = store.connection_close(connection_id=request.connection_id)
    except StoreUnavailable as error:
        logger.warning("forget %s: store unavailable, left to TTL: %s", request.connection_id, error)
        return
    logger.info("disconnect %s status=%s removed=%d", request.connection_id, request.disconnect_status_code, removed)
