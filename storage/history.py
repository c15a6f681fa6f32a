"""The poll history's upkeep: `runs` gains a row per poll, and rows past the days kept go.

Each source keeps, however old, its last poll that worked and every failed poll after it: what
source health's "failing since" and `presswatch status` read (storage/alerts.py), and what tells
a key was polled (storage/sources.py's archived_keys and noted)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlite_utils import Database

from .dialect import is_postgres
from .records import RunStatus, iso
from .transaction import immediate

# What `presswatch status` and /metrics count is a day, source health a failure streak kept
# whole below: a month leaves room to look back at an incident in Datasette.
KEPT = timedelta(days=30)
# Rows deleted per transaction: each holds the writer (the event loop's) a few milliseconds.
BATCH = 2000
# The session advisory lock of an upkeep pass on PostgreSQL, beside storage/postgres/fleet.py's
# ("pw", 4): every worker of a fleet runs the pass, one at a time deletes.
PRUNING = (0x7077, 4)

# The statuses of a poll that did not fail, each sought alone in the (source_key, status, id)
# index (m027/p024): a `status != ?` range there is a walk over every good poll the source kept.
WORKED = tuple(s for s in RunStatus if s not in (RunStatus.ERROR, RunStatus.SKIPPED))
# The id of a source's last poll that worked (NULL if none did): an index seek per status.
LAST_WORKED = "select max(id) from ({}) as worked".format(
    " union all ".join(
        "select max(id) as id from runs where source_key = ? and status = ?" for _ in WORKED
    )
)


def last_worked_args(key: str) -> list[str]:
    """Return LAST_WORKED's parameters for a source."""
    return [arg for status in WORKED for arg in (key, status)]


def prune(db: Database, *, before: datetime, batch: int = BATCH) -> Iterator[int]:
    """Delete runs that started before `before`, except each source's last poll that worked and
    the failures after it; yield each batch's count (one transaction each) until none is left."""
    keys = [row[0] for row in db.execute("select key from sources order by key").fetchall()]
    for key in keys:
        (keep_from,) = db.execute(LAST_WORKED, last_worked_args(key)).fetchone()
        if keep_from is None:  # it never worked: all of its runs are the failure streak
            continue
        while True:
            with immediate(db):
                deleted = db.execute(
                    "delete from runs where id in (select id from runs where source_key = ? "
                    "and started_at < ? and id < ? limit ?)",
                    [key, iso(before), keep_from, batch],
                ).rowcount
            if deleted:
                yield deleted
            if deleted < batch:
                break


@contextmanager
def pruning_alone(db: Database) -> Iterator[bool]:
    """Yield whether this process may prune now: on PostgreSQL while it holds PRUNING (another
    worker's pass under way: False), on SQLite always (one process writes)."""
    if not is_postgres(db):
        yield True
        return
    (held,) = db.execute("select pg_try_advisory_lock(?, ?)", list(PRUNING)).fetchone()
    try:
        yield bool(held)
    finally:
        if held:
            db.execute("select pg_advisory_unlock(?, ?)", list(PRUNING))
