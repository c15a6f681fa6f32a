"""PostgreSQL schema migrations, one function per change, applied in order and recorded in a table.

A released migration is never edited; a change to the schema is a new function at the end of
the last part (part2.py; a part near 400 lines gets a successor, listed in MIGRATIONS below). The
tables and their meaning are SQLite's (storage/migrations/), with PostgreSQL's own types:
timestamps are `timestamptz(0)` (compared and sorted as moments; read back as the same ISO text
SQLite stores, see storage/postgres/backend.py), ids are identity columns, MinHash signatures
`bytea`, JSON lists (topics, entities, rules) the same text as in SQLite. Flags stay integers
(0/1) as in SQLite, so a row means the same on both. Full-text search is `tsvector` (p002).
Concurrent starters (many workers) wait for each other on an advisory lock, without lock_timeout.
"""

from __future__ import annotations

import logging
import time

from storage.upgrade import applied_line, upgrading_line

from ..database import PgDatabase
from . import part1, part2
from .steps import Migration

log = logging.getLogger(__name__)
TABLE = "presswatch_migrations"
# Every migration in the order it runs: a part's own in the order they are defined.
MIGRATIONS: list[Migration] = [*part1.MIGRATIONS, *part2.MIGRATIONS]
# Any fixed number: the key of the advisory lock that lets one process migrate at a time.
_LOCK_KEY = 0x70726573  # "pres"


def apply(db: PgDatabase, *, where: str = "the archive") -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return their names.

    On an archive an older presswatch wrote, each is logged (a step can take minutes at a million
    articles); a new archive is made silently.
    """
    done: list[str] = []
    with db.atomic():
        _wait_for_the_others(db)
        db.execute(
            f"create table if not exists {TABLE} "
            "(name text primary key, applied_at timestamptz not null default now())"
        )
    todo = pending(db)
    older = bool(todo) and len(todo) < len(MIGRATIONS)
    if older:
        log.info("%s", upgrading_line(where, todo))
    for fn in MIGRATIONS:
        started = time.monotonic()
        with db.atomic():
            _wait_for_the_others(db)
            if db.execute(f"select 1 from {TABLE} where name = ?", [fn.__name__]).fetchone():
                continue  # applied before, or just now by a worker that started beside this one
            fn(db)
            db.execute(f"insert into {TABLE} (name) values (?)", [fn.__name__])
            done.append(fn.__name__)
        if older:
            log.info("%s", applied_line(where, fn.__name__, len(done), len(todo), started=started))
    return done


def _wait_for_the_others(db: PgDatabase) -> None:
    """Take the migrations' lock for this transaction, waiting as long as another starter
    migrates (past the archive connections' lock_timeout, storage/busy.py)."""
    # A step can take minutes at a million articles; a starter that stalls while migrating has
    # its transaction ended by the server's idle timeout, so this wait still ends. The steps'
    # own lock waits stay unbounded too, as before.
    db.execute("set local lock_timeout = 0")
    db.execute(f"select pg_advisory_xact_lock({_LOCK_KEY})")


def applied(db: PgDatabase) -> list[str]:
    """Return the names of the applied migrations, in the order they ran."""
    return [r[0] for r in db.execute(f"select name from {TABLE} order by applied_at, name")]


def pending(db: PgDatabase) -> list[str]:
    """Return the names of this presswatch's migrations the archive lacks, in their order."""
    done = set(applied(db))
    return [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in done]
