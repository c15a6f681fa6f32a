"""What the storing transaction's claim (storage/claim.py) costs a new article on PostgreSQL.

`python -m bench.claims [--articles N] [--runs R]` starts a throw-away PostgreSQL server, and
stores N synthetic new articles (random texts from the polling bench's words, none a reprint)
through `Intake.store` as a poll does, in runs interleaved with the same code whose claim is
turned off (`Store.storing` yielding None: main's path, one pipelined transaction), each run on
a fresh database: one worker alone, and two workers (two stores in this process, taking turns,
so each one's claim reads the other's article). Wall time and this process's CPU per article,
medians of the runs; the server's CPU is not in them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Channel, Corrections, config_from_dict
from bot.ingest.enrich import Enricher
from bot.ingest.intake import Intake
from scrapers.models import Article
from storage import Store
from storage.postgres.backend import PostgresBackend
from tests.fakes.postgres import Server, binaries, create_database

NOW = datetime(2026, 12, 7, tzinfo=UTC)
_WORDS = (
    "ministry statement council summit treaty security cooperation defence meeting delegation "
    "agreement region border forces talks minister secretary president parliament economy trade "
    "energy grain exercise peacekeeping union assembly"
).split()  # bench/scale/feeds.py's


def _article(n: int) -> Article:
    """Return synthetic article n: 150 random words, as the polling bench's feeds give."""
    rng = random.Random(n)
    words = " ".join(rng.choice(_WORDS) for _ in range(150))
    url = f"https://bench.example/{n}"
    return Article(url=url, canonical_url=url, title=f"release {n}", lang="en", body=words)


@contextmanager
def _unclaimed():
    """Turn the claim off: Store.storing yields None, as on SQLite (main's PostgreSQL path)."""

    @contextmanager
    def none(*_args, **_kwargs):
        yield None

    saved = Store.storing
    Store.storing = none
    try:
        yield
    finally:
        Store.storing = saved


def _run(server: Server, name: str, *, workers: int, articles: int, claimed: bool) -> tuple:
    """Store `articles` new articles through `workers` stores in turn; return wall and CPU ms each."""
    backend = PostgresBackend(create_database(server, name), max_size=workers + 1)
    config = config_from_dict({}, path=Path("bench.toml"))
    stores = [backend.open() for _ in range(workers)]  # the first migrates the fresh database
    intakes = []
    for store in stores:
        store.near_duplicates(now=NOW)
        intakes.append(
            Intake(
                Enricher(config.enrich, store),
                store,
                channels=(Channel("main", "@main"),),
                corrections=Corrections.EDIT,
            )
        )
    try:
        with _unclaimed() if not claimed else nullcontext():
            wall, cpu = time.perf_counter(), time.process_time()
            for n in range(articles):
                when = NOW + timedelta(seconds=n)
                intakes[n % workers].store(f"s{n % 7}", _article(n), post=True, now=when)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for store in stores:
            store.close()
        backend.close()
    return wall / articles * 1000, cpu / articles * 1000


def main() -> None:
    """Run the comparison and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.claims")
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = Server(binaries())
    server.start()
    try:
        results: dict[tuple[int, bool], list[tuple]] = {}
        count = 0
        for _ in range(args.runs):
            for workers in (1, 2):
                for claimed in (True, False):
                    count += 1
                    got = _run(
                        server,
                        f"b{count}",
                        workers=workers,
                        articles=args.articles,
                        claimed=claimed,
                    )
                    results.setdefault((workers, claimed), []).append(got)
    finally:
        server.stop()
    print(f"{args.articles} new articles a run, medians of {args.runs} interleaved runs")
    print("| workers | claim | wall ms/article | CPU ms/article (this process) |")
    print("|---:|---|---:|---:|")
    for (workers, claimed), runs in sorted(results.items()):
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| {workers} | {'on' if claimed else 'off (main)'} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
