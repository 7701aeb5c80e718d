"""Lambda's SQS event source mapping: long-polls a queue, gathers up to ``batchSize`` messages within
the batching window, invokes the function with an SQS event and deletes what succeeded. With
``ReportBatchItemFailures`` only the records not listed in ``batchItemFailures`` are deleted;
without it the whole batch is deleted or (on an error) left to come back after the queue's
visibility timeout. Redrive to the DLQ is the queue's own (moto applies ``maxReceiveCount``).
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from infra.local.config import SqsSource
from infra.local.events import sqs_record
from infra.local.functions import FunctionPool, Invocation
from infra.local.logstream import LogStream
from infra.local.sqs_client import SqsClient

LONG_POLL_SECONDS = 20  # what Lambda's pollers use


@dataclass(frozen=True)
class PollerTarget:
    source: SqsSource
    queue_url: str
    queue_arn: str
    pool: FunctionPool


def failed_ids(source: SqsSource, invocation: Invocation, records: list[dict[str, Any]]) -> set[str]:
    """The message ids that must come back (not be deleted) after this invocation."""
    all_ids = {record["messageId"] for record in records}
    if not invocation.ok:
        return all_ids  # an error or a timeout: the whole batch comes back
    if not source.report_failures:
        return set()
    result = invocation.result
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()  # an empty or null list: the whole batch succeeded
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in all_ids:
            return all_ids  # Lambda treats a malformed answer as the whole batch failing
        ids.add(identifier)
    return ids


def correlation_of(records: list[dict[str, Any]]) -> str:
    """The correlation ids the records carry (message attribute or the body's JSON field)."""
    found: list[str] = []
    for record in records:
        value = (record.get("messageAttributes", {}).get("correlation_id") or {}).get("stringValue")
        if not value:
            try:
                body = json.loads(record["body"])
                value = body.get("correlation_id") if isinstance(body, dict) else None
            except ValueError:
                value = None
        if value and value != "-" and value not in found:
            found.append(str(value))
    return ",".join(found)[:120]


class Poller:
    def __init__(
        self, target: PollerTarget, *, endpoint: str, region: str, executor: ThreadPoolExecutor, log: LogStream
    ) -> None:
        self.target = target
        self.region = region
        self.executor = executor
        self.log = log
        # Its own kept connection (sqs_client.py), one call at a time.
        self.sqs = SqsClient(endpoint, region=region, timeout=LONG_POLL_SECONDS + 10)
        self.stopping = asyncio.Event()
        self.batches = 0
        self.invoking = False  # a batch is in the function: stopping waits for it
        self.task: asyncio.Task[None] | None = None

    async def _call(self, method: str, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: getattr(self.sqs, method)(**kwargs))

    async def _receive(self, count: int, wait: float) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = await self._call(
            "receive_message",
            queue_url=self.target.queue_url,
            max_messages=max(1, min(10, count)),
            wait_seconds=int(max(0, min(LONG_POLL_SECONDS, wait))),
        )
        return messages

    async def batch(self) -> list[dict[str, Any]]:
        source = self.target.source
        messages = await self._receive(source.batch_size, LONG_POLL_SECONDS)
        if not messages or source.window_seconds <= 0:
            return messages
        # The batching window: keep gathering until the batch is full or the window has passed.
        window_ends = time.monotonic() + source.window_seconds
        for _ in range(10_000):  # bounded: batchSize ≤ 10,000, at least one message a round
            left = window_ends - time.monotonic()
            if len(messages) >= source.batch_size or left <= 0:
                break
            more = await self._receive(source.batch_size - len(messages), min(left, 1.0) if left >= 1 else 0)
            messages += more
            if not more and left < 1:
                await asyncio.sleep(min(left, 0.05))
        return messages

    async def run(self) -> None:
        queue_name = self.target.queue_arn.rsplit(":", 1)[-1]
        for _ in range(100_000_000):  # bounded: ends with the stack
            if self.stopping.is_set():
                return
            try:
                messages = await self.batch()
            except Exception as error:  # moto going away at shutdown, or a transient failure
                if self.stopping.is_set():
                    return
                self.log.line("sqs-poller", f"{queue_name}: receive failed: {error}")
                await asyncio.sleep(1)
                continue
            if not messages:
                continue
            records = [sqs_record(message, queue_arn=self.target.queue_arn, region=self.region) for message in messages]
            self.invoking = True
            try:
                await self._deliver(messages, records, queue_name)
            finally:
                self.invoking = False

    async def _deliver(self, messages: list[dict[str, Any]], records: list[dict[str, Any]], queue_name: str) -> None:
        source = self.target.source
        invocation = await self.target.pool.invoke(
            {"Records": records},
            trigger=f"sqs {queue_name} ({len(records)} records)",
            correlation_id=correlation_of(records),
        )
        self.batches += 1
        keep = failed_ids(source, invocation, records)
        done = [message for message in messages if message["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            try:
                await self._call(
                    "delete_message_batch",
                    queue_url=self.target.queue_url,
                    entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)],
                )
            except Exception as error:  # the messages come back: at-least-once, as on AWS
                self.log.line("sqs-poller", f"{queue_name}: delete failed: {error}")
        if keep:
            self.log.line(
                self.target.pool.config.name,
                f"{len(keep)} of {len(records)} records not deleted: they come back after the visibility timeout",
            )
