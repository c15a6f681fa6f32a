"""A PostgreSQL archive whose server went away and came back: the store's connection is replaced,
never inside a transaction, where a fresh connection would commit half of it."""

from __future__ import annotations

import psycopg
import pytest

from storage import StorageError

pytestmark = pytest.mark.postgres


def _cut(url: str, conn: psycopg.Connection) -> None:
    """End the server's side of a connection, as a restart of the server does."""
    pid = conn.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s)", (pid,))


def test_a_store_whose_connection_the_server_ended_reconnects(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        first = store.db.conn
        _cut(postgres_archive.url, first)
        with pytest.raises(StorageError):
            store.db.execute("select 1")  # the statement the loss is found on fails
        assert store.db.execute("select 1").fetchone() == (1,)  # the next one has a new link
        assert store.db.conn is not first
    finally:
        store.close()


def test_a_connection_lost_inside_a_transaction_is_not_swapped_within_it(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        with store.db.atomic():
            _cut(postgres_archive.url, store.db.conn)
            with pytest.raises(StorageError):
                store.db.execute("select 1")
            with pytest.raises(psycopg.OperationalError):
                store.db.execute("select 1")  # still the lost one: nothing runs outside it
        assert store.db.execute("select 1").fetchone() == (1,)
    finally:
        store.close()
