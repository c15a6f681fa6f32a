"""The archive bench on PostgreSQL: a bulk fill, and a kept cluster started for each run.

The fill goes through COPY, the search trigger and every index; the cluster kept in a folder is
started with the shared buffers a run asks for and stopped after it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.archive.measure import ARTICLE_COLUMNS, TOPIC_COLUMNS, load
from storage import Store
from tests.fakes.postgres import Server, binaries


def fill(
    store: Store, count: int, *, batch: int, report: Callable[[int], None]
) -> tuple[float, float]:
    """Insert `count` articles in transactions of `batch`; return (database seconds, wall seconds).

    COPY into `articles` (the trigger computes each tsvector, the GIN and B-tree indexes are
    kept up to date as in service) and `article_topics`; the same corpus as the SQLite fill.
    """
    db = store.db

    def write(values: list[tuple], topic_rows: list[tuple]) -> None:
        with db.atomic(), db.conn.cursor() as cursor:
            with cursor.copy(f"copy articles ({ARTICLE_COLUMNS}) from stdin") as copy:
                for row in values:
                    copy.write_row(row)
            with cursor.copy(f"copy article_topics ({TOPIC_COLUMNS}) from stdin") as copy:
                for row in topic_rows:
                    copy.write_row(row)

    timed = load(count, batch=batch, write=write, report=report)
    db.execute(
        "select setval(pg_get_serial_sequence('articles', 'id'), "
        "(select max(id) from articles) + 1, false)"
    )
    db.execute("vacuum analyze")  # what autovacuum does after a bulk load, done at once
    return timed


def size_and_version(store: Store) -> tuple[int, str]:
    """Return the database's size in bytes and the server's version with its shared buffers."""
    size, version, buffers = store.db.execute(
        "select pg_database_size(current_database()), current_setting('server_version'), "
        "current_setting('shared_buffers')"
    ).fetchone()
    return size, f"{version}, shared_buffers {buffers}"


@contextmanager
def kept_cluster(folder: Path, *, shared_buffers: str | None = None) -> Iterator[str]:
    """Start the cluster kept in `folder` (made the first time) with `shared_buffers` (None: the
    tests' SETTINGS), yield the URL of its database `archive` (created empty when missing), and
    stop it (fast, kept).

    A restart for each run: a new setting of shared_buffers takes one, and so each run starts
    with empty shared buffers whatever the one before read (the OS cache keeps what it keeps).
    """
    import psycopg  # noqa: PLC0415 - the [postgres] extra

    bindir = binaries()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries (set PRESSWATCH_PG_BIN)")
    server = Server(bindir, folder=folder)
    if (server.data / "postmaster.pid").exists():
        # Left running by an interrupted run: start it with this run's setting (a stale pid file
        # of a server that died is no server to stop).
        with contextlib.suppress(RuntimeError):
            server.stop()
    # The tests' settings (durability off), this run's shared buffers; initdb the first time.
    server.start(settings={"shared_buffers": shared_buffers} if shared_buffers else None)
    try:
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            if not conn.execute("select 1 from pg_database where datname = 'archive'").fetchone():
                conn.execute("create database archive")
        yield server.url("archive")
    finally:
        server.stop()
