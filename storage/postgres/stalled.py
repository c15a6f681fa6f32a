"""Ending a stalled worker's transaction that the server's idle timeout cannot see.

A worker's storing transaction is pipelined (storage/postgres/database.py): its statements go out
without a Sync, so a worker that stalls inside it (SIGSTOP, a paused VM) leaves the server waiting
for the rest of the pipeline, the session `active` with wait event ClientRead, and
idle_in_transaction_session_timeout, armed only once the server has said it is ready for a query,
never fires: the locks stay for good (seen on PostgreSQL 15; 17's transaction_timeout would end
it). So a worker whose lock wait ran out ends any other archive session (the same application
name) that has waited for its client inside a transaction longer than the idle bound: no worker
pauses that long in one (storage/busy.py).
"""

from __future__ import annotations

import logging
from typing import Any

from .. import busy
from ..lock import StorageError

log = logging.getLogger(__name__)
_STALLED = """select pid, coalesce(host(client_addr), 'a local socket'),
        extract(epoch from now() - state_change)::int
    from pg_stat_activity
    where application_name = current_setting('application_name') and pid <> pg_backend_pid()
      and xact_start is not null and wait_event = 'ClientRead'
      and state_change < now() - make_interval(secs => ?)"""


def end_stalled(db: Any) -> int:
    """End the archive's transactions stalled on their worker past the idle bound, saying so in
    a line each; return how many were ended."""
    ended = 0
    try:
        for pid, where, silent in db.execute(_STALLED, [busy.IDLE_TIMEOUT_SECONDS]).fetchall():
            (done,) = db.execute("select pg_terminate_backend(?)", [pid]).fetchone()
            ended += bool(done)
            log.warning(
                "archive: %s a stalled worker's transaction (server pid %d, from %s, silent for "
                "%d s mid-transaction)%s",
                "ended" if done else "could not end",
                *(pid, where, silent),
                ": its locks are free" if done else "",
            )
    except StorageError as exc:  # e.g. a role that may not end another's session: said, not fatal
        log.warning("archive: could not end a stalled worker's transaction: %s", exc)
    return ended
