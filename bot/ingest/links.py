"""A source's links: its feed or listing page fetched and read, and which links are new or due again."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.ingest.context import PollContext
from scrapers import Link, Page, Source, url_key
from scrapers.jobs import feed_urls, source_links
from scrapers.models import Listing
from scrapers.normalize import canonical_or_none
from storage import Store

_RECHECK_SPACING = 1800  # seconds between two re-reads of one article


async def discover(
    source: Source,
    ctx: PollContext,
    *,
    url: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    settled_at: datetime | None = None,
) -> tuple[Page, tuple[Link, ...]]:
    """Fetch a source's feed or listing page (or another page of it) and return its links."""
    page, listing = await read_source(
        source, ctx, url=url, etag=etag, last_modified=last_modified, settled_at=settled_at
    )
    return page, listing.links


async def read_source(
    source: Source,
    ctx: PollContext,
    *,
    url: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    settled_at: datetime | None = None,
) -> tuple[Page, Listing]:
    """Fetch a source's feed or listing page and return its links and the items it skipped.

    The page is parsed in the sandbox (ctx.parser). With `settled_at`, a feed's items that are
    archived and not due for a re-read at that time come back as bare links (url only), unread:
    polls need only the new items in full.
    """
    page = await ctx.fetcher.get(
        url or source.url,
        etag=etag,
        last_modified=last_modified,
        robots=source.robots,
        headers=source.headers,
    )
    if page.not_modified:
        return page, Listing(())
    skip = frozenset()
    if settled_at is not None and source.kind == "feed":
        skip = await _settled_items(source, page, ctx, now=settled_at)
    # A feed is read from its bytes, a listing page from its text: only that one is sent to the
    # worker (both would double what crosses for every poll).
    feed = source.kind == "feed"
    listing = await ctx.parser.run(
        page.url,
        source_links,
        source,
        content=page.content if feed else b"",
        text="" if feed else page.text,
        base_url=page.url,
        skip=skip,
    )
    return page, listing


async def _settled_items(
    source: Source, page: Page, ctx: PollContext, *, now: datetime
) -> frozenset[str]:
    """Return the URL identities of a feed's items that are archived and not due for a re-read."""
    listed = await ctx.parser.run(page.url, feed_urls, page.content)
    # The scan also sees links inside embedded HTML; an unparseable one must not stop the poll.
    canonical = [
        found for url in listed if (found := canonical_or_none(url, rewrites=source.url_rewrites))
    ]
    if not canonical:
        return frozenset()
    due = {
        key for _, key, _ in due_for_recheck(source, canonical, ctx, now=now, limit=len(canonical))
    }
    return frozenset(ctx.store.known_url_keys(canonical) - due)


def unseen(links: tuple[Link, ...], store: Store) -> list[Link]:
    """Return the links whose URL is not archived yet, in page order."""
    known = store.known_url_keys(link.canonical_url for link in links)
    return [link for link in links if url_key(link.canonical_url) not in known]


def due_for_recheck(
    source: Source, urls, ctx: PollContext, *, now: datetime, limit: int
) -> list[tuple[int, str, str]]:
    """Return (id, url key, content hash) of the listed articles due for a re-read at `now`."""
    if not source.recheck_seconds:
        return []
    return ctx.store.recheck_candidates(
        source.key,
        urls,
        discovered_since=now - timedelta(seconds=source.recheck_seconds),
        checked_before=now - timedelta(seconds=max(source.every_seconds, _RECHECK_SPACING)),
        limit=limit,
    )


def newest(links: list[Link], count: int) -> list[Link]:
    """Return the `count` newest links: by date when every link has one, else in page order."""
    if count <= 0:
        return []
    if all(link.published for link in links):
        return sorted(links, key=lambda link: link.published, reverse=True)[:count]
    return links[:count]
