"""Write transactions that take SQLite's write lock up front (on PostgreSQL, plain transactions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from .dialect import is_postgres


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """Run a block in a BEGIN IMMEDIATE transaction (a savepoint inside an open one)."""
    if is_postgres(db):
        # Row locks are taken by the writes themselves; the same rows wait, others go on.
        with db.atomic():
            yield
        return
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (disk full, I/O error) must not leave the transaction open: every later
        # write would nest inside it and nothing would ever be committed again.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def joined(db: Database) -> Iterator[None]:
    """Run a block in a transaction of its own (pipelined on PostgreSQL), or inside the one
    already open without a savepoint."""
    # A savepoint lets a caller catch a failure and keep the outer transaction; callers of this
    # never do (the failure undoes the whole), and on PostgreSQL a savepoint is two round trips.
    inside = db.in_transaction if is_postgres(db) else db.conn.in_transaction
    if inside:
        yield
        return
    if is_postgres(db):
        # Pipelined: BEGIN, the writes and COMMIT go in one round trip instead of one each;
        # only a read inside waits for the answers so far (a new row's key need not: see
        # inserted_key). The block must not decide on a write's row count: not known until the end.
        with db.pipelined():
            yield
        return
    with db.atomic():
        yield


def inserted_key(table: Any) -> Any:
    """Return the key of the row a table's `insert` just wrote, for the rows that name it: on
    PostgreSQL a stand-in the server fills in (nothing waits for the insert), on SQLite the key."""
    return table.new_key if is_postgres(table.db) else table.last_pk
