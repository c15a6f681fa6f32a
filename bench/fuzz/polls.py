"""Fuzzed polls of a loopback site: a mutated feed or listing and mutated pages, then a clean poll.

The first poll of each case is a source's first run over hostile documents; the second serves the
clean feed with one new release. Checked: a poll never raises; a first poll that read its links
(status ok or partial) records the baseline; once the baseline is there, the new release is
queued for posting. A lost baseline or a missed post is a failure of the case.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.fuzz.cases import page_seeds
from bot.app import poll_context
from bot.config import config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from tests.fakes.hostile import Mutator
from tests.fakes.sites import FakeSites

ITEMS = 4
FRESH_TITLE = "New release on the rail corridor"
FRESH = (
    f"<html><body><h1>{FRESH_TITLE}</h1><p>"
    + "The ministry announced the opening of the rail corridor to the port on Monday. " * 6
    + "</p></body></html>"
)


@dataclass
class Polls:
    """What the fuzzed polls came to."""

    cases: int = 0
    first_status: dict[str, int] = field(default_factory=dict)
    raised: list[str] = field(default_factory=list)
    lost_baselines: list[int] = field(default_factory=list)
    missed_posts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return the outcomes as JSON-ready data."""
        return {
            "cases": self.cases,
            "first_poll_status": dict(sorted(self.first_status.items())),
            "raised": self.raised,
            "lost_baselines": self.lost_baselines,
            "missed_posts": self.missed_posts,
        }


async def run_polls(sandbox: Sandbox, count: int, *, seed: int, progress) -> Polls:
    """Run `count` fuzzed poll cases, alternating feed and listing sources."""
    polls, rng = Polls(), random.Random(seed)
    mutator = Mutator(seed, seeds=page_seeds())
    with tempfile.TemporaryDirectory() as folder, loopback_only():
        for case in range(count):
            kind = "feed" if case % 2 == 0 else "html"
            with FakeSites() as site:
                await _case(sandbox, site, Path(folder) / f"{case}.db", kind, mutator, rng, polls)
            polls.cases += 1
            progress("poll", case)
    return polls


async def _case(sandbox, site, db, kind, mutator, rng, polls: Polls) -> None:
    """Poll a hostile copy of the site once, then the clean one with a new release."""
    base = site.base_url
    clean = _index(kind, base, range(ITEMS, 0, -1))
    site.add("/index", mutator.mutate(clean), content_type=_type(kind))
    for n in range(1, ITEMS + 1):
        site.add(f"/news/{n}", mutator.case())
    config = _config(db, kind, base)
    case = polls.cases
    try:
        first = await _poll(config, sandbox, db)
        polls.first_status[first.status] = polls.first_status.get(first.status, 0) + 1
        baseline = _baseline(db)
        if first.status in ("ok", "partial") and baseline is None:
            polls.lost_baselines.append(case)
        site.add("/index", _index(kind, base, range(ITEMS + 1, 0, -1)), content_type=_type(kind))
        site.add(f"/news/{ITEMS + 1}", FRESH)
        await _poll(config, sandbox, db)
        if baseline is not None and not _posted(db):
            polls.missed_posts.append(case)
    except Exception as exc:  # noqa: BLE001 - poll_source must never raise: count it
        polls.raised.append(f"case {case}: {type(exc).__name__}: {exc}")


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse name lookups and connections beyond loopback: a mutated link may name any host."""
    lookup, connect, connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def guarded_lookup(host, *args, **kwargs):
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"{host!r} not looked up: loopback only")
        return lookup(host, *args, **kwargs)

    def guarded(real):
        def call(sock, address):
            if isinstance(address, tuple) and not _loopback(address[0]):
                raise ConnectionRefusedError(f"{address!r}: loopback only")
            return real(sock, address)

        return call

    socket.getaddrinfo = guarded_lookup
    socket.socket.connect, socket.socket.connect_ex = guarded(connect), guarded(connect_ex)
    try:
        yield
    finally:
        socket.getaddrinfo = lookup
        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex


def _loopback(host) -> bool:
    """Tell whether a host is a loopback address or "localhost"."""
    host = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _index(kind: str, base: str, numbers) -> bytes:
    """Return a clean feed or listing page linking to releases `numbers`."""
    if kind == "html":
        links = "".join(
            f'<li><a href="/news/{n}">Release {n} of the ministry</a></li>' for n in numbers
        )
        return f"<html><body><ul>{links}</ul></body></html>".encode()
    items = "".join(
        f"<item><title>Release {n}</title><link>{base}/news/{n}</link>"
        f"<pubDate>Mon, {n:02d} Jun 2026 10:00:00 +0000</pubDate></item>"
        for n in numbers
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>M</title>{items}</channel></rss>'.encode()


def _type(kind: str) -> str:
    """Return the content type a site serves its index with."""
    return "text/html; charset=utf-8" if kind == "html" else "application/rss+xml"


def _config(db: Path, kind: str, base: str):
    """Return a config with one source on the loopback site, backfill 0."""
    source = {
        "key": "ministry",
        "kind": kind,
        "url": f"{base}/index",
        "link_pattern": r"/news/\d+$",
        "robots": False,
        "backfill": 0,
    }
    return config_from_dict(
        {
            "storage": {"path": str(db)},
            "fetch": {"min_delay_per_host": 0, "allow_private_addresses": True, "retries": 0},
            "channels": [{"name": "main", "chat_id": "@main"}],
            "sources": [source],
        },
        path=db.parent / "presswatch.toml",
    )


async def _poll(config, sandbox: Sandbox, db: Path):
    """Poll the source once through the sandbox."""
    store = Store.open(db)
    try:
        async with make_client(config.fetch) as client:
            fetcher = Fetcher(client, config.fetch)
            ctx = poll_context(config, fetcher=fetcher, store=store, parser=sandbox)
            return await poll_source(config.sources[0], ctx)
    finally:
        store.close()


def _baseline(db: Path):
    """Return the source's baseline time, or None."""
    store = Store.open(db)
    try:
        return store.sources.state("ministry").baseline_at
    finally:
        store.close()


def _posted(db: Path) -> bool:
    """Tell whether the new release is queued for posting."""
    store = Store.open(db)
    try:
        return any(row["title"] == FRESH_TITLE for row in store.outbox.listing(["pending"]))
    finally:
        store.close()
