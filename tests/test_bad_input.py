"""Bad input gets a clear answer and loses nothing: each fault is recorded against its source only.

Every test polls a faulty source on its own loopback server in the same round as a healthy
loopback copy of en.interaffairs.ru, into one real SQLite file, and checks both runs.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from bot.app import poll_context
from bot.config import load_config
from bot.ingest.poll import poll_source
from scrapers.discover import read_listing
from scrapers.errors import NoLinksFound
from scrapers.fetch import Fetcher, make_client
from scrapers.models import Source
from storage import Store
from tests.fakes.sites import FakeSites
from tests.support.ministry import poll_once
from tests.support.world import World, write_config

GOOD = "interaffairs-en"
ATOM_NO_DATES = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ministry</title><id>urn:m</id>
<entry><title>Statement on the border situation</title><id>urn:1</id>
<link href="{base}/news/1"/><content type="html">&lt;p&gt;The ministry states that the border
situation remains calm and that the patrols continue as planned.&lt;/p&gt;</content></entry>
<entry><title>Consultations with partners</title><id>urn:2</id>
<link href="{base}/news/2"/><content type="html">&lt;p&gt;Consultations on regional security
were held with the partners of the Organization in Moscow.&lt;/p&gt;</content></entry>
</feed>"""
RSS_FUTURE = """<?xml version="1.0"?><rss version="2.0"><channel><title>Agency</title>
<item><title>Report from the summit</title><link>{base}/news/7</link>
<pubDate>Mon, 16 May 2062 15:40:12 +0300</pubDate>
<description>The leaders of the member states adopted a statement.</description></item>
</channel></rss>"""
JS_ONLY = """<html><head><script src="/app.js"></script></head>
<body><div id="root"></div><noscript>Enable JavaScript</noscript></body></html>"""
MALFORMED = """<html><head><title>Briefing on the exercises</title><body><div class="a"><p>The command
and staff exercise <b>of the collective forces <p>will be held in September</i></div></span>
<p>More than two thousand servicemen will take part.<table><tr><td>cell</html> trailing garbage <<<"""


@pytest.fixture
def world():
    with World(keys=(GOOD,)) as w:
        yield w


@pytest.fixture
def bad():
    with FakeSites() as server:
        yield server


def configure(
    tmp_path: Path,
    world: World,
    bad: FakeSites,
    *,
    kind: str,
    path: str,
    pattern: str = r"/news/\d+$",
    max_bytes: int | None = None,
    private: bool = True,
) -> Path:
    """Write a config with the healthy source and a faulty one named 'bad'."""
    config = write_config(tmp_path, world)
    text = config.read_text(encoding="utf-8")
    block = (
        f'\n[[sources]]\nkey = "bad"\nkind = "{kind}"\nurl = "{bad.base_url}{path}"\n'
        f"link_pattern = '{pattern}'\ntimezone = \"UTC\"\nrobots = false\n"
    )
    text = text.replace("\n# ----", block + "\n# ----", 1)
    if max_bytes:
        text = text.replace("max_bytes = 5000000", f"max_bytes = {max_bytes}")
    if not private:
        text = text.replace("allow_private_addresses = true", "allow_private_addresses = false")
    config.write_text(text, encoding="utf-8")
    return config


def poll_both(config_path: Path):
    """Poll both sources in one concurrent round; return {key: run} and the store's rows."""
    config = load_config(config_path, environ={})

    async def go():
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
                runs = await asyncio.gather(
                    *(poll_source(config.source(k), ctx) for k in (GOOD, "bad"))
                )
            articles = list(
                store.db.query("select source_key, title, published_at, body from articles")
            )
            return {run.source_key: run for run in runs}, articles
        finally:
            store.close()

    return asyncio.run(go())


def assert_isolated(runs: dict, *, status: str, reason: str) -> None:
    """The bad source has the expected outcome; the good one polled as usual."""
    assert runs[GOOD].status == "ok" and runs[GOOD].new_articles == 3
    assert runs["bad"].status == status, runs["bad"]
    assert reason in (runs["bad"].error or ""), runs["bad"].error


def test_connection_reset_mid_body(tmp_path, world, bad) -> None:
    bad.add(
        "/feed.xml",
        RSS_FUTURE.format(base=bad.base_url) * 20,
        content_type="application/rss+xml",
        cut=100,
    )
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="feed", path="/feed.xml"))
    assert_isolated(runs, status="error", reason="connection failed")


def test_redirect_loop(tmp_path, world, bad) -> None:
    bad.add("/a", status=302, headers={"Location": "/b"})
    bad.add("/b", status=302, headers={"Location": "/a"})
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="html", path="/a"))
    assert_isolated(runs, status="error", reason="more than 5 redirects")


def test_redirect_to_loopback_with_the_guard_on(tmp_path, world, bad, monkeypatch) -> None:
    async def resolve(host: str, port: int):
        # The sites' public names resolve publicly; the redirect target is the loopback address.
        return [ipaddress.ip_address("127.0.0.1" if host == "127.0.0.1" else "93.184.216.34")]

    monkeypatch.setattr("scrapers.fetch._resolve", resolve)
    config = configure(tmp_path, world, bad, kind="html", path="/", private=False)
    config.write_text(
        config.read_text().replace(bad.base_url, "http://bad.example"), encoding="utf-8"
    )
    # Only the bad source is polled here: with the guard on, no loopback copy can be reached at all.
    cfg = load_config(config, environ={})
    with respx.mock:
        respx.get("http://bad.example/").mock(
            return_value=httpx.Response(302, headers={"Location": "http://127.0.0.1:1/admin"})
        )
        run = asyncio.run(poll_once(cfg, key="bad"))
    assert run.status == "error" and "non-public address 127.0.0.1" in run.error


def test_a_50_mb_body_is_refused_at_the_cap(tmp_path, world, bad) -> None:
    bad.add("/", b"<html><body>" + b"x" * 50_000_000 + b"</body></html>")
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="html", path="/", max_bytes=2_000_000))
    assert_isolated(runs, status="error", reason="larger than 2000000 bytes")


def test_a_gzip_bomb_is_refused_at_the_cap(tmp_path, world, bad) -> None:
    bad.add("/", b"<html>" + b"\0" * 40_000_000 + b"</html>", gzip=True)
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="html", path="/", max_bytes=1_000_000))
    assert_isolated(runs, status="error", reason="larger than 1000000 bytes")
    assert len(gzip.compress(b"\0" * 40_000_000)) < 100_000  # the bomb really is small on the wire


def test_a_javascript_only_listing_is_an_error_not_an_empty_success(tmp_path, world, bad) -> None:
    bad.add("/", JS_ONLY)
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="html", path="/"))
    assert_isolated(runs, status="error", reason="no links match link_pattern")
    assert runs["bad"].error_kind == "NoLinksFound"
    assert runs["bad"].error.endswith(
        "(the page has no links to its own host: is the list drawn by JavaScript? try its feed)"
    )


def test_a_listing_whose_links_all_miss_the_pattern_names_one_of_them() -> None:
    source = Source(key="m", url="https://ministry.example/press/", link_pattern=r"/press/\d+$")
    html = (
        '<a href="/">Home</a><a href="https://other.example/x/y/z">Elsewhere</a>'
        '<a href="/news/2026/12/statement">Statement</a><a href="/about">About</a>'
    )
    with pytest.raises(NoLinksFound) as caught:
        read_listing(html, base_url=source.url, source=source)
    assert str(caught.value) == (
        f"https://ministry.example/press/: no links match link_pattern '{source.link_pattern}' (3 links to "
        "the page's own host, such as https://ministry.example/news/2026/12/statement)"
    )


def test_malformed_html_still_yields_the_article(tmp_path, world, bad) -> None:
    bad.add("/", '<html><body><a href="/news/1">Briefing</a></body></html>')
    bad.add("/news/1", MALFORMED)
    runs, articles = poll_both(configure(tmp_path, world, bad, kind="html", path="/"))
    assert_isolated(runs, status="ok", reason="")
    [article] = [a for a in articles if a["source_key"] == "bad"]
    assert article["title"] == "Briefing on the exercises"
    assert "two thousand servicemen" in article["body"]


def test_a_truncated_rss_document(tmp_path, world, bad) -> None:
    bad.add(
        "/feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title><item><ti',
        content_type="application/rss+xml",
    )
    runs, _ = poll_both(configure(tmp_path, world, bad, kind="feed", path="/feed.xml"))
    assert_isolated(runs, status="error", reason="the feed has no items")


def test_an_atom_feed_without_dates_is_stored_with_the_time_found(tmp_path, world, bad) -> None:
    bad.add(
        "/feed.xml", ATOM_NO_DATES.format(base=bad.base_url), content_type="application/atom+xml"
    )
    before = datetime.now(UTC)
    runs, articles = poll_both(configure(tmp_path, world, bad, kind="feed", path="/feed.xml"))
    assert_isolated(runs, status="ok", reason="")
    mine = [a for a in articles if a["source_key"] == "bad"]
    assert len(mine) == 2 and all(
        datetime.fromisoformat(a["published_at"]) >= before.replace(microsecond=0) for a in mine
    )


def test_an_item_dated_in_the_future_is_dated_when_found(tmp_path, world, bad) -> None:
    bad.add("/feed.xml", RSS_FUTURE.format(base=bad.base_url), content_type="application/rss+xml")
    bad.add(
        "/news/7",
        "<html><body><h1>Report from the summit</h1><p>The leaders of the member "
        "states adopted a statement on collective security.</p></body></html>",
    )
    runs, articles = poll_both(configure(tmp_path, world, bad, kind="feed", path="/feed.xml"))
    assert_isolated(runs, status="ok", reason="")
    [article] = [a for a in articles if a["source_key"] == "bad"]
    assert datetime.fromisoformat(article["published_at"]).year == datetime.now(UTC).year


def test_a_page_with_a_lying_charset_is_read_correctly(tmp_path, world, bad) -> None:
    page = (
        "<html><head><title>Брифинг</title></head><body><h1>Брифинг генерального секретаря</h1>"
        "<p>Генеральный секретарь ОДКБ провёл брифинг для журналистов в Москве и ответил на "
        "вопросы о подготовке учений.</p></body></html>"
    )
    bad.add("/", '<html><body><a href="/news/1">Брифинг</a></body></html>')
    bad.add("/news/1", page.encode("cp1251"), content_type="text/html; charset=utf-8")
    runs, articles = poll_both(configure(tmp_path, world, bad, kind="html", path="/"))
    assert_isolated(runs, status="ok", reason="")
    [article] = [a for a in articles if a["source_key"] == "bad"]
    assert "Генеральный секретарь ОДКБ провёл брифинг" in article["body"]
