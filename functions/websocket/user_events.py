"""``user.deactivated`` from Django (through the push queue): the user's WebSocket connections close.

The user is first refused new connections for longer than any ticket minted before the
deactivation can live, so a ticket in flight cannot reopen what is being closed; then each open
connection is closed through the management API (the client sees the socket close) and forgotten.
"""

from __future__ import annotations

import logging
import time

from contracts.tickets import TICKET_CLOCK_SKEW_SECONDS, TICKET_MAX_TTL_SECONDS
from contracts.user_event import UserEvent
from functions.websocket.connections import ConnectionStore, StoreUnavailable
from functions.websocket.management import ManagementApi, ManagementApiError

logger = logging.getLogger(__name__)

# Tickets live at most TICKET_MAX_TTL_SECONDS; the margin covers clocks and a late event.
BLOCK_SECONDS = TICKET_MAX_TTL_SECONDS + TICKET_CLOCK_SKEW_SECONDS + 60


def user_deactivated(event: UserEvent, *, store: ConnectionStore, management: ManagementApi) -> bool:
    """Blocks, closes and forgets; False when something must be tried again (the record comes back)."""
    until = max(int(time.time()), int(event.at.timestamp())) + BLOCK_SECONDS
    try:
        store.user_block(user=event.user, until=until)
        connection_ids = store.user_connections(user=event.user)
    except StoreUnavailable as error:
        logger.warning("user %s deactivated: store unavailable: %s", event.user, error)
        return False
    complete = True
    for connection_id in connection_ids:
        try:
            management.delete_connection(connection_id=connection_id)  # a gone one is not an error
        except ManagementApiError as error:
            logger.warning("closing %s of deactivated user %s failed: %s", connection_id, event.user, error)
            complete = False
            continue
        try:
            store.connection_close(connection_id=connection_id)
        except StoreUnavailable as error:
            logger.warning("forgetting %s failed (TTL will): %s", connection_id, error)
    logger.info("user %s deactivated: %d connection(s) closed", event.user, len(connection_ids))
    return complete
