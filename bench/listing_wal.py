"""Count the WAL bytes SQLite writes to keep a 5,000-link listing's links (m028).

A synthetic listing (a URL and a title each, one picture for all), a row per link: its first
keep, the same again, the same links under a new ETag, and one new link with the oldest gone.
Bytes, not time: deterministic for one SQLite build, so one run; no lock needed.

    python -m bench.listing_wal
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from scrapers import Link
from storage import Store
from storage.listed_links import ListedLinks


def _links(start: int, count: int) -> tuple[Link, ...]:
    """Return synthetic press-release links `start` … `start + count - 1`."""
    base = "https://www.example.gov/en/press/releases/2026/12/{:07d}-talks-on-the-rail-corridor/"
    return tuple(
        Link(
            url=base.format(n),
            canonical_url=base.format(n),
            title=f"Minister met the delegation on the rail corridor and grain exports, round {n}",
            site_image="https://www.example.gov/static/logo.png",
        )
        for n in range(start, start + count)
    )


def measure(count: int = 5000) -> dict[str, int]:
    """Return the WAL bytes each keep of a `count`-link listing writes."""
    steps = {
        "first keep": ListedLinks('"aaaa"', None, _links(0, count)),
        "the same again": ListedLinks('"aaaa"', None, _links(0, count)),
        "new ETag, same links": ListedLinks('"bbbb"', None, _links(0, count)),
        "one new link, the oldest gone": ListedLinks('"cccc"', None, _links(1, count)),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.db"
        wal = Path(f"{path}-wal")
        store = Store.open(path)
        written = {}
        try:
            for name, listed in steps.items():
                store.db.conn.execute("pragma wal_checkpoint(truncate)")  # the WAL starts empty
                before = wal.stat().st_size if wal.exists() else 0
                store.sources.keep_listed_links("ministry", listed)
                written[name] = wal.stat().st_size - before
        finally:
            store.close()
    return written


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
