"""A source's selector that stops matching is said in the poll log once until it matches again.

Polls of a synthetic press site on a loopback server, through one poll context as a service keeps
it, its pages read in the parsing sandbox's workers: the missed names come back with each result.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import poll_context, reconfigure
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from tests.fakes.sites import FakeSites
from tests.support.ministry import one_source_config, page

SAID = "matched nothing on"


def synthetic_listing(*numbers: int) -> str:
    """Return a synthetic listing page linking releases `numbers`, newest first."""
    links = "".join(f'<a href="/press/{n}">Release {n}</a>' for n in numbers)
    return f"<html><body>{links}</body></html>"


def synthetic_story(n: int) -> str:
    """Return release n's synthetic page with its story in the element the selector names."""
    return page(n).replace("<p>", '<div class="story"><p>').replace("</p>", "</p></div>")


def polls(sites: FakeSites, tmp_path: Path, fork_server, listings, **selectors) -> list:
    """Poll the site once per listing (newest first) with `selectors`; return the warnings."""
    source = {"key": "ministry", "url": f"{sites.base_url}/press/", "robots": False,
              "link_pattern": r"/press/\d+$", "recheck": 0, "selectors": selectors}  # fmt: skip
    config = one_source_config(tmp_path / "archive.db", source)
    said = []

    async def go():
        store = Store.open(config.storage_path)
        sandbox = Sandbox(deadline=10.0, memory_mb=512, server=fork_server)
        try:
            async with make_client(config.fetch) as client:
                fetcher = Fetcher(client, config.fetch)
                ctx = poll_context(config, fetcher=fetcher, store=store, parser=sandbox)
                for numbers in listings:
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


def test_a_selector_missing_on_two_pages_is_said_once_then_again_after_it_matched(
    site, tmp_path, fork_server
) -> None:
    said = polls(site, tmp_path, fork_server, [(2, 1), (3, 2, 1), (4, 3, 2, 1)], body="div.story")
    base = site.base_url
    line = (
        "ministry: selectors.body matched nothing on {}; generic extraction used"
        " (said once until it matches again)"
    )
    assert said == [[line.format(f"{base}/press/1")], [], [line.format(f"{base}/press/4")]]


def test_an_unset_selector_is_never_said(site, tmp_path, fork_server) -> None:
    said = polls(site, tmp_path, fork_server, [(2, 1), (4, 3, 2, 1)], title="h1")
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
    assert poll.selector_misses.note(config.sources[0], url, ("body",)) == ("body",)
    reconfigure(app, config)
    assert app.poll is not poll
    assert app.poll.selector_misses.note(config.sources[0], url, ("body", "date")) == ("date",)
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
    assert poll.selector_misses.note(old.sources[0], url, ("body",)) == ("body",)
    reconfigure(app, new)
    assert app.poll.selector_misses.note(new.sources[0], url, ("body",)) == ("body",)
    assert app.poll.selector_misses.note(new.sources[0], url, ("body",)) == ()
    store.close()
