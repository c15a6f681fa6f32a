"""The bounds of a PostgreSQL worker's waits on the archive, and the error of a wait that ran out.

Workers (`presswatch run` processes sharing one archive) lock what they write: a new article's
near-duplicate keys (storage/claim.py), the rows they write, the send pace's rows. A worker that
stalls mid-transaction (SIGSTOP, a paused VM, a hung network read) would keep those locks for
good, and every worker meeting them would wait for good, the fleet's posting stopped. So each
archive connection waits LOCK_TIMEOUT_SECONDS at most for a lock (then ArchiveBusy: the write is
rolled back whole and tried again at the next poll), and the server ends a transaction left idle
for IDLE_TIMEOUT_SECONDS, freeing its locks (no worker idles in one: a storing transaction is one
round trip; a streamed export, whose reader may be a person, opts out, storage/postgres/database.py).
Both are in no module that needs psycopg: bot/ingest names the error for SQLite-only installs too.
"""

from __future__ import annotations

from .lock import StorageError

# Under the 10 s of silence after which the other workers take a worker's jobs: a lock wait holds
# the waiting worker's event loop, its heartbeat too. Legitimate waits (another storing
# transaction, a send slot) last milliseconds.
LOCK_TIMEOUT_SECONDS = 5
# Far above any gap between two statements of a transaction (milliseconds), far below the poll
# intervals: a stalled worker's locks are freed before the next poll of the source it held.
IDLE_TIMEOUT_SECONDS = 60


class ArchiveBusy(StorageError):
    """Another worker held a lock this write needed past LOCK_TIMEOUT_SECONDS: nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            "archive busy: another worker holds a lock this write needs "
            f"(lock_timeout {LOCK_TIMEOUT_SECONDS} s)"
        )


def ended_line() -> str:
    """Say why the server ended this worker's transaction (it idled too long: the worker stalled)."""
    return (
        "the archive ended this worker's transaction: idle over "
        f"idle_in_transaction_session_timeout ({IDLE_TIMEOUT_SECONDS} s), the worker stalled; "
        "nothing of it was written"
    )
