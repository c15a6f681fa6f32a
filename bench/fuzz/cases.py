"""Fuzz cases through the parsing sandbox: mutated real pages and feeds, each outcome classified.

An outcome is "ok", a documented error's class name (NotHTML, NotAFeed, NoLinksFound…), or one
of the sandbox's own: TooSlowToParse (the deadline stopped it), TooLargeToParse, ParserFailed
(an undocumented exception escaped the parsers, or the worker died). Anything else reaching the
caller is undocumented too; no exception may escape the jobs but a documented one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scrapers import Link, ParserFailed, ScrapeError, Source
from scrapers.encoding import decode_html
from scrapers.jobs import page_article, source_links
from scrapers.sandbox import Sandbox
from tests.fakes.hostile import Mutator, crafted_feeds, crafted_pages, issue_feeds, issue_pages

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
URL = "https://ministry.example/news/1"
PAGE_SOURCE = Source(key="ministry", url="https://ministry.example/news/", timezone="Europe/Moscow")
FEED_SOURCE = Source(key="ministry", url="https://ministry.example/rss", kind="feed")


@dataclass
class Outcomes:
    """What the cases of one kind (pages or feeds) came to."""

    counts: dict[str, int] = field(default_factory=dict)
    undocumented: list[dict] = field(default_factory=list)
    caught: list[dict] = field(default_factory=list)
    slowest: list[tuple[float, int, int, str]] = field(default_factory=list)  # s, case, bytes, kind
    seconds: float = 0.0

    def add(self, case: int, size: int, kind: str, elapsed: float, detail: str = "") -> None:
        """Count one case's outcome."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in ("ParserFailed", "undocumented"):
            self.undocumented.append({"case": case, "bytes": size, "error": detail[:300]})
        elif "raised" in kind or "unexpected" in kind:  # a library's error a catch-all took
            self.caught.append({"case": case, "bytes": size, "error": detail[:300]})
        self.slowest = sorted([*self.slowest, (elapsed, case, size, kind)], reverse=True)[:5]

    def as_dict(self) -> dict:
        """Return the outcomes as JSON-ready data."""
        return {
            "cases": sum(self.counts.values()),
            "outcomes": dict(sorted(self.counts.items())),
            "undocumented": self.undocumented,
            "caught": self.caught,
            "too_slow": self.counts.get("TooSlowToParse", 0),
            "slowest": [
                {"seconds": round(s, 3), "case": c, "bytes": b, "outcome": k}
                for s, c, b, k in self.slowest
            ],
            "seconds": round(self.seconds, 1),
        }


def page_seeds() -> list[bytes]:
    """Return the seed pages: every saved page of the repository, the issue's and crafted ones."""
    saved = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.html"))]
    crafted = [make(40) for make in crafted_pages.values()]
    small = [page for page in issue_pages.values() if len(page) < 200_000]
    return saved + crafted + small


def feed_seeds() -> list[bytes]:
    """Return the seed feeds: every saved feed of the repository, the issue's and crafted ones."""
    saved = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.xml"))]
    crafted = [make(40) for make in crafted_feeds.values()]
    small = [feed for feed in issue_feeds.values() if len(feed) < 200_000]
    return saved + crafted + small


def cases(kind: str, count: int, *, seed: int) -> list[bytes]:
    """Return `count` mutated documents of a kind ("page" or "feed"), the same for a seed."""
    seeds = page_seeds() if kind == "page" else feed_seeds()
    mutator = Mutator(seed, seeds=seeds)
    return [mutator.case() for _ in range(count)]


class _Backstops(logging.Handler):
    """Count the library failures a catch-all turned into an absent body (scrapers/body.py)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage().startswith("body extraction failed")


async def run_cases(sandbox: Sandbox, kind: str, documents: list[bytes], progress) -> Outcomes:
    """Parse each document in the sandbox, a worker's worth at a time; classify the outcomes."""
    outcomes, queue = Outcomes(), list(enumerate(documents))
    began, backstops = time.perf_counter(), _Backstops()
    logging.getLogger("scrapers.body").addHandler(backstops)

    async def lane() -> None:
        while queue:
            case, document = queue.pop(0)
            start = time.perf_counter()
            outcome, detail = await _one(sandbox, kind, document)
            outcomes.add(case, len(document), outcome, time.perf_counter() - start, detail)
            progress(kind, case)

    try:
        await asyncio.gather(*(lane() for _ in range(sandbox.size)))
    finally:
        logging.getLogger("scrapers.body").removeHandler(backstops)
    outcomes.seconds = time.perf_counter() - began
    if backstops.count:
        outcomes.counts["ok, body extraction failed (caught)"] = backstops.count
    return outcomes


async def _one(sandbox: Sandbox, kind: str, document: bytes) -> tuple[str, str]:
    """Return one document's outcome and, for an error, its message."""
    try:
        if kind == "page":
            link = Link(url=URL, canonical_url=URL)
            html = decode_html(document, content_type="text/html")  # as the fetcher decodes
            await sandbox.run(
                URL, page_article, link, source=PAGE_SOURCE, now=NOW, html=html, url=URL
            )
        else:
            text = decode_html(document)
            listing = await sandbox.run(
                FEED_SOURCE.url,
                source_links,
                FEED_SOURCE,
                content=document,
                text=text,
                base_url=FEED_SOURCE.url,
            )
            caught = [s.reason for s in listing.skipped if s.reason.startswith("unexpected")]
            if caught:  # an item's unexpected error, skipped by the per-item catch-all
                return "ok, an item skipped on an unexpected error", caught[0]
    except ParserFailed as exc:
        return "ParserFailed", str(exc)
    except ScrapeError as exc:
        if "cannot be read (" in str(exc):  # feedparser raised: its catch-all made it NotAFeed
            return f"{type(exc).__name__} (feedparser raised)", str(exc)
        return type(exc).__name__, str(exc)
    except Exception as exc:  # noqa: BLE001 - the one thing the fuzz looks for
        return "undocumented", f"{type(exc).__name__}: {exc}"
    return "ok", ""
