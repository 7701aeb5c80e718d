"""The connection store: connections and their subscriptions in one DynamoDB table.

Single-table keys (``pk``/``sk`` strings, TTL attribute ``expires_at``):

| item | pk | sk | other attributes |
|---|---|---|---|
| connection | ``conn#<id>`` | ``meta`` | user, topics (granted by the ticket), connected_at, expires_at |
| subscription (connection → topic) | ``conn#<id>`` | ``topic#<topic>`` | user, expires_at |
| subscription (topic → connection) | ``topic#<topic>`` | ``conn#<id>`` | user, expires_at |
| used ticket | ``ticket#<jti>`` | ``ticket`` | expires_at |
| user's connection (user → connection) | ``user#<user>`` | ``conn#<id>`` | expires_at |
| deactivated user (no new connection) | ``block#user#<user>`` | ``block`` | expires_at |

One Query per topic finds its connections; one Query per connection finds everything to delete.
DynamoDB's TTL deletes expired items up to ~48 h late, so reads drop them themselves.
Callers see domain errors (``TicketReplayed``, ``ConnectionUnknown``, ``StoreUnavailable``), never
AWS error codes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contracts import backoff
from contracts.tickets import TicketClaims
from functions.websocket.aws_json import AwsError, AwsJsonClient
from functions.websocket.config import CONNECTION_MAX_SECONDS, CONNECTION_TTL_SLACK_SECONDS
from functions.websocket.http_pool import TransportError

logger = logging.getLogger(__name__)

_DDB = "DynamoDB_20120810."
_MAX_QUERY_PAGES = 100  # 1 MB a page: far more subscribers than one event can be pushed to in time
_BATCH_WRITE_MAX = 25  # DynamoDB's BatchWriteItem limit
_TICKET_SLACK_SECONDS = 60


class StoreUnavailable(Exception):
    """DynamoDB did not answer usefully (throttled, 5xx, unreachable) after retries."""


class TicketReplayed(Exception):
    """The ticket's ``jti`` was already used to connect."""


class UserBlocked(Exception):
    """The ticket's user was deactivated after it was minted."""


class ConnectionUnknown(Exception):
    """No live connection with that id: it disconnected, expired, or never existed."""


class _TransactionCanceled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class Connection:
    connection_id: str
    user: str
    topics: tuple[str, ...]
    connected_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Subscriber:
    connection_id: str
    user: str


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def connection_expiry(connected_at: int) -> int:
    return connected_at + CONNECTION_MAX_SECONDS + CONNECTION_TTL_SLACK_SECONDS


class ConnectionStore:
    def __init__(self, *, table: str, client: AwsJsonClient) -> None:
        self.table = table
        self.client = client

    def _request(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.client.call(_DDB + operation, payload)
        except AwsError as error:
            if error.code == "TransactionCanceledException":
                reasons = [str(reason.get("Code", "")) for reason in error.body.get("CancellationReasons") or []]
                raise _TransactionCanceled(reasons) from error
            # Throttling and 5xx were already retried; anything else (a missing table, a validation
            # error) is a deployment bug that the caller can only report as "unavailable".
            logger.error("DynamoDB %s failed: %s", operation, error)
            raise StoreUnavailable(str(error)) from error
        except TransportError as error:
            raise StoreUnavailable(str(error)) from error

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request(operation, {"TableName": self.table, **payload})

    def _transact(self, items: list[dict[str, Any]], *, token: str | None = None) -> None:
        for item in items:
            next(iter(item.values()))["TableName"] = self.table
        payload: dict[str, Any] = {"TransactItems": items}
        if token:
            payload["ClientRequestToken"] = token
        self._request("TransactWriteItems", payload)

    def _ticket_used_by(self, *, jti: str) -> str:
        answer = self._call("GetItem", {"Key": {"pk": _s(f"ticket#{jti}"), "sk": _s("ticket")}, "ConsistentRead": True})
        return str(answer.get("Item", {}).get("conn", {}).get("S", ""))

    # -- connections -------------------------------------------------------------------------

    def connection_open(self, *, connection_id: str, claims: TicketClaims, connected_at: int) -> Connection:
        """Uses the ticket and records the connection, atomically: both happen or neither does."""
        expires_at = connection_expiry(connected_at)
        items: list[dict[str, Any]] = [
            {
                # A ticket minted just before its user was deactivated must not open a connection
                # after the push side closed that user's others. (DynamoDB's TTL deletes late:
                # an expired block is no block.)
                "ConditionCheck": {
                    "Key": {"pk": _s(f"block#user#{claims.sub}"), "sk": _s("block")},
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                    "ExpressionAttributeValues": {":now": _n(int(time.time()))},
                }
            },
            {
                "Put": {
                    "Item": {
                        "pk": _s(f"ticket#{claims.jti}"),
                        "sk": _s("ticket"),
                        "conn": _s(connection_id),  # who used it: tells our own retry from a replay
                        "expires_at": _n(claims.exp + _TICKET_SLACK_SECONDS),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "Item": {
                        "pk": _s(f"conn#{connection_id}"),
                        "sk": _s("meta"),
                        "user": _s(claims.sub),
                        "topics": {"L": [_s(topic) for topic in claims.topics]},
                        "connected_at": _n(connected_at),
                        "expires_at": _n(expires_at),
                    }
                }
            },
            {
                "Put": {
                    "Item": {
                        "pk": _s(f"user#{claims.sub}"),
                        "sk": _s(f"conn#{connection_id}"),
                        "expires_at": _n(expires_at),
                    }
                }
            },
        ]
        try:
            # The token makes DynamoDB answer a retried transaction (after a timeout) as it answered
            # the first; emulators that ignore it are covered by the ticket's "conn" below.
            self._transact(items, token=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{claims.jti}/{connection_id}")))
        except _TransactionCanceled as cancelled:
            if cancelled.reasons[:1] == ["ConditionalCheckFailed"]:
                raise UserBlocked(claims.sub) from cancelled
            if cancelled.reasons[1:2] == ["ConditionalCheckFailed"]:
                if self._ticket_used_by(jti=claims.jti) == connection_id:  # our own first try went through
                    return Connection(connection_id, claims.sub, tuple(claims.topics), connected_at, expires_at)
                raise TicketReplayed(claims.jti) from cancelled
            raise StoreUnavailable(f"connect transaction cancelled: {cancelled.reasons}") from cancelled
        return Connection(connection_id, claims.sub, tuple(claims.topics), connected_at, expires_at)

    def connection_get(self, *, connection_id: str) -> Connection:
        answer = self._call(
            "GetItem", {"Key": {"pk": _s(f"conn#{connection_id}"), "sk": _s("meta")}, "ConsistentRead": True}
        )
        item = answer.get("Item")
        if not item or int(item["expires_at"]["N"]) <= time.time():
            raise ConnectionUnknown(connection_id)
        return Connection(
            connection_id=connection_id,
            user=item["user"]["S"],
            topics=tuple(value["S"] for value in item.get("topics", {}).get("L", [])),
            connected_at=int(item["connected_at"]["N"]),
            expires_at=int(item["expires_at"]["N"]),
        )

    def connection_close(self, *, connection_id: str) -> int:
        """Deletes the connection and its subscriptions; returns how many items went. Idempotent."""
        keys: list[tuple[str, str]] = []
        for item in self._query(pk=f"conn#{connection_id}", include_expired=True):
            sk = item["sk"]["S"]
            keys.append((f"conn#{connection_id}", sk))
            if sk.startswith("topic#"):
                keys.append((sk, f"conn#{connection_id}"))
            elif sk == "meta" and item.get("user", {}).get("S"):
                keys.append((f"user#{item['user']['S']}", f"conn#{connection_id}"))
        self._delete_many(keys)
        return len(keys)

    # -- users -------------------------------------------------------------------------------

    def user_block(self, *, user: str, until: int) -> None:
        """Refuses the user new connections until ``until`` (epoch seconds): outlives any ticket."""
        self._call(
            "PutItem",
            {"Item": {"pk": _s(f"block#user#{user}"), "sk": _s("block"), "expires_at": _n(until)}},
        )

    def user_connections(self, *, user: str) -> list[str]:
        """The ids of the user's live connections."""
        return [item["sk"]["S"].removeprefix("conn#") for item in self._query(pk=f"user#{user}")]

    # -- subscriptions -----------------------------------------------------------------------

    def subscription_add(self, *, connection: Connection, topic: str) -> None:
        attributes = {"user": _s(connection.user), "expires_at": _n(connection.expires_at)}
        conn_key = f"conn#{connection.connection_id}"
        try:
            self._transact(
                [
                    {
                        # The connection may have been closed since we read it: never leave orphans.
                        "ConditionCheck": {
                            "Key": {"pk": _s(conn_key), "sk": _s("meta")},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"Item": {"pk": _s(conn_key), "sk": _s(f"topic#{topic}"), **attributes}}},
                    {"Put": {"Item": {"pk": _s(f"topic#{topic}"), "sk": _s(conn_key), **attributes}}},
                ]
            )
        except _TransactionCanceled as cancelled:
            if cancelled.reasons[:1] == ["ConditionalCheckFailed"]:
                raise ConnectionUnknown(connection.connection_id) from cancelled
            raise StoreUnavailable(f"subscribe transaction cancelled: {cancelled.reasons}") from cancelled

    def subscription_remove(self, *, connection_id: str, topic: str) -> None:
        conn_key = f"conn#{connection_id}"
        self._delete_many([(conn_key, f"topic#{topic}"), (f"topic#{topic}", conn_key)])

    def topic_subscribers(self, *, topic: str) -> list[Subscriber]:
        """The live connections subscribed to ``topic``, with the user each belongs to."""
        return [
            Subscriber(item["sk"]["S"].removeprefix("conn#"), item.get("user", {}).get("S", ""))
            for item in self._query(pk=f"topic#{topic}")
        ]

    # -- helpers -----------------------------------------------------------------------------

    def _query(self, *, pk: str, include_expired: bool = False) -> Iterable[dict[str, Any]]:
        now = int(time.time())
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(pk)},
            # ``user`` is a DynamoDB reserved word: it needs a placeholder in expressions.
            "ProjectionExpression": "sk, expires_at, #user",
            "ExpressionAttributeNames": {"#user": "user"},
            "ConsistentRead": True,
        }
        for _ in range(_MAX_QUERY_PAGES):
            answer = self._call("Query", request)
            for item in answer.get("Items", []):
                if include_expired or int(item.get("expires_at", {}).get("N", "0")) > now:
                    yield item
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last
        logger.warning("query of %s stopped after %d pages", pk, _MAX_QUERY_PAGES)

    def _delete_many(self, keys: list[tuple[str, str]]) -> None:
        for start in range(0, len(keys), _BATCH_WRITE_MAX):
            requests = [
                {"DeleteRequest": {"Key": {"pk": _s(pk), "sk": _s(sk)}}}
                for pk, sk in keys[start : start + _BATCH_WRITE_MAX]
            ]
            for attempt in range(5):  # UnprocessedItems come back under throttling: retry them, bounded
                answer = self._request("BatchWriteItem", {"RequestItems": {self.table: requests}})
                requests = answer.get("UnprocessedItems", {}).get(self.table, [])
                if not requests:
                    break
                time.sleep(backoff.exponential(base=0.05, exponent=attempt))
            else:
                raise StoreUnavailable(f"{len(requests)} deletes left unprocessed")
