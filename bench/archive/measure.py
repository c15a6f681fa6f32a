"""The archive bench's measures: a bulk fill through the real schema, and query latencies."""

from __future__ import annotations

import hashlib
import itertools
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from bench.archive.corpus import SPAN, START, articles
from storage import Store
from storage.facets import absent
from storage.search import latest, search

QUERIES = {
    "one-word": [
        "security",
        "sanctions",
        "summit",
        "peacekeeping",
        "vaccine",
        "Kyrgyzstan",
        "railway",
        "hackers",
        "санкции",
        "безопасности",
        "учения",
        "саммит",
        "пограничной",
        "ОДКБ",
        "миграции",
        "вакцина",
    ],
    "phrase": [
        '"collective security"',
        '"foreign ministers"',
        '"joint staff"',
        '"rapid reaction forces"',
        '"drug trafficking"',
        '"press conference"',
        '"коллективной безопасности"',
        '"генеральный секретарь"',
        '"министров иностранных дел"',
        '"объединенного штаба"',
    ],
    # Each with a source in its language, the last year and a topic.
    "filtered": [
        "security",
        "sanctions",
        "summit",
        "exercises",
        "санкции",
        "безопасности",
        "учения",
        "саммит",
    ],
}


# Every column of `articles` a fill writes, in the order of the rows `load` makes.
ARTICLE_COLUMNS = (
    "id, source_key, url, canonical_url, url_key, title, published_at, author, lang, lead, body, "
    "summary, content_hash, discovered_at, duplicate_of, silent, topics, entities"
)
TOPIC_COLUMNS = "article_id, key, kind, score, rules"


def load(
    count: int,
    *,
    batch: int,
    write: Callable[[list[tuple], list[tuple]], None],
    report: Callable[[int], None],
) -> tuple[float, float]:
    """Hand the corpus's first `count` articles to `write(articles, topics)` in batches, as rows of
    ARTICLE_COLUMNS and TOPIC_COLUMNS; return (database seconds, wall seconds).

    Database seconds count only the writes, not the making of synthetic text.
    """
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
        write(values, topic_rows)
        in_db += time.perf_counter() - batch_started
        done += len(chunk)
        report(done)
    return in_db, time.perf_counter() - started


def fill(
    store: Store, count: int, *, batch: int, report: Callable[[int], None]
) -> tuple[float, float]:
    """Insert `count` articles in transactions of `batch`; return (database seconds, wall seconds)."""
    conn = store.db.conn
    # A bulk load's only tuning: a 256 MiB page cache, so the random inserts into the content-hash
    # and URL indexes stay in memory; WAL, synchronous=FULL and the FTS5 triggers are as in service.
    conn.execute("pragma cache_size = -262144")
    sql = f"insert into articles ({ARTICLE_COLUMNS}) values ({', '.join('?' * 18)})"
    topic_sql = f"insert into article_topics ({TOPIC_COLUMNS}) values (?, ?, ?, ?, ?)"

    def write(values: list[tuple], topic_rows: list[tuple]) -> None:
        with conn:  # one transaction per batch; the FTS5 triggers index every row
            conn.executemany(sql, values)
            conn.executemany(topic_sql, topic_rows)

    return load(count, batch=batch, write=write, report=report)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Return the milliseconds of `runs` calls of fn."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def latencies(store: Store, *, runs: int, warm: int = 1) -> dict[str, list[float]]:
    """Time each query kind over its query list, `runs` times each (after `warm` warm-up passes)."""
    db = store.db
    since = START + SPAN - timedelta(days=365)
    calls: dict[str, list[Callable[[], object]]] = {
        "one-word": [lambda q=q: search(db, q) for q in QUERIES["one-word"]],
        "phrase": [lambda q=q: search(db, q) for q in QUERIES["phrase"]],
        "filtered": [
            lambda q=q, s=s, t=t: search(db, q, source=s, since=since, topic=t)
            for q, (s, t) in zip(
                QUERIES["filtered"],
                itertools.cycle(
                    [
                        ("tass-com", "politics-diplomacy"),
                        ("kremlin-en", "economy"),
                        ("mid-en", "military-cooperation"),
                        ("belta-en", "peacekeeping"),
                        ("tass-ru", "politics-diplomacy"),
                        ("kremlin-ru", "economy"),
                        ("mid-ru", "military-cooperation"),
                        ("odkb-ru", "peacekeeping"),
                    ]
                ),
            )
        ],
        # The last year alone: the walk by id whose generic plan read every match (BENCHMARKS.md).
        "dated": [lambda q=q: search(db, q, since=since) for q in QUERIES["filtered"]],
        "latest": [
            lambda: latest(db, limit=5),
            lambda: latest(db, limit=5, topic="economy"),
            lambda: latest(db, limit=5, source="tass-ru"),
        ],
        # `search --lang de` with no words, where no article is in German: the walk of every
        # article it made before (the reference), and `search`'s check first (storage/facets.py).
        "latest no-language walk": [lambda: latest(db, lang="de")],
        "latest no-language checked": [lambda: absent(db, lang="de") or latest(db, lang="de")],
    }
    results = {}
    for kind, fns in calls.items():
        for fn in fns:
            for _ in range(warm):  # the first call pays for opening pages; more pass psycopg's
                fn()  # prepare threshold (5 runs of a text) as a long-lived process does
        results[kind] = [ms for fn in fns for ms in timed(fn, runs)]
    return results


def p95(values: list[float]) -> float:
    """Return the 95th percentile (the one value of a single run: `--runs 1` times one call of
    the no-language listing)."""
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=20, method="inclusive")[-1]
