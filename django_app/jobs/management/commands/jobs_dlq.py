"""``manage.py jobs_dlq list|redrive [--queue default|long]``: what is in a job queue's DLQ, and
sending it back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_app.jobs.dlq import QUEUE_URL_SETTINGS, dlq_list, dlq_redrive
from django_app.jobs.errors import QueueUnavailable


class Command(BaseCommand):
    help = "List a job queue's dead-letter queue, or redrive its messages to that queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "redrive"])
        parser.add_argument("--limit", type=int, default=100, help="At most this many messages (default 100).")
        parser.add_argument(
            "--queue",
            choices=sorted(QUEUE_URL_SETTINGS),
            default="default",
            help="Which job queue's DLQ: default (JOBS_QUEUE_URL) or long (JOBS_LONG_QUEUE_URL).",
        )
        parser.add_argument("--queue-url", default=None, help="A job queue's URL, instead of --queue.")
        parser.add_argument("--json", action="store_true", help="list: one JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if not 1 <= limit <= 10_000:
            raise CommandError("--limit must be between 1 and 10000")
        try:
            if options["action"] == "list":
                self._list(limit=limit, queue_url=options["queue_url"], queue=options["queue"], as_json=options["json"])
            else:
                moved = dlq_redrive(limit=limit, queue_url=options["queue_url"], queue=options["queue"])
                which = (
                    "the long jobs queue"
                    if options["queue"] == "long" and not options["queue_url"]
                    else "the jobs queue"
                )
                self.stdout.write(f"redrove {moved} message(s) to {which}")
        except QueueUnavailable as error:
            raise CommandError(str(error)) from error

    def _list(self, *, limit: int, queue_url: str | None, queue: str, as_json: bool) -> None:
        letters = dlq_list(limit=limit, queue_url=queue_url, queue=queue)
        for letter in letters:
            summary = letter.summary()
            if as_json:
                self.stdout.write(json.dumps(summary))
                continue
            sent = dt.datetime.fromtimestamp(letter.sent_at_ms / 1000, tz=dt.UTC).isoformat(timespec="seconds")
            self.stdout.write(
                f"{summary['message_id']}  job={summary['job_id'] or '-'}  task={summary['task'] or '-'}  "
                f"receives={summary['receives']}  sent={sent}  body={summary['body']!r}"
            )
        self.stdout.write(f"{len(letters)} message(s) listed from the DLQ")
