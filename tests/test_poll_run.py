"""The common poll writes its run with its last new article, in one transaction (on PostgreSQL
one round trip); a write that fails leaves the run to be recorded on its own, as before.

Both backends; a synthetic full-text feed on loopback, polled through the service's poll context.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

import pytest

from bot.app import poll_context
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import InProcess
from storage import Store
from storage.dialect import is_postgres
from storage.sources import Sources
from tests.fakes.sites import FakeSites
from tests.support.ministry import one_source_config
from tests.support.postgres import rows


def _item(base: str, n: int) -> str:
    """Return synthetic release n as an RSS item with its full text."""
    return (
        f"<item><title>Release {n}</title><link>{base}/news/{n}</link>"
        f"<description>Release {n} says {n}.</description>"
        f"<content:encoded><![CDATA[<p>Release {n} in full: {n} things happened.</p>]]>"
        f"</content:encoded><pubDate>Mon, {n:02d} Jun 2026 10:00:00 +0000</pubDate></item>"
    )


def _poll(store: Store, tmp_path, count: int):
    """Poll a synthetic feed of `count` new items once into `store`; return the run."""
    with FakeSites() as sites:
        rss = '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        items = "".join(_item(sites.base_url, n) for n in range(count, 0, -1))
        sites.add("/rss", f"{rss}<channel><title>M</title>{items}</channel></rss>",
                  content_type="application/rss+xml")  # fmt: skip
        url = f"{sites.base_url}/rss"
        source = {"key": "m", "kind": "feed", "url": url, "robots": False, "fetch_pages": False}
        config = one_source_config(tmp_path / "unused.db", source)

        async def go():
            async with make_client(config.fetch) as client:
                fetcher = Fetcher(client, config.fetch)
                ctx = poll_context(config, fetcher=fetcher, store=store, parser=InProcess())
                return await poll_source(config.sources[0], ctx)

        return asyncio.run(go())


def _outside(backend, sql: str):
    """Return a query's first value read on a connection of its own (committed rows only)."""
    if is_postgres(backend):
        return rows(backend.url, sql)[0][0]
    with closing(sqlite3.connect(backend.path)) as conn:
        return conn.execute(sql).fetchone()[0]


def _seen_at_each_run(backend, monkeypatch) -> list[int]:
    """Count, as each run is recorded, the articles committed as another connection sees them."""
    seen, record = [], Sources.record_run

    def counting(self, *args, **kwargs):
        seen.append(_outside(backend, "select count(*) from articles"))
        record(self, *args, **kwargs)

    monkeypatch.setattr(Sources, "record_run", counting)
    return seen


def test_the_run_is_written_in_its_last_new_articles_transaction(
    backend, store, tmp_path, monkeypatch
):
    seen = _seen_at_each_run(backend, monkeypatch)
    run = _poll(store, tmp_path, 2)
    # The first article was committed on its own; the second not yet: the run is in its write.
    assert (run.status, run.new_articles, seen) == ("ok", 2, [1])
    state, at = store.sources.state("m"), run.finished_at.replace(microsecond=0)  # kept in seconds
    assert (state.last_poll_at, state.baseline_at, store.health.read("m").newest_at) == (at,) * 3
    assert _outside(backend, "select count(*) from articles") == 2
    if is_postgres(store.db):
        # One transaction: the run, the source's row and the newest article share its id.
        xids = "select count(distinct x) from (select xmin::text as x from runs union all " \
               "select xmin::text from sources union all " \
               "select xmin::text from articles where id = (select max(id) from articles)) t"  # fmt: skip
        assert _outside(backend, xids) == 1


def test_a_last_article_whose_write_fails_leaves_the_run_recorded_on_its_own(
    store, tmp_path, monkeypatch
):
    record = Sources.record_run

    def failing_with_the_article(self, run, **kwargs):
        record(self, run, **kwargs)  # made, then the article's transaction fails after it
        if run.new_articles == 2:
            raise RuntimeError("the archive failed at the last article's commit")

    monkeypatch.setattr(Sources, "record_run", failing_with_the_article)
    run = _poll(store, tmp_path, 2)
    assert (run.status, run.new_articles) == ("partial", 1)
    assert "the archive failed" in run.error
    runs = store.db.query("select status, new_articles from runs")
    assert [(r["status"], r["new_articles"]) for r in runs] == [("partial", 1)]
    assert [r["url"][-7:] for r in store.db.query("select url from articles")] == ["/news/1"]


@pytest.mark.parametrize("more", ["failing", "due"])
def test_a_poll_with_more_to_do_records_its_run_after_its_articles(
    backend, store, tmp_path, monkeypatch, more
):
    if more == "failing":  # not healthy: its health is read and decided with the run
        store.health.save("m", health="failing", empty_polls=0, now=datetime.now(UTC))
    else:  # an archived article due for a re-read: the run ends after the re-read
        _poll(store, tmp_path, 1)
        store.db.execute("update articles set checked_at = null")
    seen = _seen_at_each_run(backend, monkeypatch)
    run = _poll(store, tmp_path, 2)
    assert (run.new_articles, seen) == (2, [2]) if more == "failing" else (1, [2])
