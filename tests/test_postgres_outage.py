"""A PostgreSQL archive whose server went away and came back: the store's connection is replaced,
never inside a transaction, where a fresh connection would commit half of it."""

from __future__ import annotations

import psycopg
import pytest

from storage import StorageError
from tests.fakes.postgres import Server, binaries, create_database
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.service import RunningService, free_port
from tests.support.workers import CHATS, SOURCES, posted, publish, wait_until, write_config

pytestmark = pytest.mark.postgres
# Above the test's 48 posts a minute (the fake's default would hold the last ones for a minute).
LIMITS = RateLimit(per_chat_per_minute=60, per_chat_min_interval=0.04, global_per_second=30)


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


def test_a_worker_rides_out_a_database_restart(tmp_path) -> None:
    """The server stops under a running worker and starts again: the worker waits, takes jobs
    again, and every article is archived and posted once, with one line for the outage each."""
    bindir = binaries()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries")
    server = Server(bindir)  # its own: the session's server serves the other tests meanwhile
    with FakeSites() as sites, FakeTelegram(rate_limit=LIMITS) as telegram:
        try:
            server.start()
            url = create_database(server, "presswatch_outage")
            publish(sites, 2)
            port = free_port()
            config = write_config(tmp_path, "w", url=url, sites=sites, telegram=telegram, port=port)
            with RunningService(config, port=port, token=DEFAULT_TOKEN) as worker:
                try:
                    worker.wait_for_line("taking jobs")
                    first = {(c, f"{sites.base_url}/{k}/{n}") for c in CHATS for k in SOURCES for n in range(2)}  # fmt: skip
                    wait_until(lambda: set(posted(telegram)) >= first, timeout=40, what="posts")
                    server.halt()
                    gone = worker.wait_for_line("lost the database")
                    body = worker.wait_for_health(lambda b: b["status"] == "down")
                    assert body["scheduler"] == "waiting for the database"
                    publish(sites, 4)  # new articles while the database is away
                    server.start()
                    worker.wait_for_line("the database answers again", after=gone, timeout=60)
                    every = {(c, f"{sites.base_url}/{k}/{n}") for c in CHATS for k in SOURCES for n in range(4)}  # fmt: skip
                    wait_until(lambda: set(posted(telegram)) >= every, timeout=60, what="posts")
                    worker.wait_for_health(lambda b: b["scheduler"] == "running")
                except AssertionError:
                    print("\n".join(worker.log[-80:]))
                    raise
                assert worker.stop() == 0
        finally:
            server.stop()
    copies = posted(telegram)
    assert set(copies) == every and max(copies.values()) == 1  # none lost, none doubled
    log = "\n".join(worker.log)
    assert "Traceback" not in log and "never retrieved" not in log, log
    assert log.count("heartbeat failed") <= 1, log
    assert log.count("psycopg.pool") <= 2, log  # its first complaint an outage, not one a second
