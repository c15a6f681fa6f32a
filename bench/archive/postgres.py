"""The archive bench on PostgreSQL: a bulk fill through COPY, the trigger and every index."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable

from bench.archive.corpus import articles
from storage import Store

_ARTICLE_COLUMNS = (
    "id, source_key, url, canonical_url, url_key, title, published_at, author, lang, lead, body, "
    "summary, content_hash, discovered_at, duplicate_of, silent, topics, entities"
)


def fill(
    store: Store, count: int, *, batch: int, report: Callable[[int], None]
) -> tuple[float, float]:
    """Insert `count` articles in transactions of `batch`; return (database seconds, wall seconds).

    COPY into `articles` (the trigger computes each tsvector, the GIN and B-tree indexes are
    kept up to date as in service) and `article_topics`; the same corpus as the SQLite fill.
    """
    db = store.db
    started = time.perf_counter()
    rows = articles(count)
    done, in_db = 0, 0.0
    while chunk := list(itertools.islice(rows, batch)):
        values, topic_rows = [], []
        for id_, source, lang, title, lead, body, published, topics, dup in chunk:
            url = f"https://{source}.example/news/{id_}"
            stamp = published.isoformat(timespec="seconds")
            values.append(
                (id_, source, url, url, url[8:], title, stamp, "", lang, lead, body, lead)
                + (hashlib.sha256(body.encode()).hexdigest(), stamp, dup, 1)
                + (json.dumps(list(topics)), "[]")
            )
            topic_rows.extend((id_, t, "topic", 2.0, "[]") for t in topics)
        batch_started = time.perf_counter()
        with db.atomic(), db.conn.cursor() as cursor:
            with cursor.copy(f"copy articles ({_ARTICLE_COLUMNS}) from stdin") as copy:
                for row in values:
                    copy.write_row(row)
            with cursor.copy(
                "copy article_topics (article_id, key, kind, score, rules) from stdin"
            ) as copy:
                for row in topic_rows:
                    copy.write_row(row)
        in_db += time.perf_counter() - batch_started
        done += len(chunk)
        report(done)
    db.execute(
        "select setval(pg_get_serial_sequence('articles', 'id'), "
        "(select max(id) from articles) + 1, false)"
    )
    db.execute("vacuum analyze")  # what autovacuum does after a bulk load, done at once
    return in_db, time.perf_counter() - started


def size_and_version(store: Store) -> tuple[int, str]:
    """Return the database's size in bytes and the server's version."""
    size, version = store.db.execute(
        "select pg_database_size(current_database()), current_setting('server_version')"
    ).fetchone()
    return size, version
