"""Each hostile construct parsed in this process at two sizes: time more than linear shows here.

A construct is built at the size n where its document passes 100 kB, then at 4n; the ratio of
the times is about 4 for linear work and 16 for quadratic. A run past 60 s is cut off.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime

from scrapers import ScrapeError, Source, extract_article
from scrapers.discover import read_feed
from tests.fakes.hostile import crafted_feeds, crafted_pages

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FEED = Source(key="ministry", url="https://ministry.example/rss", kind="feed")
_CUT_OFF = 60


class _CutOff(Exception):
    """A run took longer than the cut-off."""


def _page(document: bytes) -> None:
    extract_article(document.decode("utf-8", "replace"), url="https://ministry.example/a", now=NOW)


def _feed(document: bytes) -> None:
    try:
        read_feed(document, source=FEED)
    except ScrapeError:
        pass


def _timed(parse: Callable[[bytes], None], document: bytes) -> float | None:
    """Return the seconds a parse took, or None past the cut-off."""

    def stop(*_):
        raise _CutOff

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(_CUT_OFF)
    began = time.perf_counter()
    try:
        parse(document)
        return time.perf_counter() - began
    except _CutOff:
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def scaling(progress) -> list[dict]:
    """Time every crafted page and feed construct at n and 4n."""
    rows = []
    for kind, makers, parse in (("page", crafted_pages, _page), ("feed", crafted_feeds, _feed)):
        for name, make in makers.items():
            n = 10
            while len(make(n)) < 100_000:
                n *= 2
            small, large = make(n), make(4 * n)
            first, second = _timed(parse, small), _timed(parse, large)
            ratio = second / first if first and second else None
            rows.append(
                {
                    "kind": kind,
                    "construct": name,
                    "n": n,
                    "kb": (round(len(small) / 1e3), round(len(large) / 1e3)),
                    "seconds": (first, second),
                    "ratio": ratio,
                }
            )
            progress(kind, name)
    return rows
