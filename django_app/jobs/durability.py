"""When a job's end is durable: decided here, asked by the worker and the batch statements.

The worker acknowledges a record (and Lambda then deletes its message) only once the job's end
is durable; until then a lost end means the task runs again.

On PostgreSQL the ends written before the batch's last write commit asynchronously: the
statement turns ``synchronous_commit`` off for its own transaction, so its commit does not wait
for the WAL flush (one disk flush per job was most of a no-op job's cost). The row is visible to
every session at once and survives the worker's process dying (it is in the server's memory and
WAL buffers); only a crash of the server itself within about 3 × ``wal_writer_delay`` can lose
it, and then the job is still running under its lease (the lease sweep runs it again).

Such an end becomes durable with the next synchronous commit that writes WAL: PostgreSQL flushes
the WAL up to that commit, and so every asynchronous commit before it. The batch's last write is
synchronous; if it changed no row (then it wrote no WAL and waited for nothing), ``wal_flush``
does. Elsewhere (SQLite) every commit is synchronous: an end is durable once written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Generic, TypeVar

from django.db import connection
from django.db.models import F

from django_app.jobs.models import Job

T = TypeVar("T")

# An uncorrelated subquery: PostgreSQL runs it once, before any row, and SET LOCAL's effect lasts
# until this statement's transaction commits. One statement instead of ``BEGIN``, ``SET LOCAL``,
# the UPDATE and ``COMMIT``: three round trips fewer per write.
_ASYNCHRONOUS_COMMIT = " AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'"


def commits_asynchronously() -> bool:
    """Whether this database can commit a write without waiting for its WAL flush."""
    return connection.vendor == "postgresql"


def ends_write_asynchronously(*, final: bool) -> bool:
    """Whether a write of ends may commit asynchronously: every write but the batch's last one
    (``final``), which must be synchronous before any record is acknowledged."""
    return not final and commits_asynchronously()


def asynchronous_commit_condition(*, asynchronous: bool) -> str:
    """A WHERE-clause term (appended with ``AND``) that makes the statement's own transaction
    commit asynchronously; empty for a synchronous write or where commits are always synchronous.
    Call the statement in autocommit."""
    return _ASYNCHRONOUS_COMMIT if asynchronous and commits_asynchronously() else ""


def wal_flush(*, job_id: uuid.UUID) -> None:
    """A synchronous commit that writes WAL, so PostgreSQL flushes the WAL up to it: every earlier
    asynchronous commit becomes durable with it. A transaction that changes no row writes no WAL and
    waits for no flush, hence a real write, though one nobody can see: ``seq = seq`` on a row the
    caller wrote (a new row version; no ``seq`` bump, no event). Call it in autocommit."""
    Job.objects.filter(pk=job_id).update(seq=F("seq"))


class UnflushedEnds(Generic[T]):
    """Ends committed asynchronously that no synchronous commit has covered yet, each with what the
    caller needs to know about it (its record): not durable, so not to be acknowledged."""

    def __init__(self) -> None:
        self._ends: list[tuple[uuid.UUID, T]] = []

    def __bool__(self) -> bool:
        return bool(self._ends)

    def written(self, ends: Sequence[tuple[uuid.UUID, T]], *, asynchronous: bool) -> None:
        """Notes a write of ends (job id, the caller's item). A synchronous one that changed rows
        flushed the WAL up to itself: every end before it is durable too."""
        if asynchronous:
            self._ends += ends
        elif ends:
            self._ends = []

    def flush(self) -> None:
        """Makes every noted end durable (``wal_flush`` on the last one's row). Call it in autocommit."""
        if self._ends:
            wal_flush(job_id=self._ends[-1][0])
            self._ends = []

    def lost(self) -> list[T]:
        """The database went away before a synchronous commit: the noted ends may be lost. Forgets them."""
        ends, self._ends = self._ends, []
        return [item for _, item in ends]
