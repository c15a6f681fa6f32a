"""Faulty sites through real polls: loopback servers, a real SQLite file, another source beside.

Each fault is polled in the same round as a healthy copy of en.interaffairs.ru; the faulty source
must end in the `runs` table with a reason a person can act on, and the healthy one must not care.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

import scrapers.fetch
from bot.app import poll_context
from bot.config import Config, config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import RunRecord, Store
from tests.fakes.sites import FakeSites, Route
from tests.support.world import World

IA = "interaffairs-en"
LISTING = """<html><body><h1>Press releases</h1>
<a href="/press/2001">Foreign ministers of the CSTO meet in Almaty on Friday</a>
<a href="/press/2002">Secretary General briefs the press on the results of the year</a>
</body></html>"""
ARTICLE = """<html lang="en"><head><title>{title}</title>
<meta property="article:published_time" content="2026-05-16T09:00:00+03:00"></head>
<body><article><h1>{title}</h1><p>{title}. The meeting discussed regional security and plans for
joint exercises of the collective forces later this year.</p></article></body></html>"""


class SequencedSites(FakeSites):
    """FakeSites whose paths can answer a sequence of routes, one per request, the last repeating."""

    def __init__(self) -> None:
        super().__init__()
        self.sequences: dict[str, list[Route]] = {}

    def answer(self, path: str, *routes: Route) -> None:
        """Answer `path` with each route in turn."""
        self.sequences[path] = list(routes)

    def route_for(self, path: str) -> Route | None:
        queue = self.sequences.get(path)
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return super().route_for(path)


class Sleeps:
    """Record the pauses the fetcher asks for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Round:
    """What one polling round left behind."""

    runs: dict[str, RunRecord]
    rows: list[dict] = field(default_factory=list)


@pytest.fixture
def world():
    with World((IA,)) as w:
        yield w


@pytest.fixture
def faulty():
    with SequencedSites() as server:
        server.add(
            "/press/2001", ARTICLE.format(title="Foreign ministers of the CSTO meet in Almaty")
        )
        server.add("/press/2002", ARTICLE.format(title="Secretary General briefs the press"))
        yield server


def make_config(
    tmp_path: Path, world: World, faulty: FakeSites, *, path: str = "/press/", **fetch
) -> Config:
    """Return a config with the faulty source and a healthy loopback copy of en.interaffairs.ru."""
    ia = world.url(IA, "")
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "fetch": {
                "allow_private_addresses": True,
                "min_delay_per_host": 0,
                "retries": 2,
                "timeout": 5,
                **fetch,
            },
            "sources": [
                {
                    "key": "faulty",
                    "url": faulty.base_url + path,
                    "link_pattern": "^" + re.escape(faulty.base_url) + r"/press/\d+$",
                },
                {
                    "key": IA,
                    "url": ia + "/",
                    "link_pattern": "^" + re.escape(ia) + "/article/[^/]+/$",
                    "timezone": "Europe/Moscow",
                },
            ],
        },
        path=tmp_path / "presswatch.toml",
    )


def poll_round(config: Config, sleeps: Sleeps) -> Round:
    """Poll every source concurrently, as `presswatch once` does, into the real archive file."""

    async def go() -> dict[str, RunRecord]:
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(
                    config, fetcher=Fetcher(client, config.fetch, sleep=sleeps), store=store
                )
                runs = await asyncio.gather(*(poll_source(s, ctx) for s in config.sources))
                return {run.source_key: run for run in runs}
        finally:
            store.close()

    runs = asyncio.run(go())
    store = Store.open(config.storage_path)
    try:
        rows = list(
            store.db.query("select source_key, status, links_found, new_articles, error from runs")
        )
    finally:
        store.close()
    return Round(runs, rows)


def redirect_chain(sites: FakeSites, *, hops: int) -> None:
    """Serve /r0 → /r1 → … → /r{hops}, the last with the listing."""
    for i in range(hops):
        sites.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    sites.add(f"/r{hops}", LISTING)


def row(result: Round, key: str) -> dict:
    [found] = [r for r in result.rows if r["source_key"] == key]
    return found


def assert_healthy_source_carried_on(result: Round) -> None:
    healthy = row(result, IA)
    assert (healthy["status"], healthy["links_found"], healthy["new_articles"]) == ("ok", 3, 3)


def test_a_500_then_200_listing_is_retried_and_succeeds(world, faulty, tmp_path) -> None:
    faulty.answer("/press/", Route(b"oops", status=500), Route(LISTING.encode()))
    sleeps = Sleeps()
    result = poll_round(make_config(tmp_path, world, faulty), sleeps)
    assert (row(result, "faulty")["status"], row(result, "faulty")["new_articles"]) == ("ok", 2)
    assert faulty.hits("/press/") == 2 and len(sleeps.calls) == 1
    assert_healthy_source_carried_on(result)


def test_a_429_with_retry_after_waits_as_the_server_asks(world, faulty, tmp_path) -> None:
    faulty.answer(
        "/press/",
        Route(b"slow down", status=429, headers={"Retry-After": "7"}),
        Route(LISTING.encode()),
    )
    sleeps = Sleeps()
    result = poll_round(make_config(tmp_path, world, faulty), sleeps)
    assert row(result, "faulty")["status"] == "ok"
    # Our own backoff would be 2-3 s; the server's 7 s wins.
    assert sleeps.calls == [7.0]
    assert_healthy_source_carried_on(result)


def test_a_long_retry_after_fails_the_poll_and_the_source_waits_as_asked(
    world, faulty, tmp_path
) -> None:
    # Slept through inline, a 120 s Retry-After held a whole `once` for 243 s (a walkthrough).
    faulty.answer("/press/", Route(b"slow down", status=429, headers={"Retry-After": "120"}))
    sleeps = Sleeps()
    config = make_config(tmp_path, world, faulty)
    result = poll_round(config, sleeps)
    failed = row(result, "faulty")
    assert failed["status"] == "error" and faulty.hits("/press/") == 1
    assert failed["error"].endswith("HTTP 429 Too Many Requests: rate-limited, asked to wait 120 s")
    assert all(wait < 120 for wait in sleeps.calls)  # only the healthy source's own pacing, if any
    store = Store.open(config.storage_path)
    try:
        state = store.sources.state("faulty")
    finally:
        store.close()
    # Even a first failure, which otherwise waits only the normal interval, waits as asked.
    assert state.consecutive_failures == 1
    assert state.next_poll_at >= state.last_poll_at + timedelta(seconds=120)
    assert_healthy_source_carried_on(result)


def test_a_retry_after_on_a_not_found_listing_does_not_hold_the_source_back(
    world, faulty, tmp_path
) -> None:
    # Only a 429 or 503 asks to be left alone: a 404 sending the header waited an hour at its
    # first failure, while its line did not say it was asked to wait.
    faulty.answer("/press/", Route(b"gone", status=404, headers={"Retry-After": "3600"}))
    config = make_config(tmp_path, world, faulty)
    result = poll_round(config, Sleeps())
    assert row(result, "faulty")["error"].endswith("HTTP 404 Not Found")
    store = Store.open(config.storage_path)
    try:
        state = store.sources.state("faulty")
    finally:
        store.close()
    # A first failure waits only the normal interval.
    assert (state.consecutive_failures, state.next_poll_at) == (1, None)


@pytest.mark.parametrize(
    ("setup", "fetch", "reason", "requests"),
    [
        pytest.param(
            lambda s: s.add("/press/", "missing", status=404),
            {},
            "/press/: HTTP 404 Not Found",
            1,
            id="404 is final",
        ),
        pytest.param(
            lambda s: s.add("/press/", "down", status=503),
            {},
            "/press/: HTTP 503 Service Unavailable",
            3,
            id="503 after two retries",
        ),
        pytest.param(
            lambda s: s.add("/press/", LISTING + " " * 4000, drip=0.01),
            {"timeout": 0.5, "retries": 0},
            "/press/: no complete answer within 0.5s",
            1,
            id="slow drip hits the deadline",
        ),
        pytest.param(
            lambda s: s.add("/press/", "<html>" + " " * 5_000_000 + "</html>", gzip=True),
            {"max_bytes": 100_000},
            "/press/: body is larger than 100000 bytes after decoding",
            1,
            id="gzip bomb stops at the cap",
        ),
        pytest.param(
            lambda s: redirect_chain(s, hops=6),
            {},
            "/r0: more than 5 redirects",
            1,
            id="six redirects",
        ),
    ],
)
def test_a_failure_is_recorded_with_its_reason_and_the_other_source_carries_on(
    world, faulty, tmp_path, setup, fetch, reason, requests
) -> None:
    setup(faulty)
    path = "/r0" if "redirects" in reason else "/press/"
    sleeps = Sleeps()
    result = poll_round(make_config(tmp_path, world, faulty, path=path, **fetch), sleeps)
    failed = row(result, "faulty")
    assert failed["status"] == "error" and failed["error"] == faulty.base_url + reason
    assert faulty.hits(path) == requests
    assert (
        len(sleeps.calls) == requests - 1
    )  # A retry waits (recorded, not slept); a final error does not.
    assert_healthy_source_carried_on(result)


def test_a_redirect_to_a_private_address_is_refused(world, faulty, tmp_path, monkeypatch) -> None:
    real_resolve = scrapers.fetch._resolve

    async def resolve(host: str, port: int):
        # Let the loopback site pass for a public one, so that only the redirect's hop is private.
        if host == "127.0.0.1":
            return [ipaddress.ip_address("93.184.216.34")]
        return await real_resolve(host, port)

    monkeypatch.setattr(scrapers.fetch, "_resolve", resolve)
    faulty.add(
        "/press/", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    config = make_config(tmp_path, world, faulty, allow_private_addresses=False)
    result = poll_round(config, Sleeps())
    failed = row(result, "faulty")
    assert failed["status"] == "error"
    assert failed["error"] == (
        "http://169.254.169.254/latest/meta-data/: 169.254.169.254 resolves to "
        "non-public address 169.254.169.254 (set fetch.allow_private_addresses = "
        "true to allow)"
    )
    assert faulty.hits("/press/") == 1
    assert_healthy_source_carried_on(result)  # Its loopback host passes for public here too.
