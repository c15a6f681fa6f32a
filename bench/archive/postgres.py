"""The archive bench on PostgreSQL: a bulk fill through COPY, the trigger and every index."""

from __future__ import annotations

from collections.abc import Callable

from bench.archive.measure import ARTICLE_COLUMNS, TOPIC_COLUMNS, load
from storage import Store


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
    """Return the database's size in bytes and the server's version."""
    size, version = store.db.execute(
        "select pg_database_size(current_database()), current_setting('server_version')"
    ).fetchone()
    return size, version
