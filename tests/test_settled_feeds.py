"""A rebuilt feed of archived items is not parsed again; a poll's few new items come with it.

Any doubt about a rebuilt feed costs a parse, never an article; a joint reading that fails is
read again apart, so that only a bad item fails.

Polls go through one poll context (as the service's), a loopback site and a real archive file;
the parser counts the feed readings it is asked for.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.ingest.poll import poll_source
from scrapers.errors import TooSlowToParse
from scrapers.fetch import Fetcher, make_client
from scrapers.jobs import feed_articles, source_links
from scrapers.sandbox import InProcess
from storage import Store
from storage.subscriptions import Subscriptions
from tests.fakes.sites import FakeSites
from tests.support.clocks import HandClock
from tests.support.ministry import one_source_config


class CountingParser(InProcess):
    """Parse in a thread, as InProcess does, counting the feed readings."""

    def __init__(self) -> None:
        self.readings = 0

    async def run(self, label, job, /, *args, **kwargs):
        self.readings += job in (source_links, feed_articles)
        return await super().run(label, job, *args, **kwargs)


def item(base: str, n: int, *, link: bool = True) -> str:
    """Return release n as an RSS item (with a plain <link>, or only a permalink guid)."""
    url = f"{base}/news/{n}"
    where = f"<link>{url}</link>" if link else f'<guid isPermaLink="true">{url}</guid>'
    return (
        f"<item><title>Release {n}</title>{where}<description>Release {n} says {n}.</description>"
        f"<pubDate>Mon, {n:02d} Jun 2026 10:00:00 +0000</pubDate></item>"
    )


class Feed:
    """One loopback feed, rebuilt on demand, polled through one context with a hand clock."""

    def __init__(self, sites: FakeSites, db: Path) -> None:
        self.sites, self.db, self.built = sites, db, 0
        self.clock = HandClock(datetime(2026, 6, 20, 12, 0, tzinfo=UTC))
        self.parser = CountingParser()
        self.items: list[str] = []

    def publish(self, *items: str) -> None:
        """Serve the feed with `items` (newest first), built anew (a new lastBuildDate)."""
        self.items, self.built = list(items), self.built + 1
        channel = f"<title>M</title><lastBuildDate>build {self.built}</lastBuildDate>"
        rss = '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        body = f'<?xml version="1.0"?>{rss}<channel>{channel}{"".join(items)}'
        self.sites.add("/rss", body + "</channel></rss>", content_type="application/rss+xml")

    async def polls(self, steps) -> list:
        """Run each step (a function of this feed) then a poll; return the runs."""
        url = f"{self.sites.base_url}/rss"
        source = {"key": "m", "kind": "feed", "url": url, "robots": False, "fetch_pages": False}
        config = one_source_config(self.db, source)
        store, runs = Store.open(self.db), []
        try:
            async with make_client(config.fetch) as client:
                fetcher = Fetcher(client, config.fetch)
                ctx = poll_context(
                    config, fetcher=fetcher, store=store, parser=self.parser, clock=self.clock
                )
                for step in steps:
                    step(self)
                    runs.append((await poll_source(config.sources[0], ctx), self.parser.readings))
        finally:
            store.close()
        return runs


@pytest.fixture
def feed(tmp_path):
    with FakeSites() as sites:
        yield Feed(sites, tmp_path / "archive.db")


def summary(runs) -> list[tuple]:
    """Return (status, links found, new articles, feed readings so far) per poll."""
    return [(run.status, run.links_found, run.new_articles, readings) for run, readings in runs]


def test_a_feed_rebuilt_with_the_same_settled_items_is_not_parsed_again(feed) -> None:
    base = feed.sites.base_url
    same = lambda f: f.publish(item(base, 2), item(base, 1))  # noqa: E731
    runs = asyncio.run(feed.polls([same, same, same, same]))
    # The first reading stores both; the second finds both archived (bare links); from then on
    # the same links under a new build are known without a parse, and the poll still counts them.
    assert summary(runs) == [
        ("ok", 2, 2, 1),
        ("ok", 2, 0, 2),
        ("ok", 2, 0, 2),
        ("ok", 2, 0, 2),
    ]


def test_a_new_item_the_scan_cannot_see_is_still_read(feed) -> None:
    # An item with no <link> (its permalink guid is its URL) escapes the quick scan of links,
    # but not the count of items: the feed is parsed and the item stored.
    base = feed.sites.base_url
    same = lambda f: f.publish(item(base, 2), item(base, 1))  # noqa: E731
    hidden = lambda f: f.publish(item(base, 3, link=False), item(base, 2), item(base, 1))  # noqa: E731
    runs = asyncio.run(feed.polls([same, same, hidden]))
    assert summary(runs)[2] == ("ok", 3, 1, 3)
    assert [r["url"] for r in Store.open(feed.db).db.query("select url from articles")] == [
        f"{base}/news/1",
        f"{base}/news/2",
        f"{base}/news/3",
    ]


def test_a_settled_feed_is_parsed_again_when_an_item_falls_due_for_a_re_read(feed) -> None:
    base = feed.sites.base_url
    same = lambda f: f.publish(item(base, 2), item(base, 1))  # noqa: E731

    def later(f: Feed) -> None:
        # Past the half-hour spacing of re-reads, within the 6 h window: both are due again.
        f.clock.now += timedelta(minutes=31)
        same(f)

    runs = asyncio.run(feed.polls([same, same, same, later]))
    assert [readings for _, readings in runs] == [1, 2, 2, 3]


class JobLog(CountingParser):
    """Parse in a thread, noting each job's name; a job named in `fail` raises instead."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.jobs: list[str] = []
        self.fail = fail

    async def run(self, label, job, /, *args, **kwargs):
        self.jobs.append(job.__name__)
        if job.__name__ in self.fail:
            raise TooSlowToParse(f"{label}: too slow to parse (over 1s; its worker was stopped)")
        return await super().run(label, job, *args, **kwargs)


def full_item(base: str, n: int) -> str:
    """Return release n as an RSS item carrying its full text."""
    body = " ".join(f"Paragraph {k} of release {n} on the water treaty talks." for k in range(8))
    return item(base, n).replace(
        "</item>", f"<content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>"
    )


def two_polls(feed: Feed, parser: JobLog) -> list:
    """Poll a full-text feed of two items, then again with a third; return the runs."""
    base, feed.parser = feed.sites.base_url, parser
    first = lambda f: f.publish(full_item(base, 2), full_item(base, 1))  # noqa: E731
    news = lambda f: f.publish(full_item(base, 3), full_item(base, 2), full_item(base, 1))  # noqa: E731
    return asyncio.run(feed.polls([first, news]))


def test_a_new_full_text_item_is_read_along_with_its_feed_in_one_job(feed) -> None:
    parser = JobLog()
    runs = two_polls(feed, parser)
    assert [run.new_articles for run, _ in runs] == [2, 1]
    # Each poll reads the feed and its few new items (two, then one) in one job, none apart.
    assert parser.jobs == ["feed_articles", "feed_articles"]
    [body] = Store.open(feed.db).db.execute("select body from articles where url like '%/3'")
    assert "Paragraph 7 of release 3" in body[0]


def test_a_feed_read_with_its_items_that_fails_is_read_again_apart(feed) -> None:
    # The joint job past its deadline (the feed or an item to blame): the feed alone, then the
    # item in its own job, so that only a bad one fails.
    parser = JobLog(fail=("feed_articles",))
    runs = two_polls(feed, parser)
    assert [(run.status, run.new_articles) for run, _ in runs] == [("ok", 2), ("ok", 1)]
    apart = ["feed_articles", "source_links", "link_article"]
    assert parser.jobs == [*apart, "link_article", *apart]


def test_a_poll_asks_the_archive_about_its_feeds_urls_once(feed, monkeypatch) -> None:
    # The quick scan's one question (which URLs are archived, which are due for a re-read) serves
    # the rest of the poll; only a new article's own URL is asked again, just before it is stored
    # (with the original of its text and the subscriptions, in the same round trip).
    asked: list[tuple[str, int]] = []
    originals = {name: getattr(Store, name) for name in ("known_url_keys", "recheck_candidates")}
    facts = Store.url_facts

    def counting(name):
        def ask(self, *args, **kwargs):
            urls = list(args[-1])
            asked.append((name, len(urls)))
            return originals[name](self, *args[:-1], urls, **kwargs)

        return ask

    def url_facts(self, source_key, urls, **kwargs):
        urls = list(urls)
        asked.append(("url_facts", len(urls)))
        return facts(self, source_key, urls, **kwargs)

    def arrival(self, url, content_hash, **kwargs):
        asked.append(("arrival", 1))
        return arrivals(self, url, content_hash, **kwargs)

    def every_subscription(self):
        asked.append(("subscriptions", 0))
        return subscriptions(self)

    arrivals, subscriptions = Store.arrival, Subscriptions.all
    monkeypatch.setattr(Subscriptions, "all", every_subscription)
    for name in originals:
        monkeypatch.setattr(Store, name, counting(name))
    monkeypatch.setattr(Store, "url_facts", url_facts)
    monkeypatch.setattr(Store, "arrival", arrival)
    base = feed.sites.base_url
    two = lambda f: f.publish(item(base, 2), item(base, 1))  # noqa: E731

    def three_later(f: Feed) -> None:
        asked.clear()
        f.clock.now += timedelta(minutes=31)  # both stored items are due for a re-read again
        f.publish(item(base, 3), item(base, 2), item(base, 1))

    runs = asyncio.run(feed.polls([two, three_later]))
    assert [run.new_articles for run, _ in runs] == [2, 1]
    assert asked == [("url_facts", 3), ("arrival", 1)]
    # The re-reads the scan found due were made: both older articles were checked at that poll.
    checked = Store.open(feed.db).db.execute("select url, checked_at from articles order by id")
    assert [when for _, when in checked] == [feed.clock.now.isoformat()] * 3
