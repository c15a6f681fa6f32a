"""What a grown poll history costs, before and after m027's indexes and the runs upkeep.

Copies an archive (the soak's, /tmp/soak15run/archive.db by default) without m027, adds the
synthetic runs rows `--days` of polling every `--every` seconds would leave to each source (1
poll in 50 an error, the last 12 of `--failing` errors: a source failing now), then times in one
process, medians of `--runs`: the health read after a poll (the query before m027, then
SourceHealth.read after it), `presswatch status`'s full read (storage/status.py), m027 itself, a
whole upkeep pass (storage/history.py: rows older than 30 days deleted in batches) and its
slowest batch, and both reads again after it. The health answers before and after must agree.

    python -m bench.runs_history --days 365 --every 600 --runs 5
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from storage import history
from storage.alerts import SourceHealth
from storage.migrations import migrations
from storage.status import read_snapshot

# The health read's failing-since before m027: every run of the source, for each failed one.
BEFORE = """select (select min(started_at) from runs where source_key = s.key and status = ?
    and id > coalesce((select max(id) from runs where source_key = s.key and status != ?), 0))
    from sources s where s.key = ?"""
M027 = "m027_runs_status_indexes"


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    """Return the median wall time of `runs` calls of fn, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def _before_m027(db: Database) -> None:
    """Bring the copy to the schema before m027 (an archive this presswatch wrote is after it)."""
    if M027 not in {m.name for m in migrations.applied(db)}:
        migrations.apply(db, stop_before=M027)
    elif db.execute("select 1 from _sqlite_migrations where name = ?", [M027]).fetchone():
        db.execute("drop index idx_runs_source_key_status_id")
        db.execute("drop index idx_runs_source_key_started_at_status")
        db.execute("create index idx_runs_source_key_started_at on runs (source_key, started_at)")
        db.execute("delete from _sqlite_migrations where name = ?", [M027])
        db.conn.commit()


def _grow(db: Database, days: float, every: int, failing: str) -> int:
    """Add the synthetic runs of `days` of polls every `every` seconds to each source."""
    keys = [row[0] for row in db.execute("select key from sources order by key").fetchall()]
    now = datetime.now(UTC)
    n = int(days * 86400 / every)
    for key in keys:
        rows = []
        for i in range(n):
            at = (now - timedelta(seconds=(n - i) * every)).isoformat(timespec="seconds")
            error = i % 50 == 7 or (key == failing and i >= n - 12)
            status = "error" if error else "not_modified"
            rows.append((key, at, at, status, 0, 0, "HTTP 500 (synthetic)" if error else None))
        db.conn.executemany(
            "insert into runs (source_key, started_at, finished_at, status, links_found, "
            "new_articles, error) values (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.conn.commit()
    return n


def measure(archive: Path, days: float, every: int, runs: int, failing: str, keys: list[str]):
    """Return the figures of one copy of `archive` grown by `days` of polls."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        path = Path(tmp) / "grown.db"
        source = sqlite3.connect(f"{archive.as_uri()}?mode=ro", uri=True)
        db = Database(sqlite3.connect(path))
        source.backup(db.conn)
        source.close()
        _before_m027(db)
        out: dict = {"days": days, "every_s": every, "per_source": _grow(db, days, every, failing)}
        out["runs_rows"] = db.execute("select count(*) from runs").fetchone()[0]
        out["db_MB"] = round(path.stat().st_size / 2**20, 1)

        def before(key: str) -> str | None:
            return db.execute(BEFORE, ["error", "error", key]).fetchone()[0]

        answers = {k: before(k) for k in keys}
        out["health_before_ms"] = {k: _median_ms(lambda k=k: before(k), runs) for k in keys}
        status = lambda: read_snapshot(path, full=True, deadline=120)  # noqa: E731
        out["status_before_ms"] = _median_ms(status, runs)
        started = time.perf_counter()
        migrations.apply(db)
        out["m027_s"] = round(time.perf_counter() - started, 2)
        health = SourceHealth(db)
        after = {k: health.read(k).failing_since for k in keys}
        out["same_answers"] = all(
            (a and datetime.fromisoformat(a)) == after[k] for k, a in answers.items()
        )
        out["failing_since"] = {k: a for k, a in answers.items()}
        out["health_after_ms"] = {k: _median_ms(lambda k=k: health.read(k), runs) for k in keys}
        out["status_after_ms"] = _median_ms(status, runs)
        batches, deleted = [], 0
        started = time.perf_counter()
        pass_ = history.prune(db, before=datetime.now(UTC) - history.KEPT)
        while True:
            at = time.perf_counter()
            n = next(pass_, None)
            if n is None:
                break
            batches.append(time.perf_counter() - at)
            deleted += n
        out["upkeep_s"] = round(time.perf_counter() - started, 2)
        out["upkeep_deleted"] = deleted
        out["upkeep_batch_max_ms"] = round(max(batches, default=0) * 1000, 1)
        out["upkeep_batch_median_ms"] = round(statistics.median(batches or [0]) * 1000, 1)
        out["runs_rows_after"] = db.execute("select count(*) from runs").fetchone()[0]
        out["same_answers_after_upkeep"] = all(
            health.read(k).failing_since == a for k, a in after.items()
        )
        out["health_after_upkeep_ms"] = {
            k: _median_ms(lambda k=k: health.read(k), runs) for k in keys
        }
        out["status_after_upkeep_ms"] = _median_ms(status, runs)
        db.conn.close()
        return out


def main() -> None:
    """Parse the arguments, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=Path("/tmp/soak15run/archive.db"))
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--every", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--failing", default="s03")
    parser.add_argument("--keys", default="s00,s03")
    parser.add_argument("--json", action="store_true", help="(it prints JSON anyway)")
    args = parser.parse_args()
    figures = measure(
        args.archive, args.days, args.every, args.runs, args.failing, args.keys.split(",")
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
