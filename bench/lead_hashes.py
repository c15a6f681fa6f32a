"""Time m025, the upgrade that hashes each source's newest leads, against hashing every lead.

An archive from before m024 keeps no lead hashes; m025 fills them for each source's 50 newest
articles (storage/migrations/part2.py). The reference, in the same run on the same archive, is
the unbounded fill: the same lead_key for every article with a lead, in one pass. The archive is
bench/archive's synthetic one (its fill writes no hashes, as an archive from before m024), made
once with `--fill` and reused; every run starts from all hashes NULL (reset, untimed).

    nice -n 19 python -m bench.lead_hashes --db /tmp/a1m.db --fill --articles 1000000 --runs 0
    flock /work/bench.lock python -m bench.lead_hashes --db /tmp/a1m.db --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.archive.measure import fill
from storage import Store
from storage.migrations.part2 import RECENT_LEADS, m025_recent_lead_hashes
from storage.records import lead_key


def _every_lead(db) -> None:
    """Hash every article's lead: the upgrade without m025's bound (the reference)."""
    rows = db.execute("select id, lead from articles where lead_hash is null").fetchall()
    hashed = [(digest, id_) for id_, lead in rows if (digest := lead_key(lead or ""))]
    db.conn.executemany("update articles set lead_hash = ? where id = ?", hashed)


def _timed(store: Store, upgrade, runs: int) -> tuple[list[float], int]:
    """Return the seconds of `runs` upgrades from all hashes NULL, and the rows each hashed."""
    seconds, hashed = [], 0
    for _ in range(runs):
        with store.db.conn:
            store.db.execute("update articles set lead_hash = null where lead_hash is not null")
        started = time.perf_counter()
        with store.db.conn:  # one transaction, as the migration runs in
            upgrade(store.db)
        seconds.append(time.perf_counter() - started)
        hashed = store.db.execute(
            "select count(*) from articles where lead_hash is not null"
        ).fetchone()[0]
    return seconds, hashed


def main(argv: list[str] | None = None) -> int:
    """Fill the archive (with --fill), then time both upgrades on it and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.lead_hashes")
    parser.add_argument("--db", type=Path, required=True, help="bench/archive's synthetic archive")
    parser.add_argument("--fill", action="store_true", help="make the archive first (not timed)")
    parser.add_argument("--articles", type=int, default=1_000_000, help="articles --fill makes")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each upgrade")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.fill:
        if args.db.exists():
            parser.error(f"{args.db} exists: remove it or leave out --fill")
        store = Store.open(args.db)
        try:
            fill(store, args.articles, batch=20000, report=lambda done: None)
        finally:
            store.close()
    if not args.runs:
        return 0
    store = Store.open(args.db)
    try:
        articles = store.db.execute("select count(*) from articles").fetchone()[0]
        bounded, few = _timed(store, m025_recent_lead_hashes, args.runs)
        every, many = _timed(store, _every_lead, args.runs)
    finally:
        store.close()
    result = {
        "articles": articles,
        "m025_seconds": bounded,
        "m025_hashed": few,
        "every_lead_seconds": every,
        "every_lead_hashed": many,
        "ratio": statistics.median(bounded) / statistics.median(every),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"| upgrade of {articles:,} articles | leads hashed | median s (runs) |\n|---|---|---|")
    print(f"| m025 ({RECENT_LEADS} newest per source) | {few:,} | "
          f"{statistics.median(bounded):.3f} ({', '.join(f'{s:.3f}' for s in bounded)}) |")  # fmt: skip
    print(f"| every lead (reference) | {many:,} | "
          f"{statistics.median(every):.2f} ({', '.join(f'{s:.2f}' for s in every)}) |")  # fmt: skip
    print(f"ratio m025 / every lead: {result['ratio']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
