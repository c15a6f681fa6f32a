"""The fast first look at feeds: item links by lxml, known items cut before feedparser runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from scrapers import Link, Source, links_from_feed, url_key
from scrapers.feedscan import listed_links, prune_feed

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIG = load_config(ROOT / "config.example.toml", environ={})
FEEDS = sorted(FIXTURES.glob("*/feed.xml"))
SOURCE = Source(key="t", name="t", kind="feed", url="https://example.org/feed.xml")


def _rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _item(url: str, title: str = "A title", extra: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>{url}</link>"
        f"<pubDate>Tue, 01 Dec 2026 10:00:00 +0000</pubDate>"
        f"<description>Lead of {title}</description>{extra}</item>"
    )


def item_urls(content: bytes) -> tuple[str, ...] | None:
    """Return the links prune_feed reads from the items (None when lxml refuses the feed)."""
    seen: list[str] = []
    pruned = prune_feed(content, lambda url: seen.append(url) or False)
    return None if pruned is None else tuple(seen)


def _keys(links: tuple[Link, ...]) -> list[str]:
    return [url_key(link.canonical_url) for link in links]


def test_every_shipped_feed_fixture_is_read_by_the_fast_scan():
    assert len(FEEDS) >= 6
    for feed in FEEDS:
        content = feed.read_bytes()
        urls = item_urls(content)
        assert urls, feed.parent.name
        # The quick byte scan must list every link prune_feed can cut, or nothing is skipped.
        assert set(urls) <= set(listed_links(content)), feed.parent.name


def test_the_quick_scan_reads_rss_atom_cdata_and_entities():
    content = (
        b"<rss><channel><link>https://example.org/</link><item><link><![CDATA[ "
        b"https://example.org/a?x=1&y=2 ]]></link></item><item><link>"
        b"https://example.org/b?x=1&amp;y=2</link></item></channel></rss>"
        b'<feed xmlns:atom="http://www.w3.org/2005/Atom"><atom:link rel="alternate" '
        b"href='https://example.org/c'/><link href=\"/relative\"/></feed>"
    )
    assert listed_links(content) == (
        "https://example.org/",
        "https://example.org/a?x=1&y=2",
        "https://example.org/b?x=1&y=2",
        "https://example.org/c",
    )


@pytest.mark.parametrize("feed", FEEDS, ids=lambda p: p.parent.name)
def test_skipping_known_items_changes_nothing_but_what_is_read(feed):
    # Every item but the newest is "archived": the result must list the same links in the same
    # order, the newest read in full exactly as before, the rest bare.
    source = CONFIG.source(feed.parent.name)
    content = feed.read_bytes()
    full = links_from_feed(content, source=source)
    skip = frozenset(_keys(full[1:]))
    fast = links_from_feed(content, source=source, skip=skip)
    assert _keys(fast) == _keys(full)
    assert fast[0] == full[0]
    scanned = {url_key(link.canonical_url) for link in fast[1:] if not link.title}
    assert scanned, "at least some known items should have been cut out unread"
    for bare, whole in zip(fast[1:], full[1:]):
        assert bare == whole or (bare.url, bare.canonical_url, bare.title) == (
            whole.url,
            whole.canonical_url,
            "",
        )


def test_the_pruned_document_holds_only_the_kept_items():
    content = _rss(
        _item("https://example.org/a"),
        _item("https://example.org/b"),
        _item("https://example.org/c"),
    )
    pruned = prune_feed(content, lambda url: url != "https://example.org/b")
    assert pruned.order == ("https://example.org/a", None, "https://example.org/c")
    assert pruned.kept == 1
    assert item_urls(pruned.document) == ("https://example.org/b",)


@pytest.mark.parametrize(
    "item",
    [
        _item("/relative/path"),  # feedparser resolves it against the feed; lxml cannot tell
        "<item><title>guid only</title><guid>https://example.org/a</guid></item>",
        _item(
            "https://example.org/a",
            extra='<atom:link rel="alternate" href="https://example.org/z"/>',
        ),
        _item("https://example.org/a", extra="<link>https://example.org/second</link>"),
        '<item><title>href link</title><link href="https://example.org/a"/></item>',
    ],
)
def test_an_item_whose_link_is_ambiguous_is_always_read(item):
    assert item_urls(_rss(item)) == ()
    links = links_from_feed(
        _rss(item, _item("https://example.org/new")),
        source=SOURCE,
        skip=frozenset({url_key("https://example.org/a")}),
    )
    assert all(link.title for link in links)


def test_atom_entries_are_read_by_their_html_alternate_link():
    entry = (
        "<entry><title>E</title><id>urn:e</id><updated>2026-12-01T10:00:00Z</updated>"
        '<link rel="alternate" type="text/html" href="https://example.org/e"/>'
        '<link rel="enclosure" href="https://example.org/e.mp3"/></entry>'
    )
    pdf = (
        "<entry><title>P</title><id>urn:p</id><updated>2026-12-01T10:00:00Z</updated>"
        '<link rel="alternate" type="application/pdf" href="https://example.org/p.pdf"/></entry>'
    )
    content = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>{entry}{pdf}</feed>'
    ).encode()
    assert item_urls(content) == ("https://example.org/e",)


@pytest.mark.parametrize(
    "content",
    [
        _rss(_item("https://example.org/a"))[:-40],  # truncated
        b"\xef\xbb\xbf  "
        + _rss(_item("https://example.org/a")),  # BOM and blanks before the prolog
        _rss(_item("https://example.org/a")).replace(
            b"A title", b"Caf\xe9"
        ),  # not the declared UTF-8
    ],
)
def test_a_feed_lxml_refuses_is_read_whole_by_feedparser(content):
    known = frozenset({url_key("https://example.org/a")})
    assert item_urls(content) is None
    assert links_from_feed(content, source=SOURCE, skip=known) == links_from_feed(
        content, source=SOURCE
    )


def test_everything_known_still_lists_every_item():
    content = _rss(_item("https://example.org/a"), _item("https://example.org/b"))
    known = frozenset({url_key("https://example.org/a"), url_key("https://example.org/b")})
    links = links_from_feed(content, source=SOURCE, skip=known)
    assert [link.url for link in links] == ["https://example.org/a", "https://example.org/b"]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with its byte-order mark
        lambda text: text.encode("utf-32"),
    ],
    ids=["utf-8 bom", "utf-16", "utf-32"],
)
def test_a_feed_behind_a_byte_order_mark_is_still_a_feed(encode):
    text = _rss(_item("https://example.org/a")).decode().replace('encoding="utf-8"', "")
    links = links_from_feed(encode(text), source=SOURCE)
    assert [link.url for link in links] == ["https://example.org/a"]


# --- cases where lxml's reading of an item could differ from feedparser's: never cut them -------

NEW, OLD = "https://example.org/new", "https://example.org/old"


def _both(content: bytes, source: Source = SOURCE, known: tuple[str, ...] = (OLD,)):
    """Return (full parse, parse with `known` skipped)."""
    skip = frozenset(url_key(url) for url in known)
    return links_from_feed(content, source=source), links_from_feed(
        content, source=source, skip=skip
    )


@pytest.mark.parametrize(
    "item",
    [
        _item(f"{NEW}<!-- id -->7"),  # .text would stop at the comment
        _item("https://example.org/n/?a=1&amp;amp;b=2"),  # feedparser rewrites '&' in link text
        _item(OLD, extra=f'<atom:link href="{NEW}"/>'),  # an Atom link beside the plain one
        _item(OLD).replace(
            "<link>", f'<other:link xmlns:other="http://www.w3.org/2005/atom" href="{NEW}"/><link>'
        ),  # the Atom URI spelled in lower case
        f"<item><title>outer</title><item><title>inner</title><link>{NEW}</link></item>"
        f"<link>{OLD}</link></item>",  # an item nested in an item
    ],
)
def test_an_item_lxml_might_read_otherwise_is_never_cut(item):
    assert item_urls(_rss(item)) == ()
    full, fast = _both(_rss(item, _item("https://example.org/other")))
    assert fast == full


def test_a_plain_query_string_link_is_still_read():
    url = "https://example.org/politics/1?utm_source=rss&amp;utm_medium=feed"
    assert item_urls(_rss(_item(url))) == (
        "https://example.org/politics/1?utm_source=rss&utm_medium=feed",
    )
    assert item_urls(_rss(_item("https://example.org/новости/1"))) == ()  # not ASCII: left whole


def test_an_atom_link_is_compared_in_lower_case_as_feedparser_does():
    entry = (
        "<entry><title>E</title><id>urn:e</id><updated>2026-12-01T10:00:00Z</updated>"
        f'<link rel="Alternate" type="Text/HTML" href="{NEW}"/></entry>'
    )
    content = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>{entry}</feed>'.encode()
    assert item_urls(content) == (NEW,)


@pytest.mark.parametrize(
    "content",
    [
        # RSS 0.91's DOCTYPE defines &laquo;: lxml would write the kept item back differently.
        (
            b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
            b"<title>T</title><item><title>&laquo;New&raquo; item</title><link>https://example.org/new"
            b"</link></item><item><title>Old</title><link>https://example.org/old</link></item>"
            b"</channel></rss>"
        ),
        _rss(_item(NEW), _item(OLD)).replace(
            b"<channel>", b'<channel xml:base="https://example.org/">'
        ),
    ],
)
def test_a_feed_with_a_doctype_or_xml_base_is_read_whole(content):
    assert item_urls(content) is None
    full, fast = _both(content)
    assert fast == full


def test_a_new_item_outside_link_pattern_is_not_confused_with_a_known_one():
    source = Source(
        key="t",
        name="t",
        kind="feed",
        url="https://example.org/feed.xml",
        link_pattern=r"[?&]ID=\d+",
    )
    content = _rss(
        _item("https://example.org/news/?SECTION=1&amp;amp;ID=7"),
        _item("https://example.org/news/?ID=6"),
    )
    full, fast = _both(content, source, known=("https://example.org/news/?ID=6",))
    assert [link.url for link in fast] == [link.url for link in full]
    assert fast[0] == full[0]


def test_reading_a_feed_searches_for_no_missing_xml_driver(monkeypatch) -> None:
    """feedparser's first choice, libxml2's driver, is not installed: no import is tried per feed."""
    import sys

    tried: list[str] = []

    class Recorder:
        def find_spec(self, name, path=None, target=None):
            tried.append(name)

    monkeypatch.setattr(sys, "meta_path", [Recorder(), *sys.meta_path])
    links = links_from_feed(_rss(_item("https://example.org/a")), source=SOURCE)
    assert [link.url for link in links] == ["https://example.org/a"]
    assert "drv_libxml2" not in tried
