"""What a poll hands to the parsing sandbox: pure functions of plain data, run in its workers.

Each takes bytes, strings and frozen dataclasses and returns frozen dataclasses, so it crosses
the process boundary as it is (scrapers/sandbox.py). A job that reads articles takes `finish`,
what the caller computes from each article (the sandbox's Finish, given to it by the bot): the
job returns finish(article) in the article's place, computed where the article was extracted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .discover import read_feed, read_listing
from .extract import article_from_link, extract_page, merge_link
from .feedscan import listed_links
from .models import Article, Link, Listing, Source
from .normalize import strip_lines, url_key
from .outcomes import call

# A poll's new items read with their feed in one job, at most: more (a first run) are read one
# job each, so that one long job never holds a worker from the other sources.
READ_WITH_FEED = 3


def feed_urls(content: bytes) -> tuple[str, ...]:
    """Return the http(s) links a feed lists, by a quick scan, to ask the archive about."""
    return listed_links(content)


def source_links(
    source: Source, *, content: bytes, text: str, base_url: str, skip: frozenset[str] = frozenset()
) -> Listing:
    """Return the links of a source's feed or listing page, and the items skipped as unreadable."""
    if source.kind == "feed":
        return read_feed(content, source=source, skip=skip)
    return read_listing(text, base_url=base_url, source=source)


def feed_articles(
    source: Source,
    *,
    content: bytes,
    skip: frozenset[str],
    now: datetime,
    finish: Callable[[Article], Any] | None = None,
) -> tuple[Listing, tuple[tuple[str, tuple], ...]]:
    """Return a feed's links (as source_links does) and the articles of its unread items that
    need no page, when there are at most READ_WITH_FEED: each as its own job outcome (see
    outcomes.call), so a bad item fails alone. One round trip where a new item took two."""
    listing = read_feed(content, source=source, skip=skip)
    unread = [
        link
        for link in listing.links
        if url_key(link.canonical_url) not in skip and (link.content_html or not source.fetch_pages)
    ]
    if len(unread) > READ_WITH_FEED:
        return listing, ()
    kwargs = {"source": source, "now": now, "finish": finish}
    return listing, tuple((link.url, call(link_article, (link,), kwargs)) for link in unread)


@dataclass(frozen=True, slots=True)
class PageRead:
    """A link's article read from its page, as page_article returns it (finish(article), or the
    article), and the source's named selectors that matched nothing on the page."""

    value: Any
    missed: tuple[str, ...] = ()


def link_article(
    link: Link,
    *,
    source: Source,
    now: datetime,
    finish: Callable[[Article], Any] | None = None,
) -> Any:
    """Return a link's article (or finish(article)) built from the feed item alone, without a
    page (page_article reads one)."""
    article = article_from_link(link, source=source, now=now)
    return article if finish is None else finish(article)


def page_article(
    link: Link,
    *,
    source: Source,
    now: datetime,
    html: str,
    url: str,
    finish: Callable[[Article], Any] | None = None,
) -> PageRead:
    """Return a link's article read from its page `html` (fetched from `url`) and filled in from
    the link, with the selectors that missed there: one parse tells both."""
    extraction = extract_page(html, url=url, source=source, now=now, site_image=link.site_image)
    article = _merged(extraction.article, link, source=source)
    return PageRead(article if finish is None else finish(article), missed=extraction.missed)


def _merged(article: Article, link: Link, *, source: Source) -> Article:
    """Return a page's article filled in from what its link said."""
    merged = merge_link(article, link)
    if merged.lead == article.lead:
        return merged
    # The feed's summary carries the site's own lines as the page does (a "Follow us on" trailer,
    # a photo caption), so it loses them as the page's lead does.
    lead = strip_lines(merged.lead, trailers=source.trailers, drop=source.drop_lines)
    return replace(merged, lead=lead)
