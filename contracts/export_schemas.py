"""Writes the JSON Schemas of the contracts to ``contracts/schemas/``: ``python -m contracts.export_schemas``.

Services in other languages validate against these files; a test fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from contracts.access_tokens import AccessTokenClaims
from contracts.job_event import JobEvent
from contracts.job_message import JobMessage
from contracts.tickets import TicketClaims
from contracts.user_event import UserEvent
from contracts.ws_protocol import ClientMessage, ConnectRefusal, ServerMessage

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

SCHEMAS: dict[str, Any] = {
    "access_token_claims": AccessTokenClaims,
    "job_event": JobEvent,
    "job_message": JobMessage,
    "ticket_claims": TicketClaims,
    "user_event": UserEvent,
    "ws_client_message": ClientMessage,
    "ws_server_message": ServerMessage,
    "ws_connect_refusal": ConnectRefusal,
}


def render(name: str) -> str:
    schema = TypeAdapter(SCHEMAS[name]).json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{name}.json", **schema}
    schema.setdefault("title", name)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in SCHEMAS:
        (SCHEMA_DIR / f"{name}.json").write_text(render(name))
        print(f"wrote contracts/schemas/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
