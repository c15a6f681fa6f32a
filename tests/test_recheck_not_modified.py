"""A listing page that answers 304 still has its articles re-read on their schedule (`recheck`):
a correction on an article's page, the listing unchanged, becomes a new version (the soak saw 4
of 23 corrections lost so). Through the real poll path, on a synthetic press site on loopback,
its pages parsed in the sandbox's workers; the poll's clock is injected (minutes after the first).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import poll_context, reconfigure
from bot.ingest.listed import Listed
from bot.ingest.poll import poll_source
from scrapers import Link
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from storage.listed_links import ListedLinks
from tests.fakes.sites import FakeSites
from tests.support.ministry import one_source_config, page, synthetic_listing

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CORRECTED = page(1).replace("</p>", " An earlier version misstated the round.</p>")


def _polls(sites: FakeSites, tmp_path: Path, fork_server, steps, *, kind="html") -> list:
    """Poll once per step (minutes after the first, pages served anew before it, as html or
    (html, status)); return per poll (status, hits of /press/1 so far, article_versions rows)."""
    listing = "/press/" if kind == "html" else "/rss"
    source = {"key": "ministry", "kind": kind, "url": f"{sites.base_url}{listing}",
              "robots": False, "link_pattern": r"/press/\d+$", "recheck": "6h"}  # fmt: skip
    config = one_source_config(tmp_path / "archive.db", source)
    minutes = [0.0]
    seen = []

    async def go() -> None:
        store = Store.open(config.storage_path)
        sandbox = Sandbox(deadline=10.0, memory_mb=512, server=fork_server)
        clock = lambda: START + timedelta(minutes=minutes[0])  # noqa: E731 - the injected clock
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(
                    config,
                    fetcher=Fetcher(client, config.fetch),
                    store=store,
                    parser=sandbox,
                    clock=clock,
                )
                for minutes[0], served in steps:
                    for path, html in served.items():
                        html, status = html if isinstance(html, tuple) else (html, 200)
                        if path == "/press/" and kind == "feed":
                            path, html = listing, _feed(sites.base_url, html)
                        etag = '"v1"' if path == listing else None
                        sites.add(path, html, status=status, etag=etag)
                    run = await poll_source(config.sources[0], ctx)
                    (versions,) = store.db.execute(
                        "select count(*) from article_versions"
                    ).fetchone()
                    seen.append((str(run.status), sites.hits("/press/1"), versions))
        finally:
            sandbox.close()
            store.close()

    asyncio.run(go())
    return seen


def _feed(base_url: str, listing_html: str) -> str:
    """Return a synthetic RSS feed of the releases a synthetic listing page links to."""
    numbers = re.findall(r'href="/press/(\d+)"', listing_html)
    items = "".join(
        f"<item><title>Release {n}</title><link>{base_url}/press/{n}</link></item>" for n in numbers
    )
    channel = f"<channel><title>M</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


@pytest.mark.parametrize("kind", ["html", "feed"])
def test_a_corrected_page_under_an_unchanged_listing_is_re_read_when_due(
    tmp_path, fork_server, kind
) -> None:
    """Poll 1 reads the listing (ETag "v1": a listing page, or a feed whose items' text is read
    from their pages) and both pages; release 1 is corrected. The listing answers 304 from then
    on: at 20 minutes nothing is due (re-reads are 30 minutes apart, no page fetched), at 40
    release 1 is re-read and its correction kept, at 50 not again."""
    with FakeSites() as sites:
        sites.add("/press/2", page(2))
        first = {"/press/1": page(1), "/press/": synthetic_listing(2, 1)}
        steps = [(0, first), (20, {"/press/1": CORRECTED}), (40, {}), (50, {})]
        seen = _polls(sites, tmp_path, fork_server, steps, kind=kind)
    assert seen == [
        ("ok", 1, 0),
        ("not_modified", 1, 0),
        ("not_modified", 2, 1),
        ("not_modified", 2, 1),
    ]


def test_a_page_that_fails_its_re_read_waits_its_half_hour_like_any_other(
    tmp_path, fork_server
) -> None:
    """Release 1's page answers 500 from the second poll on, the listing 304: its failed re-read
    at 40 minutes counts as its check, so the polls at 50, 60 and 65 do not fetch it again
    (before, every poll did, and it kept a slot of the three)."""
    with FakeSites() as sites:
        sites.add("/press/2", page(2))
        first = {"/press/1": page(1), "/press/": synthetic_listing(2, 1)}
        broken = {"/press/1": ("server error", 500)}
        steps = [(0, first), (20, broken), (40, {}), (50, {}), (60, {}), (65, {})]
        seen = _polls(sites, tmp_path, fork_server, steps)
    assert [hits for _, hits, _ in seen] == [1, 1, 2, 2, 2, 2]


def test_a_reload_keeps_the_listings_of_sources_still_configured(tmp_path) -> None:
    """A reload's new poll context keeps the listings last read (their 304 rechecks go on), but
    not a removed source's."""
    source = {"key": "ministry", "url": "http://127.0.0.1:9/press/", "link_pattern": "/press/"}
    config = one_source_config(tmp_path / "archive.db", source)
    store = Store.in_memory()
    app = SimpleNamespace(
        config=config, fetcher=None, store=store, relay=None, sender=None,
        poll=poll_context(config, fetcher=None, store=store),
    )  # fmt: skip
    link = Link(url="http://127.0.0.1:9/press/1", canonical_url="http://127.0.0.1:9/press/1")
    listed = Listed(ListedLinks('"v1"', None, (link,)), kept=True)
    app.poll.listings.update(ministry=listed, removed=listed)
    before = app.poll
    reconfigure(app, config)
    assert app.poll is not before and app.poll.listings == {"ministry": listed}
