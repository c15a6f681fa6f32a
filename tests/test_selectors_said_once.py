"""A source's selector that stops matching is said in the poll log once, and again only after
it matched in between and an hour passed (bot/ingest/misses.py).

Polls of a synthetic press site on a loopback server, through one poll context as a service keeps
it, its pages read in the parsing sandbox's workers: the missed names come back with each result.
The poll's clock is injected: each poll is at a given number of hours after the first.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import poll_context, reconfigure
from bot.ingest.misses import SAY_AGAIN_AFTER, SelectorMisses
from bot.ingest.poll import poll_source
from scrapers import Selectors, Source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from tests.fakes.sites import FakeSites
from tests.support.ministry import one_source_config, page, synthetic_listing, synthetic_story

SAID = "matched nothing on"
LINE = (
    "ministry: selectors.body matched nothing on {}; generic extraction used"
    " (said again only after it matched and an hour passed)"
)
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def polls(sites: FakeSites, tmp_path: Path, fork_server, steps, recheck="0", **selectors) -> list:
    """Poll the site once per step (hours after the first poll, the listing's releases newest
    first, and pages served anew before it: {n: html}) with `selectors`; return the warnings."""
    source = {"key": "ministry", "url": f"{sites.base_url}/press/", "robots": False,
              "link_pattern": r"/press/\d+$", "recheck": recheck, "selectors": selectors}  # fmt: skip
    config = one_source_config(tmp_path / "archive.db", source)
    hours = [0.0]
    said = []

    async def go():
        store = Store.open(config.storage_path)
        sandbox = Sandbox(deadline=10.0, memory_mb=512, server=fork_server)
        clock = lambda: START + timedelta(hours=hours[0])  # noqa: E731 - the injected clock
        try:
            async with make_client(config.fetch) as client:
                fetcher = Fetcher(client, config.fetch)
                ctx = poll_context(
                    config, fetcher=fetcher, store=store, parser=sandbox, clock=clock
                )
                for hours[0], numbers, served in steps:
                    for n, html in served.items():
                        sites.add(f"/press/{n}", html)
                    sites.add("/press/", synthetic_listing(*numbers))
                    handler = _Lines()
                    logging.getLogger("bot.ingest").addHandler(handler)
                    try:
                        run = await poll_source(config.sources[0], ctx)
                    finally:
                        logging.getLogger("bot.ingest").removeHandler(handler)
                    assert run.status == "ok", run.error
                    said.append([line for line in handler.lines if SAID in line])
        finally:
            sandbox.close()
            store.close()

    asyncio.run(go())
    return said


class _Lines(logging.Handler):
    """Keep the message of each warning logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def site():
    with FakeSites() as sites:
        for n in (1, 2, 4):
            sites.add(f"/press/{n}", page(n))  # the story is in a bare <p>: the selector misses
        sites.add("/press/3", synthetic_story(3))
        yield sites


@pytest.mark.parametrize("later", [1, 0.5])
def test_a_selector_missing_on_two_pages_is_said_once_then_again_after_it_matched_an_hour_on(
    site, tmp_path, fork_server, later
) -> None:
    """Page 3 matches between misses; the miss after it is said only once an hour passed."""
    steps = [(0, (2, 1), {}), (later / 2, (3, 2, 1), {}), (later, (4, 3, 2, 1), {})]
    said = polls(site, tmp_path, fork_server, steps, body="div.story")
    again = [LINE.format(f"{site.base_url}/press/4")] if later >= 1 else []
    assert said == [[LINE.format(f"{site.base_url}/press/1")], [], again]


def test_a_recheck_of_an_older_page_does_not_count_as_a_match(site, tmp_path, fork_server) -> None:
    """Release 1 is corrected into the matching template; only its re-read shows it."""
    steps = [(0, (1,), {}), (2, (2, 1), {1: synthetic_story(1)}), (4, (4, 2, 1), {})]
    said = polls(site, tmp_path, fork_server, steps, recheck="1d", body="div.story")
    assert said == [[LINE.format(f"{site.base_url}/press/1")], [], []]


def test_an_unset_selector_is_never_said(site, tmp_path, fork_server) -> None:
    said = polls(site, tmp_path, fork_server, [(0, (2, 1), {}), (1, (4, 3, 2, 1), {})], title="h1")
    assert said == [[], []]


def test_a_reload_does_not_say_again_what_was_said(tmp_path) -> None:
    source = {
        "key": "ministry",
        "url": "https://ministry.example/press/",
        "link_pattern": "/press/",
    }
    config = one_source_config(tmp_path / "archive.db", source)
    store = Store.in_memory()
    poll = poll_context(config, fetcher=None, store=store)
    app = SimpleNamespace(
        config=config, fetcher=None, store=store, relay=None, sender=None, poll=poll
    )
    url = "https://ministry.example/press/1"
    assert poll.selector_misses.note(config.sources[0], url, ("body",), now=START) == ("body",)
    reconfigure(app, config)
    assert app.poll is not poll
    assert app.poll.selector_misses.note(config.sources[0], url, ("body", "date"), now=START) == (
        "date",
    )
    store.close()


def test_a_selector_changed_by_a_reload_is_said_when_it_misses_too(tmp_path) -> None:
    def config(body: str):
        source = {"key": "ministry", "url": "https://ministry.example/press/",
                  "link_pattern": "/press/", "selectors": {"body": body}}  # fmt: skip
        return one_source_config(tmp_path / "archive.db", source)

    old, new = config("div.old"), config("div.new")
    store = Store.in_memory()
    poll = poll_context(old, fetcher=None, store=store)
    app = SimpleNamespace(config=old, fetcher=None, store=store, relay=None, sender=None, poll=poll)
    url = "https://ministry.example/press/1"
    assert poll.selector_misses.note(old.sources[0], url, ("body",), now=START) == ("body",)
    reconfigure(app, new)
    assert app.poll.selector_misses.note(new.sources[0], url, ("body",), now=START) == ("body",)
    assert app.poll.selector_misses.note(new.sources[0], url, ("body",), now=START) == ()
    store.close()


def test_a_selector_matching_on_every_other_page_is_said_at_most_once_an_hour() -> None:
    """Synthetic: an author element only on signed stories, 20 pages read a minute apart."""
    misses = SelectorMisses()
    source = Source(key="x", url="https://x.example/", selectors=Selectors(author=".byline"))

    def said(minute: int, missed: tuple[str, ...] = ("author",)) -> bool:
        now = START + timedelta(minutes=minute)
        return bool(misses.note(source, f"https://x.example/{minute}", missed, now=now))

    assert [said(n, ("author",) if n % 2 else ()) for n in range(20)] == [n == 1 for n in range(20)]
    hour = SAY_AGAIN_AFTER // timedelta(minutes=1)
    assert said(hour) is False  # matched since, but said at minute 1: not yet an hour
    assert said(hour + 1) is True
    assert [said(hour + 2 + n * hour) for n in range(5)] == [False] * 5  # never matched since
