"""A listing page that answers 304 still has its articles re-read on their schedule (`recheck`):
a correction on an article's page, the listing unchanged, becomes a new version (the soak saw 4
of 23 corrections lost so). Through the real poll path, on a synthetic press site on loopback,
its pages parsed in the sandbox's workers; the poll's clock is injected (minutes after the first).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import poll_context
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from tests.fakes.sites import FakeSites
from tests.support.ministry import one_source_config, page, synthetic_listing

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CORRECTED = page(1).replace("</p>", " An earlier version misstated the round.</p>")


def _polls(sites: FakeSites, tmp_path: Path, fork_server, steps, *, kind="html") -> list:
    """Poll once per step (minutes after the first, pages served anew before it); return per
    poll (status, hits of /press/1 so far, article_versions rows)."""
    source = {"key": "ministry", "url": f"{sites.base_url}/press/", "robots": False,
              "link_pattern": r"/press/\d+$", "recheck": "6h"}  # fmt: skip
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
                        sites.add(path, html, etag='"v1"' if path == "/press/" else None)
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


def test_a_corrected_page_under_an_unchanged_listing_is_re_read_when_due(
    tmp_path, fork_server
) -> None:
    """Poll 1 reads the listing (ETag "v1") and both pages; release 1 is corrected. The listing
    answers 304 from then on: at 20 minutes nothing is due (re-reads are 30 minutes apart, no
    page fetched), at 40 release 1 is re-read and its correction kept, at 50 not again."""
    with FakeSites() as sites:
        sites.add("/press/2", page(2))
        first = {"/press/1": page(1), "/press/": synthetic_listing(2, 1)}
        steps = [(0, first), (20, {"/press/1": CORRECTED}), (40, {}), (50, {})]
        seen = _polls(sites, tmp_path, fork_server, steps)
    assert seen == [
        ("ok", 1, 0),
        ("not_modified", 1, 0),
        ("not_modified", 2, 1),
        ("not_modified", 2, 1),
    ]
