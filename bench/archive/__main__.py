"""Run the archive bench: python -m bench.archive [--articles N] [--db PATH | --url URL] [--reuse]."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bench.archive
import bot.archive
from bench.archive import postgres
from bench.archive.measure import fill, latencies, p95
from bot.config import config_from_dict
from tests.fakes.postgres import SETTINGS


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.archive", description=bench.archive.__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--articles", type=int, default=1_000_000, help="articles to insert (default 1,000,000)"
    )
    parser.add_argument(
        "--db", type=Path, default=Path("bench-archive.db"), help="SQLite file to create"
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="a PostgreSQL database to fill instead (postgresql://user@host/db, empty or --reuse)",
    )
    parser.add_argument(
        "--pgdata",
        type=Path,
        metavar="DIR",
        help="instead of --url: a PostgreSQL cluster kept in DIR (made the first time), started "
        "for this run and stopped after it; its database `archive`",
    )
    parser.add_argument(
        "--shared-buffers",
        metavar="SIZE",
        help="with --pgdata: the server's shared_buffers for this run (default "
        f"{SETTINGS['shared_buffers']}, the tests')",
    )
    parser.add_argument("--batch", type=int, default=20000, help="articles per transaction")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query")
    parser.add_argument(
        "--warm", type=int, default=1, help="untimed runs of each query first (past 10: prepared)"
    )
    parser.add_argument(
        "--reference-prepared",
        action="store_true",
        help="first time the queries with the ranking statements prepared (the code before a7389c2)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="skip the fill: time queries on an existing --db"
    )
    args = parser.parse_args(argv)
    command = "python -m bench.archive " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.pgdata and args.url:
        parser.error("give either --url or --pgdata")
    if args.shared_buffers and not args.pgdata:
        parser.error("--shared-buffers sets the server of --pgdata: give --pgdata DIR too")
    if not args.reuse and not (args.url or args.pgdata) and args.db.exists():
        parser.error(f"{args.db} exists: remove it, pick another --db, or pass --reuse")
    if not args.pgdata:
        return _bench(args, parser, command)
    with postgres.kept_cluster(args.pgdata, shared_buffers=args.shared_buffers) as url:
        args.url = url
        return _bench(args, parser, command)


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser, command: str) -> int:
    """Fill the archive (unless --reuse), time its queries, and print the table."""
    # The archive as short commands open it (bot.archive.open_archive): migrated, WAL, synchronous=FULL.
    where = {"url": args.url} if args.url else {"path": str(args.db)}
    config = config_from_dict(
        {"storage": where},
        path=args.db.parent / "p.toml",
        database_password=os.environ.get("PRESSWATCH_DATABASE_PASSWORD", ""),
    )
    with bot.archive.open_archive(config) as store:
        rates = None
        if args.url and not args.reuse and store.db["articles"].count:
            parser.error(f"{args.url} holds articles: give an empty database, or pass --reuse")
        if not args.reuse:
            in_db, wall = (postgres.fill if args.url else fill)(
                store,
                args.articles,
                batch=args.batch,
                report=lambda n: print(f"\rinserted {n:,}", end="", file=sys.stderr, flush=True),
            )
            rates = (args.articles / in_db, args.articles / wall)
            # Printed at once: the query timings that follow can take a while on a big archive.
            print(
                f"\nfilled {args.articles:,} articles: {in_db:,.0f} s in the database "
                f"({rates[0]:,.0f}/s), {wall:,.0f} s wall ({rates[1]:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
        if args.url:
            size, engine = postgres.size_and_version(store)
            engine = f"PostgreSQL {engine}"
        else:
            store.db.execute("pragma wal_checkpoint(truncate)")
            size, engine = os.path.getsize(args.db), f"SQLite {_sqlite_version()}"
        count = store.db.execute("select count(*) from articles").fetchone()[0]
        if args.reference_prepared:
            with prepared_ranking():
                before = latencies(store, runs=args.runs, warm=args.warm)
        times = latencies(store, runs=args.runs, warm=args.warm)
    if args.reference_prepared:
        print("Reference: ranking statements prepared\n")
        print(
            table(count=count, size=size, rates=None, times=before, command=command, engine=engine)
        )
        print()
    print(table(count=count, size=size, rates=rates, times=times, command=command, engine=engine))
    return 0


def table(
    *,
    count: int,
    size: int,
    rates: tuple[float, float] | None,
    times: dict[str, list[float]],
    command: str,
    engine: str,
) -> str:
    """Return the results as Markdown."""
    lines = [
        f"`{command}` ({count:,} articles, {engine})",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
    ]
    if rates is not None:
        lines.append(f"| insert rate (database time) | {rates[0]:,.0f} articles/s | ≥ 5,000/s |")
        lines.append(
            f"| insert rate (wall, text generation included) | {rates[1]:,.0f} articles/s | |"
        )
    lines.append(
        f"| database size | {size / 2**20:,.0f} MiB, {size / count:,.0f} bytes/article | |"
    )
    for kind, values in times.items():
        listing = kind.startswith("latest")
        goal = "" if listing else "p95 < 50 ms"
        lines.append(
            f"| `{'latest' if listing else 'search'}` {kind.removeprefix('latest ')}: median / p95 "
            f"({len(values)} runs) | {_ms(statistics.median(values))} / {_ms(p95(values))} ms | {goal} |"
        )
    return "\n".join(lines)


def _ms(value: float) -> str:
    """Return milliseconds as the table shows them: two decimals below one, else one."""
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


@contextmanager
def prepared_ranking() -> Iterator[None]:
    """Run PostgreSQL's ranking statements as psycopg's default does (prepared after 5 runs)."""
    from storage.postgres import search as pg_search

    unprepared = pg_search._ranked
    pg_search._ranked = lambda db, sql, params: db.execute(sql, params).fetchall()
    try:
        yield
    finally:
        pg_search._ranked = unprepared


def _sqlite_version() -> str:
    """Return the SQLite library version."""
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    sys.exit(main())
