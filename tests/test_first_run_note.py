"""A source's first poll says in its log line what it did with what it found: how many it posted
as usual and how many it recorded silently, never "except the newest 1" of none or "the newest 0"."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.config import config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import Store

LISTING = "".join(
    f'<a href="/news/{n}">Statement number {n} of the ministry</a>\n' for n in (3, 2, 1)
)
ARTICLE = """<html lang="en"><head><title>Statement {n}</title>
<meta property="article:published_time" content="2026-05-1{n}T09:00:00+03:00"></head>
<body><article><h1>Statement {n}</h1><p>Statement {n}. The ministry discussed regional security,
the situation on the borders and plans for joint exercises later this year.</p></article></body>
</html>"""


@pytest.fixture
def site(sites):
    """A synthetic listing of three articles, newest first."""
    sites.add("/news/", f"<html><body>{LISTING}</body></html>")
    for n in (1, 2, 3):
        sites.add(f"/news/{n}", ARTICLE.format(n=n))
    return sites


def _first_polls(tmp_path: Path, site, caplog, *, backfills: list[int]) -> list[str]:
    """Poll one source per backfill, each reading the same listing for the first time, in turn;
    return the notes of each poll's log line."""
    sources = [
        {
            "key": f"ministry-{i}",
            "url": f"{site.base_url}/news/",
            # Each its own pattern: two sources of one address and pattern are refused.
            "link_pattern": rf"^http://127\.0\.0\.1:\d+/news/\d+{'/?' * i}$",
            "backfill": backfill,
        }
        for i, backfill in enumerate(backfills)
    ]
    fetch = {"allow_private_addresses": True, "min_delay_per_host": 0, "retries": 0}
    config = config_from_dict(
        {"storage": {"path": str(tmp_path / "archive.db")}, "fetch": fetch, "sources": sources},
        path=tmp_path / "presswatch.toml",
    )

    async def go() -> None:
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
                for source in config.sources:
                    await poll_source(source, ctx)
        finally:
            store.close()

    with caplog.at_level(logging.INFO, logger="bot.ingest.poll"):
        asyncio.run(go())
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.ingest.poll"]
    # "ok, " or "partial, " (an article failed): the notes follow the status.
    return [line.split("/news/: ", 1)[1].split(", ", 1)[1] for line in lines if "/news/: " in line]


@pytest.mark.parametrize(
    ("backfill", "note"),
    [
        (1, "3 links, 3 new (first run: the newest 1 as usual, 2 older recorded silently)"),
        (0, "3 links, 3 new (first run: recorded silently)"),
        (5, "3 links, 3 new (first run: none recorded silently)"),
    ],
)
def test_a_first_run_says_how_many_it_recorded_silently(
    site, tmp_path, caplog, backfill, note
) -> None:
    assert _first_polls(tmp_path, site, caplog, backfills=[backfill]) == [note]


def test_a_first_run_that_finds_only_archived_links_claims_no_posts(site, tmp_path, caplog) -> None:
    # The second source lists what the first one stored: it has nothing new to post or hold.
    notes = _first_polls(tmp_path, site, caplog, backfills=[1, 1])
    assert notes[1] == "3 links, 0 new (first run)"


def test_a_first_run_counts_what_it_stored_to_post_not_what_it_meant_to(
    site, tmp_path, caplog
) -> None:
    # The newest, the one meant to post, fails to read and stays unseen: nothing went out as
    # usual. The note used to take the newest 1 as posted and the other 2 as 1.
    site.add("/news/3", "down for a while", status=503)
    notes = _first_polls(tmp_path, site, caplog, backfills=[1])
    assert notes == ["3 links, 2 new (first run: recorded silently; 1 article failed)"]
