"""What checking the archive's file after every row costs an export read as immutable.

A reader who may not write the archive's folder reads it as immutable (storage/readonly.py), and
since fix8 each row is checked (one stat of the file) so that every row printed was read before
any writer touched the file. This bench fills a fresh archive with synthetic articles (the
archive bench's corpus), then streams it through the export's writer over two connections to the
same file, in alternation: an immutable one without the checks (the reference), the checked
immutable one, and a plain read-only (WAL) one for comparison; it prints the median of each and
the checked one's ratio to the reference.

    python -m bench.immutable_export --articles 50000 --runs 5
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from sqlite_utils import Database

from bench.archive.measure import fill
from bot.cli.archive import _write_export
from bot.cli.progress import Progress
from storage import Store, readonly
from storage.reports import Reports


def _connections(path: Path) -> dict[str, sqlite3.Connection]:
    """Return the reference (immutable, unchecked), the checked immutable and a WAL reader."""
    uri = f"{path.as_uri()}?mode=ro&immutable=1"
    checked = sqlite3.connect(uri, uri=True, factory=readonly._Immutable)
    checked.watch(path)
    return {
        "immutable": sqlite3.connect(uri, uri=True),
        "checked": checked,
        "wal": sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True),
    }


def _export(conn: sqlite3.Connection) -> float:
    """Return the seconds the export's writer takes over every row (JSON lines, to memory)."""
    rows = Reports(Database(conn, execute_plugins=False)).articles()
    progress = Progress(0, stream=io.StringIO(), enabled=False, label="export")
    started = time.perf_counter()
    _write_export(rows, io.StringIO(), "jsonl", progress, bom="")
    return time.perf_counter() - started


def main() -> None:
    """Fill, then time both connections in alternation; print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.db"
        store = Store.open(path)
        fill(store, args.articles, batch=10_000, report=lambda done: None)
        store.close()
        conns = _connections(path)
        for conn in conns.values():
            _export(conn)  # warm the page cache for both
        times: dict[str, list[float]] = {name: [] for name in conns}
        for _ in range(args.runs):
            for name, conn in conns.items():
                times[name].append(_export(conn))
        medians = {name: statistics.median(values) for name, values in times.items()}
        if args.json:
            print(json.dumps({"runs": times, "medians": medians}))
            return
        for name, values in times.items():
            runs = ", ".join(f"{v:.3f}" for v in values)
            print(f"{name:9} median {medians[name]:.3f} s  ({runs})")
        extra = (medians["checked"] - medians["immutable"]) / args.articles * 1e6
        ratio = medians["checked"] / medians["immutable"]
        print(f"checked / immutable: {ratio:.3f}  ({extra:+.1f} µs a row)")


if __name__ == "__main__":
    main()
