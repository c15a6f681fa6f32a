"""Naming a stalled worker's transaction that the server's idle timeout cannot see.

A worker's storing transaction is pipelined (storage/postgres/database.py): its statements go out
without a Sync, so a worker that stalls inside it (SIGSTOP, a paused VM) leaves the server waiting
for the rest of the pipeline, the session `active` with wait event ClientRead, and
idle_in_transaction_session_timeout, armed only once the server has said it is ready for a query,
never fires: the locks stay (seen on PostgreSQL 15; 17's transaction_timeout would end it). So a
worker whose lock wait ran out names each other presswatch session that has waited for its client
inside a transaction longer than the idle bound, with the statement that ends it. It never ends
one itself: a session of the same name may be a legitimate one that waits for its reader
(`export | less`, whose stream opts out of the idle bound) or a long copy; the operator knows.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import busy
from ..lock import StorageError

log = logging.getLogger(__name__)
_STALLED = """select pid, xact_start, coalesce(host(client_addr), 'a local socket'),
        extract(epoch from now() - state_change)::int
    from pg_stat_activity
    where application_name = current_setting('application_name') and pid <> pg_backend_pid()
      and xact_start is not null and wait_event = 'ClientRead'
      and state_change < now() - make_interval(secs => ?)"""
# The transactions this process has named (server pid, start): each once, however many waits
# it makes run out (a poll meets it at each article and at its run).
_named: set[tuple[int, Any]] = set()


def name_stalled(db: Any) -> int:
    """Warn of each archive transaction stalled on its client past the idle bound, naming its
    server pid and how to end it, once each; return how many were found."""
    try:
        stalled = db.execute(_STALLED, [busy.IDLE_TIMEOUT_SECONDS]).fetchall()
    except StorageError as exc:  # a role that may not read others' sessions: said, not fatal
        log.warning("archive: could not look for a stalled worker's transaction: %s", exc)
        return 0
    for pid, start, where, silent in stalled:
        if (pid, start) in _named:
            continue
        _named.add((pid, start))
        log.warning(
            "archive: a transaction silent for %d s may hold the locks (server pid %d, from %s): "
            "if that worker is stalled, end it with `select pg_terminate_backend(%d)`",
            *(silent, pid, where, pid),
        )
    return len(stalled)
