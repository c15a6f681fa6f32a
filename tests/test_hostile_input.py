"""Every hostile page, feed and link issue 16 names is read, or refused with a documented error.

Field parsers return "absent" for a bad value, an unreadable item is skipped with its reason,
and a document too slow for the deadline is stopped in its worker and said to be so.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scrapers import (
    Article,
    Link,
    ScrapeError,
    Source,
    TooSlowToParse,
    extract_article,
    links_from_listing,
)
from scrapers.discover import read_feed, read_listing
from scrapers.jobs import page_article
from tests.fakes.hostile import (
    PAGE,
    SLOW_PAGE,
    crafted_feeds,
    crafted_pages,
    issue_feeds,
    issue_pages,
)
from tests.support.parsing import run_in_sandbox

NOW = datetime(2026, 6, 1, tzinfo=UTC)
URL = "https://ministry.example/news/1"
FEED = Source(key="ministry", url="https://ministry.example/rss", kind="feed")
LISTING = Source(key="ministry", url="https://ministry.example/news/", link_pattern=r"/news/\d+$")
PRINTED = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)  # the dateline every test page prints


def in_sandbox(fork_server, html: bytes, *, deadline: float = 10.0) -> Article | ScrapeError:
    """Extract a page in the sandbox; return the article or the documented error."""
    link = Link(url=URL, canonical_url=URL)

    async def work(sandbox):
        try:
            read = await sandbox.run(
                URL, page_article, link, source=LISTING, now=NOW, html=html.decode(), url=URL
            )
            return read.value
        except ScrapeError as exc:
            return exc

    return run_in_sandbox(fork_server, work, deadline=deadline)


@pytest.mark.parametrize("name", sorted(set(issue_pages) - {"190k paragraphs in 5 MB"}))
def test_each_hostile_page_of_the_issue_is_read(name, fork_server) -> None:
    article = in_sandbox(fork_server, issue_pages[name])
    assert isinstance(article, Article), article
    assert article.title == "Statement by the Ministry"
    assert article.canonical_url == URL and article.published == PRINTED
    assert "Geneva" in article.body
    for text in (article.title, article.body, article.lead, article.author):
        text.encode("utf-8")  # no lone surrogate: the archive and Telegram take the text


def test_190k_paragraphs_are_read_or_stopped_at_the_deadline(fork_server) -> None:
    outcome = in_sandbox(fork_server, issue_pages["190k paragraphs in 5 MB"], deadline=2.0)
    assert isinstance(outcome, Article | TooSlowToParse), outcome
    if isinstance(outcome, TooSlowToParse):
        assert str(outcome) == f"{URL}: too slow to parse (over 2s; its worker was stopped)"


def test_a_page_past_the_deadline_is_stopped_and_said_to_be_too_slow(fork_server) -> None:
    outcome = in_sandbox(fork_server, SLOW_PAGE, deadline=1.0)
    assert str(outcome) == f"{URL}: too slow to parse (over 1s; its worker was stopped)"


def test_runs_of_headings_and_links_are_read_in_linear_time(fork_server) -> None:
    # trafilatura drops a body's trailing headings and links one at a time, counting the rest
    # each time: 20k of them took minutes. Runs are cut at 256 before it reads the page.
    body = "<h2>Heading</h2><a href='/x'>link</a>" * 20_000
    article = in_sandbox(fork_server, PAGE.replace("</article>", body + "</article>").encode())
    assert isinstance(article, Article) and "Geneva" in article.body


@pytest.mark.parametrize("name", sorted(issue_feeds))
def test_each_hostile_feed_of_the_issue_keeps_its_good_items(name) -> None:
    listing = read_feed(issue_feeds[name], source=FEED)
    urls = [link.url for link in listing.links]
    assert "https://ministry.example/news/2" in urls
    assert len(urls) + len(listing.skipped) == 2
    for link in listing.links:
        link.title.encode("utf-8")
        assert link.published is None or link.published.year == 2026


def test_a_one_line_feed_repeating_encoding_is_read_in_linear_time() -> None:
    # feedparser searches a document's first line for `encoding=` from its end: a one-line feed
    # with 200k of them took minutes. The declaration now ends its line.
    listing = read_feed(crafted_feeds["encodings-on-one-line"](200_000), source=FEED)
    assert [link.url for link in listing.links] == ["https://ministry.example/news/1"]


def test_a_garbled_declaration_does_not_stop_the_feed() -> None:
    listing = read_feed(crafted_feeds["broken-declaration"](10), source=FEED)
    assert [link.url for link in listing.links] == ["https://ministry.example/news/1"]


@pytest.mark.parametrize(
    ("link", "skipped"),
    [
        ("http://[zz/", "the link is not a valid URL"),
        ("https://ministry.example:99999/n", "the link is not a valid URL"),
        ("http://[::1]/x", None),  # an IPv6 host is a URL: read, and kept with its brackets
    ],
)
def test_a_feed_item_with_a_bad_link_is_skipped_with_its_reason(link, skipped) -> None:
    listing = read_feed(_two(link), source=FEED)
    if skipped is None:
        assert [item.url for item in listing.links][0] == link and not listing.skipped
    else:
        [item] = listing.skipped
        assert item.url == link and item.reason.startswith(skipped)


def _two(link: str) -> bytes:
    """Return a feed of two items, the first linking to `link`."""
    return issue_feeds["a link http://[zz/"].replace(b"http://[zz/", link.encode())


def test_unrelated_bad_links_on_a_listing_never_fail_it() -> None:
    html = (
        '<a href="http://[::1">home</a><a href="https://cdn.example:99999/x">cdn</a>'
        '<a href="http://[zz/">odd</a><a href="/news/1">Statement</a>'
        '<a href="https://ministry.example:99999/news/2">Broken</a>'
    )
    listing = read_listing(html, base_url=LISTING.url, source=LISTING)
    assert [link.url for link in listing.links] == [URL]
    assert [(s.url, s.reason) for s in listing.skipped] == [
        ("https://ministry.example:99999/news/2", "the link is not a valid URL")
    ]
    assert links_from_listing(html, base_url=LISTING.url, source=LISTING) == listing.links


@pytest.mark.parametrize("name", sorted(crafted_pages))
def test_each_crafted_page_is_read_in_this_process(name) -> None:
    # Small sizes: a construct that crashes a parser does so at any size.
    article = extract_article(crafted_pages[name](200).decode(errors="replace"), url=URL, now=NOW)
    assert article.title


@pytest.mark.parametrize("name", sorted(crafted_feeds))
def test_each_crafted_feed_is_read_or_refused_with_a_documented_error(name) -> None:
    try:
        listing = read_feed(crafted_feeds[name](200), source=FEED)
    except ScrapeError:
        return
    assert listing.links
