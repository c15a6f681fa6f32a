"""One poll against loopback copies of the sites, into a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import feedparser
import httpx
import pytest
import respx

from bot.app import poll_context
from bot.config import config_from_dict, load_config
from bot.ingest.poll import read_article
from scrapers import Link, Source
from scrapers.fetch import Fetcher, make_client
from storage import Store
from tests.support.ministry import poll_once
from tests.support.world import write_config

IA = "interaffairs-en"
TASS = "tass-com"
LISTING = "/"
BRIEFING = "/article/briefing-by-csto-secretary-general-stanislav-zas/"


def poll(config_path: Path, key: str):
    """Poll one source once and return (run, store rows)."""
    return asyncio.run(poll_once(load_config(config_path, environ={}), key=key))


def rows(config_path: Path, sql: str) -> list[dict]:
    config = load_config(config_path, environ={})
    store = Store.open(config.storage_path)
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


NEW_RELEASE = """<html><body><h1>New release on CSTO exercises</h1>
<div class="article-info">10:00 28.11.2026 • Press service</div>
<p>The command and staff exercise of the CSTO Collective Rapid Reaction Forces will be held in
Kyrgyzstan in September, the Joint Staff said on Friday.</p>
<p>More than two thousand servicemen from all member states are expected to take part, together
with aviation and units of radiological, chemical and biological protection.</p></body></html>"""


def test_first_run_records_without_posting(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    run = poll(config, IA)
    assert (run.status, run.links_found, run.new_articles) == ("ok", 3, 3)
    assert rows(config, "select count(*) n from articles where silent = 1")[0]["n"] == 3
    assert rows(config, "select count(*) n from outbox")[0]["n"] == 0


def test_first_run_posts_only_the_newest_backfill_items(world, tmp_path) -> None:
    config = write_config(tmp_path, world, backfill=1)
    poll(config, TASS)
    queued = rows(config, "select a.url from outbox o join articles a on a.id = o.article_id")
    assert [r["url"] for r in queued] == [world.url("tass-com", "/politics/1451189")]


def test_second_run_posts_only_new_articles_and_does_not_refetch_known_pages(
    world, tmp_path
) -> None:
    config = write_config(tmp_path, world)
    poll(config, IA)
    site = world.site(IA)
    hits_before = site.hits(BRIEFING)
    listing = site.routes[LISTING].body.decode()
    new_item = (
        '<div class="item"><div class="date">10:00 28.11.2026 •</div>'
        '<a class="title" href="/article/new-release/">New release</a></div>'
    )
    site.add(
        LISTING,
        listing.replace('<section class="news-list">', '<section class="news-list">' + new_item),
    )
    site.add("/article/new-release/", NEW_RELEASE)
    run = poll(config, IA)
    assert (run.links_found, run.new_articles) == (4, 1)
    queued = rows(config, "select a.title from outbox o join articles a on a.id = o.article_id")
    assert [r["title"] for r in queued] == ["New release on CSTO exercises"]
    assert site.hits(BRIEFING) == hits_before


def test_a_changed_feed_has_only_its_new_item_read_by_feedparser(
    world, tmp_path, monkeypatch
) -> None:
    config = write_config(tmp_path, world)
    first = poll(config, TASS)
    site = world.site(TASS)
    new_url = world.url(TASS, "/politics/1460000")
    item = (
        f"<item><title>New release on CSTO exercises</title><link>{new_url}</link>"
        f"<pubDate>Sat, 28 Nov 2026 10:00:00 +0300</pubDate></item>"
    )
    site.add(
        "/rss/v2.xml",
        site.routes["/rss/v2.xml"].body.decode().replace("<item>", item + "<item>", 1),
    )
    site.add("/politics/1460000", NEW_RELEASE)
    parsed = []
    real_parse = feedparser.parse
    monkeypatch.setattr(
        feedparser, "parse", lambda *a, **k: parsed.append(real_parse(*a, **k)) or parsed[-1]
    )

    run = poll(config, TASS)

    # Archived items are cut out unread; the one item link_pattern rejects is never archived.
    assert [[e.link for e in result.entries] for result in parsed] == [
        [new_url, world.url(TASS, "/spec/csto30")]
    ]
    assert (run.links_found, run.new_articles) == (first.links_found + 1, 1)
    [stored] = rows(config, "select title, body from articles where url like '%1460000'")
    assert stored["title"] == "New release on CSTO exercises" and "two thousand" in stored["body"]


def test_a_link_with_a_bad_port_inside_embedded_html_does_not_fail_the_poll(
    world, tmp_path
) -> None:
    config = write_config(tmp_path, world)
    poll(config, TASS)
    site = world.site(TASS)
    new_url = world.url(TASS, "/politics/1460000")
    item = (
        f"<item><title>New release on CSTO exercises</title><link>{new_url}</link>"
        "<description><![CDATA[<link rel='stylesheet' href='https://cdn.example:99999/s.css'>"
        "Lead.]]></description><pubDate>Sat, 28 Nov 2026 10:00:00 +0300</pubDate></item>"
    )
    site.add(
        "/rss/v2.xml",
        site.routes["/rss/v2.xml"].body.decode().replace("<item>", item + "<item>", 1),
    )
    site.add("/politics/1460000", NEW_RELEASE)
    run = poll(config, TASS)
    assert (run.status, run.new_articles) == ("ok", 1), run.error


def test_same_text_under_a_new_url_is_stored_but_not_posted(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    poll(config, IA)
    site = world.site(IA)
    listing = site.routes[LISTING].body.decode()
    site.add(
        LISTING,
        listing.replace(
            '<section class="news-list">',
            '<section class="news-list"><a href="/article/copy/">Copy</a>',
        ),
    )
    site.add("/article/copy/", site.routes[BRIEFING].body)
    assert poll(config, IA).status == "ok"
    [copy] = rows(config, "select duplicate_of from articles where url like '%/copy/'")
    assert copy["duplicate_of"] is not None
    assert rows(config, "select count(*) n from outbox")[0]["n"] == 0


def test_conditional_get_ends_an_unchanged_poll_early(world, tmp_path) -> None:
    site = world.site(TASS)
    site.routes["/rss/v2.xml"].etag = '"feed-v1"'
    config = write_config(tmp_path, world)
    poll(config, TASS)
    run = poll(config, TASS)
    assert run.status == "not_modified"
    assert site.requests[-1].headers.get("if-none-match") == '"feed-v1"'


def test_an_article_page_gone_for_good_is_stored_from_the_feed(world, tmp_path) -> None:
    world.site(TASS).remove("/politics/1451110")
    config = write_config(tmp_path, world, backfill=5)
    run = poll(config, TASS)
    assert run.status == "partial" and "HTTP 404" in run.error
    [stub] = rows(config, "select title, body from articles where url like '%1451110%'")
    assert stub == {"title": "Putin arrives in Kremlin for CSTO anniversary summit", "body": ""}


def publish(world, path: str, status: int = 200, etag: str | None = None) -> None:
    """Add a new item to the TASS feed (under a new ETag, if given) and serve its page."""
    site = world.site(TASS)
    item = (
        f"<item><title>New release on CSTO exercises</title><link>{world.url(TASS, path)}</link>"
        f"<pubDate>Sat, 28 Nov 2026 10:00:00 +0300</pubDate></item>"
    )
    feed = site.routes["/rss/v2.xml"].body.decode().replace("<item>", item + "<item>", 1)
    site.add("/rss/v2.xml", feed, etag=etag)
    site.add(path, NEW_RELEASE, status=status)


def test_a_temporarily_failing_new_article_is_tried_again_next_poll(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    poll(config, TASS)
    publish(world, "/politics/1460000", status=503)
    run = poll(config, TASS)
    assert (run.status, run.new_articles) == ("partial", 0) and "HTTP 503" in run.error
    world.site(TASS).routes["/politics/1460000"].status = 200
    assert poll(config, TASS).new_articles == 1
    queued = rows(config, "select a.url from outbox o join articles a on a.id = o.article_id")
    assert [r["url"] for r in queued] == [world.url(TASS, "/politics/1460000")]


@pytest.mark.parametrize(
    ("key", "path", "body", "content_type", "reason"),
    [
        (
            TASS,
            "/rss/v2.xml",
            "<html><body>Service unavailable</body></html>",
            "text/html",
            "not an RSS or Atom feed",
        ),
        (TASS, "/rss/v2.xml", "this is plain text", "text/plain", "not an RSS or Atom feed"),
        (
            TASS,
            "/rss/v2.xml",
            '<?xml version="1.0"?><rss><channel><item><title>broken',
            "application/xml",
            "no items",
        ),
        (
            IA,
            "/",
            "<html><body><p>We are redesigning.</p></body></html>",
            "text/html",
            "no links match link_pattern",
        ),
    ],
)
def test_broken_sources_are_recorded_and_the_others_carry_on(
    world, tmp_path, key, path, body, content_type, reason
) -> None:
    world.site(key).add(path, body, content_type=content_type)
    config = write_config(tmp_path, world)
    other = IA if key == TASS else TASS
    run = poll(config, key)
    assert run.status == "error" and reason in run.error
    assert poll(config, other).status == "ok"
    assert rows(config, f"select count(*) n from articles where source_key = '{key}'")[0]["n"] == 0
    [state] = rows(
        config, f"select consecutive_failures, last_error from sources where key = '{key}'"
    )
    assert state["consecutive_failures"] == 1 and reason in state["last_error"]


def test_an_unreachable_source_is_an_error_with_a_reason(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    config.write_text(
        config.read_text().replace(world.url(TASS, "/rss/v2.xml"), "http://127.0.0.1:9/rss.xml")
    )
    run = poll(config, TASS)
    assert run.status == "error" and "connection failed" in run.error


def test_a_first_run_with_transient_failures_never_floods_the_channel_later(
    world, tmp_path
) -> None:
    page = world.site(TASS).routes["/politics/1451110"]
    page.status = 503
    config = write_config(tmp_path, world)
    assert poll(config, TASS).status == "partial"
    page.status = 200
    poll(config, TASS)
    assert rows(config, "select count(*) n from outbox")[0]["n"] == 0
    assert rows(config, "select count(*) n from articles where silent = 1")[0]["n"] == 3


def test_a_partial_poll_keeps_no_validators_so_skipped_links_come_back(world, tmp_path) -> None:
    world.site(TASS).routes["/rss/v2.xml"].etag = '"v1"'
    config = write_config(tmp_path, world)
    poll(config, TASS)
    publish(world, "/politics/1460000", status=503, etag='"v2"')
    assert poll(config, TASS).status == "partial"
    world.site(TASS).routes["/politics/1460000"].status = 200
    run = poll(config, TASS)
    assert (run.status, run.new_articles) == ("ok", 1)


def test_a_page_naming_another_canonical_url_is_fetched_once(world, tmp_path) -> None:
    site = world.site(IA)
    page = site.routes[BRIEFING].body.replace(
        b"<head>", b'<head><link rel="canonical" href="/article/briefing-canonical/">'
    )
    site.add(BRIEFING, page)
    config = write_config(tmp_path, world)
    poll(config, IA)
    poll(config, IA)
    assert site.hits(BRIEFING) == 1


def test_a_poison_article_does_not_block_its_source(world, tmp_path, monkeypatch) -> None:
    from bot.ingest import intake

    real = intake.Intake.store

    def explode(self, source_key, prepared, **kwargs):
        if "kosachev" in prepared.article.url:
            raise KeyError("boom")
        return real(self, source_key, prepared, **kwargs)

    monkeypatch.setattr(intake.Intake, "store", explode)
    config = write_config(tmp_path, world)
    run = poll(config, IA)
    assert run.status == "partial" and "unexpected KeyError" in run.error
    assert run.new_articles == 2


@respx.mock
def test_a_lead_taken_from_the_feed_obeys_the_sources_rules_as_the_pages_would() -> None:
    # The page has no standfirst, so its lead comes from the feed item's summary, which carries
    # the site's own lines: they go, as they would from the page's lead.
    url = "https://site.example/news/1"
    respx.get(url).mock(return_value=httpx.Response(200, text=NEW_RELEASE))
    source = Source(
        key="t",
        url="https://site.example/feed",
        kind="feed",
        robots=False,
        drop_lines=(r"(?:[^\n]{0,80}\. )?An archive photo\.?",),
        trailers=("Follow us on",),
    )
    summary = (
        "<p>The Joint Staff announced the exercise of the collective forces.</p>"
        "<p>Stanislav Zas. An archive photo</p><p>Follow us on Telegram: @csto</p>"
    )
    link = Link(url=url, canonical_url=url, title="New release", summary=summary)
    fetch = {"min_delay_per_host": 0, "allow_private_addresses": True}  # no DNS in tests
    config = config_from_dict({"fetch": fetch}, path=Path("p.toml"))

    async def go():
        store = Store.in_memory()
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
                return await read_article(source, link, ctx)
        finally:
            store.close()

    article = asyncio.run(go()).article
    assert article.lead == "The Joint Staff announced the exercise of the collective forces."
    assert article.body.startswith("The command and staff exercise")
