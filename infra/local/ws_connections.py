"""The local WebSocket API's open connections: what the gateway (``ws_gateway``) holds and the
management API (``management``) reaches, so neither module imports the other's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.local.http_gateway import Send
from infra.local.logstream import LogStream


@dataclass
class Connection:
    id: str
    send: Send
    context: dict[str, Any]  # the requestContext shared by this connection's events
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float = field(default_factory=time.time)
    close_requested: asyncio.Event = field(default_factory=asyncio.Event)
    open: bool = True


class ConnectionHost(Protocol):
    """What the management API needs of the gateway that holds the connections."""

    connections: dict[str, Connection]
    region: str  # the management API checks signatures for this region
    stage: str
    throttle_share: float  # fault injection: this share of posts answered 429
    log: LogStream

    async def post(self, connection_id: str, data: bytes) -> bool:
        """Sends a message; False when the connection is gone."""
        ...
