"""A worker process a test can SIGKILL mid-task: ``python -m tests.functional.worker.killable_worker EVENT``.

Reads the SQS event from the JSON file EVENT and calls the handler, like a Lambda container would.
The database, queue and topic come from the environment the test passes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.test")

import django

django.setup()

from functions.worker.handler import handler  # noqa: E402
from tests.functional.worker import tasks as _tasks  # noqa: E402, F401  (registers the wt_* tasks)
from tests.functional.worker.builders import LambdaContextStub  # noqa: E402


def main() -> int:
    event = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(handler(event, LambdaContextStub())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
