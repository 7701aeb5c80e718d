"""``make run``: set up the local database and demo user, then serve the stack on 127.0.0.1.

Until the full local stack lands (gateways, queues, pollers, schedules), this serves the Django
function alone.
"""

from __future__ import annotations

import os
import sys

from infra.local.setup import DEMO_PASSWORD, DEMO_USERNAME, prepare_django

HOST = os.environ.get("LOCAL_HOST", "127.0.0.1")
PORT = int(os.environ.get("LOCAL_HTTP_PORT", "8000"))


def main() -> int:
    prepare_django()
    from django.core.management import call_command

    print(f"\n  Stack URL:  http://{HOST}:{PORT}/", flush=True)
    print(f"  Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}\n", flush=True)
    call_command("runserver", f"{HOST}:{PORT}", use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
