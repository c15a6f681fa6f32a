"""A bad item never stops its poll, its source's baseline, or the posts after it (issue 16).

Each test polls a loopback ministry site through the parsing sandbox into a real archive file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.config import config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import Store
from tests.fakes.hostile import PAGE, SLOW_PAGE, issue_feeds, issue_pages
from tests.fakes.sites import FakeSites

SLOW = SLOW_PAGE  # close to a minute of parsing: past any short deadline
TOPICS = ("border security", "grain exports", "a water treaty", "the rail corridor", "climate aid")


def page(n: int) -> str:
    """Return release n's page: its own text, so no release is a near-duplicate of another."""
    topic = TOPICS[n % len(TOPICS)]
    story = " ".join(
        f"Delegates discussed {topic} in round {n}.{k} of the talks." for k in range(9)
    )
    return f"<html><body><h1>Release {n} on {topic}</h1><p>{story}</p></body></html>"


class Ministry:
    """A loopback ministry site and one source of it, polled through the sandbox."""

    def __init__(self, sites: FakeSites, tmp_path: Path, fork_server, **source) -> None:
        self.sites, self.fork_server = sites, fork_server
        self.source = {
            "key": "ministry",
            "kind": "feed",
            "url": f"{sites.base_url}/rss",
            "link_pattern": r"/news/\d+$",
            "robots": False,
            "backfill": 0,
            **source,
        }
        self.db = tmp_path / "archive.db"

    def feed(self, *items: int, bad: bytes = b"") -> None:
        """Serve a feed of `items` (newest first), each linking to a page of the site."""
        entries = "".join(
            f"<item><title>Release {n}</title><link>{self.url(n)}</link>"
            f"<pubDate>Mon, {n:02d} Jun 2026 10:00:00 +0000</pubDate></item>"
            for n in items
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>M</title>{entries}'
        self.sites.add("/rss", body.encode() + bad + b"</channel></rss>")

    def url(self, n: int) -> str:
        """Return the URL of release n's page."""
        return f"{self.sites.base_url}/news/{n}"

    def poll(self, *, deadline: float = 10.0):
        """Poll the source once through a fresh sandbox; return the run."""
        config = config_from_dict(
            {
                "storage": {"path": str(self.db)},
                "fetch": {"min_delay_per_host": 0, "allow_private_addresses": True, "retries": 0},
                "channels": [{"name": "main", "chat_id": "@main"}],
                "sources": [self.source],
            },
            path=self.db.parent / "presswatch.toml",
        )

        async def go():
            store = Store.open(self.db)
            sandbox = Sandbox(deadline=deadline, memory_mb=512, server=self.fork_server)
            try:
                async with make_client(config.fetch) as client:
                    fetcher = Fetcher(client, config.fetch)
                    ctx = poll_context(config, fetcher=fetcher, store=store, parser=sandbox)
                    return await poll_source(config.sources[0], ctx)
            finally:
                sandbox.close()
                store.close()

        return asyncio.run(go())

    def rows(self, sql: str) -> list[dict]:
        """Query the archive."""
        store = Store.open(self.db)
        try:
            return list(store.db.query(sql))
        finally:
            store.close()

    def posted(self) -> list[str]:
        """Return the URLs queued for posting, in order."""
        sql = "select a.url from outbox o join articles a on a.id = o.article_id order by o.id"
        return [row["url"] for row in self.rows(sql)]


@pytest.fixture
def ministry(tmp_path, fork_server):
    with FakeSites() as sites:
        yield Ministry(sites, tmp_path, fork_server)


def test_an_unreadable_item_on_a_first_poll_still_records_the_baseline(ministry) -> None:
    # Issue 16, case 2: the baseline was never recorded, and with backfill = 0 every later
    # article was stored silently as if each poll were the first.
    ministry.feed(2, 1)
    ministry.sites.add("/news/1", SLOW)
    ministry.sites.add("/news/2", page(2))
    run = ministry.poll(deadline=1.0)
    assert (run.status, run.new_articles) == ("partial", 2)
    assert f"{ministry.url(1)}: too slow to parse (over 1s" in run.error
    [state] = ministry.rows("select baseline_at from sources")
    assert state["baseline_at"] is not None and ministry.posted() == []
    # The unreadable item is stored from the feed, silently; the next new release is posted.
    [stub] = ministry.rows(f"select title, body from articles where url = '{ministry.url(1)}'")
    assert stub == {"title": "Release 1", "body": ""}
    ministry.feed(3, 2, 1)
    ministry.sites.add("/news/3", page(3))
    assert (ministry.poll(deadline=1.0).new_articles, ministry.posted()) == (1, [ministry.url(3)])


def test_a_bug_hitting_one_item_on_a_first_poll_still_records_the_baseline(
    ministry, monkeypatch
) -> None:
    from bot.ingest import intake

    real = intake.Intake.store

    def explode(self, source_key, prepared, **kwargs):
        if prepared.article.url.endswith("/news/1"):
            raise KeyError("boom")
        return real(self, source_key, prepared, **kwargs)

    monkeypatch.setattr(intake.Intake, "store", explode)
    ministry.feed(2, 1)
    for n in (1, 2, 3):
        ministry.sites.add(f"/news/{n}", page(n))
    run = ministry.poll()
    assert (run.status, run.new_articles) == ("partial", 1) and "unexpected KeyError" in run.error
    ministry.feed(3, 2, 1)
    run = ministry.poll()
    assert (run.status, run.new_articles) == ("partial", 1)
    assert ministry.posted() == [ministry.url(3)]


@pytest.mark.parametrize("name", sorted(issue_feeds))
def test_a_feed_with_a_bad_item_of_the_issue_is_polled_for_its_good_ones(ministry, name) -> None:
    feed = issue_feeds[name].replace(b"https://ministry.example", ministry.sites.base_url.encode())
    ministry.sites.add("/rss", feed)
    for n in (1, 2):
        ministry.sites.add(f"/news/{n}", PAGE)
    run = ministry.poll()
    assert run.status in ("ok", "partial") and run.new_articles >= 1, run.error
    assert ministry.rows(f"select id from articles where url = '{ministry.url(2)}'")
    if run.status == "partial":
        assert "skipped: the link is not a valid URL" in run.error


def test_a_listing_with_unrelated_bad_links_is_polled_as_usual(ministry) -> None:
    ministry.source |= {"kind": "html", "url": f"{ministry.sites.base_url}/news/"}
    ministry.sites.add(
        "/news/",
        '<a href="http://[::1">home</a><a href="https://cdn.example:99999/s.css">css</a>'
        '<a href="http://[zz/">x</a><a href="/news/1">Statement by the Ministry</a>',
    )
    ministry.sites.add("/news/1", PAGE)
    run = ministry.poll()
    assert (run.status, run.links_found, run.new_articles) == ("ok", 1, 1)


def test_every_hostile_page_of_the_issue_is_stored_and_none_fails_the_poll(ministry) -> None:
    names = sorted(issue_pages)
    ministry.feed(*range(len(names), 0, -1))
    for n, name in enumerate(names, start=1):
        ministry.sites.add(f"/news/{n}", issue_pages[name])
    run = ministry.poll(deadline=2.0)
    assert run.new_articles == len(names), run.error
    # Only the 5 MB page may be past a 2 s deadline; every other page is read in full.
    assert run.status == "ok" or "too slow to parse" in run.error
    titles = {row["title"] for row in ministry.rows("select title from articles")}
    assert titles <= {
        "Statement by the Ministry",
        f"Release {names.index('190k paragraphs in 5 MB') + 1}",
    }


# A link pattern the config accepts (no nested quantifier, fast on its repetitive probes) that is
# cubic on a crafted link: 171 s in `re` on 3,000 slashes.
SLOW_LINK_PATTERN = r"^https?://[^/]+/.*/.*/.*/\d+$"


def test_a_link_pattern_stuck_on_a_crafted_link_fails_the_poll_naming_the_key(ministry) -> None:
    ministry.source["link_pattern"] = SLOW_LINK_PATTERN
    # 24,000 slashes need seconds of CPU in the `regex` module, past userregex.WALL_CAP.
    trap = f"{ministry.sites.base_url}/{'/' * 24_000}x".encode()
    ministry.feed(2, 1, bad=b"<item><title>Trap</title><link>" + trap + b"</link></item>")
    run = ministry.poll(deadline=5.0)  # in `re`: the deadline, "too slow to parse"
    assert run.status == "error" and run.error_kind == "PatternTooSlow", run.error
    assert f"link_pattern {SLOW_LINK_PATTERN!r} took over" in run.error
