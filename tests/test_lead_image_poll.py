"""The lead image through a poll: a synthetic press site on a loopback server, a real SQLite file.

A site that shows one share picture with every article (its "default" image, however named) has
it found out twice: the listing page declares it for itself, or a second article shows the one an
earlier article of the same source already showed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import poll_context
from bot.config import config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import Store
from tests.fakes.sites import FakeSites


def synthetic_article(n: int, og_image: str, figure: str = "") -> str:
    """Return a synthetic press release page with an og:image and maybe a figure."""
    return (
        f'<html><head><title>Release {n}</title><meta property="og:image" content="{og_image}">'
        f"</head><body><article><h1>Release number {n} on the new trade rules</h1>"
        "<p>The ministry announced new rules for cross-border trade on Monday morning.</p>"
        f"{figure}<p>The rules take effect next month, the ministry's press office said.</p>"
        "</article></body></html>"
    )


def synthetic_listing(og_image: str = "") -> str:
    """Return a synthetic listing page linking releases 1 and 2, maybe with its own og:image."""
    head = f'<meta property="og:image" content="{og_image}">' if og_image else ""
    return (
        f"<html><head><title>Press releases</title>{head}</head><body>"
        '<a href="/press/2">Release 2</a><a href="/press/1">Release 1</a></body></html>'
    )


def poll_once(tmp_path: Path, site: FakeSites) -> dict[str, str | None]:
    """Poll the site once as a new html source; return each stored article's image by path."""
    config = config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "fetch": {"allow_private_addresses": True, "min_delay_per_host": 0, "retries": 0},
            "channels": [],
            "sources": [{"key": "ministry", "url": f"{site.base_url}/press/",
                         "link_pattern": r"/press/\d+$", "robots": False}],
        },
        path=tmp_path / "presswatch.toml",
    )  # fmt: skip

    async def go():
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
                await poll_source(config.source("ministry"), ctx)
            rows = store.db.query("select url, image_url from articles order by id")
            return {r["url"].removeprefix(site.base_url): r["image_url"] for r in rows}
        finally:
            store.close()

    return asyncio.run(go())


def test_the_second_article_showing_the_first_one_s_image_has_none(tmp_path) -> None:
    with FakeSites() as site:
        site.add("/press/", synthetic_listing())
        site.add("/press/1", synthetic_article(1, "/media/brand-card.jpg"))
        site.add("/press/2", synthetic_article(2, "/media/brand-card.jpg"))
        images = poll_once(tmp_path, site)
        card = f"{site.base_url}/media/brand-card.jpg"
    # Oldest first: release 1 is stored first and keeps the picture nobody showed before.
    assert images == {"/press/1": card, "/press/2": None}


def test_the_listing_s_own_image_is_no_article_s_and_the_figure_wins(tmp_path) -> None:
    with FakeSites() as site:
        site.add("/press/", synthetic_listing("/media/brand-card.jpg"))
        figure = '<figure><img src="/media/2026/signing.jpg" alt="Signing"></figure>'
        site.add("/press/1", synthetic_article(1, "/media/brand-card.jpg", figure))
        site.add("/press/2", synthetic_article(2, "/media/brand-card.jpg"))
        images = poll_once(tmp_path, site)
        base = site.base_url
    assert images == {"/press/1": f"{base}/media/2026/signing.jpg", "/press/2": None}
