"""Cost of local days: stats' months and a dated search, per source zone against the UTC queries.

Runs on an archive bench/archive filled (`python -m bench.archive --db FILE`), read only. The
reference is what the commands ran before local days, in the same process, alternated run by run:
the months of `substr(published_at, 1, 7)` and a search bounded by one UTC moment. The measured
sides are Reports.months (UTC months, then each zone's month-start windows moved), the months as
they were counted before those windows (per-source UTC hours on boundary days, folded in each
source's zone; checked equal first) and the same search with a per-source bound
(bot.cli.common.local_days over the zones below).

    flock /work/bench.lock python -m bench.localdays --db /tmp/a200k.db --runs 7
    flock /work/bench.lock python -m bench.localdays --url postgresql://… --runs 7
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive import open_archive
from bot.cli.common import local_days
from bot.config import config_from_dict
from scrapers import Source
from storage import Store
from storage.dialect import is_postgres
from storage.reports import _MONTHS
from storage.search import search

SINCE = datetime(2023, 1, 1, tzinfo=UTC)
# stats' months before zone windows (commit 276eec5 and earlier): per source, the UTC hour on the
# days a zone can move an article into another month, else the UTC month; folded in Python.
BEFORE = (
    """select source_key, case when substr(published_at, 9, 2) in ('01', '28', '29', '30', '31')
              then substr(published_at, 1, 13) else substr(published_at, 1, 7) end, count(*)
       from articles group by 1, 2""",
    """select source_key, case when extract(day from published_at at time zone 'UTC')
              in (1, 28, 29, 30, 31)
              then to_char(published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24')
              else to_char(published_at at time zone 'UTC', 'YYYY-MM') end, count(*)
       from articles group by 1, 2""",
)
QUERIES = ("security", "санкции", '"collective security"', "summit")


def _ms(fn: Callable[[], object]) -> float:
    """Return the milliseconds of one call of fn."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _before(store: Store, zones: dict[str, str]) -> list[dict]:
    """Return the months as stats counted them before zone windows."""
    months: Counter[str | None] = Counter()
    for source, hour, n in store.db.execute(BEFORE[is_postgres(store.db)]).fetchall():
        if hour is None or len(hour) == 7:
            months[hour] += n
            continue
        moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        months[f"{moment.astimezone(ZoneInfo(zones.get(source, 'UTC'))):%Y-%m}"] += n
    ordered = sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return [{"key": key, "articles": n} for key, n in ordered]


def main(argv: list[str] | None = None) -> int:
    """Time both sides alternately and print a Markdown table of medians and ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench.localdays")
    parser.add_argument("--db", help="an SQLite archive bench.archive filled")
    parser.add_argument("--url", help="or a PostgreSQL one (bench.archive --url)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--passes", type=int, help="instead: time the searches pass by pass on one connection"
    )
    parser.add_argument(
        "--no-prepare", action="store_true", help="with --passes: psycopg never prepares"
    )
    args = parser.parse_args(argv)
    if not args.db and not args.url:
        parser.error("give --db or --url")
    where = {"url": args.url} if args.url else {"path": args.db}
    config = config_from_dict({"storage": where}, path=Path("p.toml"), database_password="")
    with open_archive(config, read_only=True) as store:
        if args.passes:
            if args.no_prepare:
                store.db.conn.prepare_threshold = None
            _passes(store, args.passes)
        else:
            _compare(store, args.runs)
    return 0


def _passes(store: Store, passes: int) -> None:
    """Print each pass's search times (ms), UTC bound then local: psycopg prepares a statement
    once it ran 5 times, and on PostgreSQL that is when a search slows down."""
    bound = local_days(SINCE, _sources(store))
    print("| pass | UTC bound (ms) | local bound (ms) |\n|---|---|---|")
    for n in range(passes):
        utc = [round(_ms(lambda q=q: search(store.db, q, since=SINCE))) for q in QUERIES]
        local = [round(_ms(lambda q=q: search(store.db, q, since=bound))) for q in QUERIES]
        print(f"| {n} | {utc} | {local} |")


def _sources(store: Store) -> list[Source]:
    """Return the archive's sources in the shipped zones: Moscow, and Minsk for BelTA."""
    keys = [k for (k,) in store.db.execute("select distinct source_key from articles")]
    return [
        Source(
            key=k,
            url=f"https://{k}.example/",
            timezone="Europe/Minsk" if "belta" in k else "Europe/Moscow",
        )
        for k in keys
    ]


def _compare(store: Store, runs: int) -> None:
    """Time each side against its reference, alternately, and print the table."""
    sources = _sources(store)
    keys = [s.key for s in sources]
    zones = {s.key: s.timezone for s in sources}
    bound = local_days(SINCE, sources)
    utc = _MONTHS[is_postgres(store.db)]
    windows = store.reports.months(zones=zones)
    if windows != _before(store, zones):
        raise SystemExit("zone windows and hours gave different months")
    sides = {
        "months (zone windows)": (
            lambda: store.db.execute(utc).fetchall(),
            lambda: store.reports.months(zones=zones),
        ),
        "months (before: hours on the 1st and 28th-31st)": (
            lambda: store.db.execute(utc).fetchall(),
            lambda: _before(store, zones),
        ),
        "dated search": (
            lambda: [search(store.db, q, since=SINCE) for q in QUERIES],
            lambda: [search(store.db, q, since=bound) for q in QUERIES],
        ),
    }
    count = store.db.execute("select count(*) from articles").fetchone()[0]
    print(f"{count:,} articles, {len(keys)} sources, {runs} runs each after a warm-up\n")
    print("| query | UTC (ms, median) | local days (ms, median) | ratio |\n|---|---|---|---|")
    for name, (reference, measured) in sides.items():
        reference(), measured()  # warm-up: pages into the cache
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(runs):
            times[0].append(_ms(reference))
            times[1].append(_ms(measured))
        old, new = statistics.median(times[0]), statistics.median(times[1])
        print(f"| {name} | {old:.1f} | {new:.1f} | **{new / old:.2f}** |")


if __name__ == "__main__":
    raise SystemExit(main())
