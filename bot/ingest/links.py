"""A source's links: its feed or listing page fetched and read, and which links are new or due again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ingest.context import PollContext
from bot.ingest.prepare import Prepared
from scrapers import Article, Link, Page, ParseError, Source, url_key
from scrapers.errors import ParserFailed, TooLargeToParse, TooSlowToParse
from scrapers.jobs import feed_articles, feed_urls, source_links
from scrapers.models import Listing
from scrapers.normalize import canonical_or_none
from scrapers.sandbox import unwrap
from storage import Store

_RECHECK_SPACING = 1800  # seconds between two re-reads of one article
# The articles a feed's reading brought along (prepared by the worker, or bare from a parser
# without the Finish), by link URL, or the error reading one met: a poll uses them instead of a
# job per new item.
Ready = dict[str, Prepared | Article | ParseError]
# A feed up to this size has its links scanned here, not in a worker: the scan is linear (0.25 ms
# for a 200 kB feed; the worst crafted 512 kB inputs tried took 10-15 ms) and a worker's round trip
# costs more than a usual scan; a larger feed is scanned in a worker.
_SCAN_HERE = 512 * 1024
# Counted in a feed's bytes: the tags of its items and entries (open and close, any prefix).
_ITEM_ENDS = (b"item>", b"entry>")


@dataclass(frozen=True, slots=True)
class _SettledFeed:
    """A feed's reading in which every item was archived and settled, and how to know it again."""

    source: Source
    listed: tuple[str, ...]  # the links the scan found, in order
    items: int  # how many item and entry tags the bytes hold
    listing: Listing  # bare links only
    keys: frozenset[str]  # their URL identities


@dataclass(slots=True)
class Lookups:
    """What a poll's quick scan of its feed learnt from the archive, kept for the rest of the poll."""

    asked: frozenset[str] = frozenset()  # the URL identities asked about
    known: frozenset[str] = frozenset()  # those archived
    due: tuple[tuple[int, str, str], ...] = ()  # those due for a re-read, most overdue first

    def covers(self, keys: set[str] | frozenset[str]) -> bool:
        """Return True when the scan asked about every one of `keys`."""
        return bool(keys) and keys <= self.asked


async def discover(
    source: Source, ctx: PollContext, *, url: str | None = None
) -> tuple[Page, tuple[Link, ...]]:
    """Fetch a source's feed or listing page (or another page of it, `url`) and return its links.

    Unconditional and unsettled: a dry run or a backfill wants every link; a poll that sends
    validators or settles a feed calls read_source.
    """
    page, listing, _ = await read_source(source, ctx, url=url)
    return page, listing.links


async def read_source(
    source: Source,
    ctx: PollContext,
    *,
    url: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    settled_at: datetime | None = None,
    lookups: Lookups | None = None,
) -> tuple[Page, Listing, Ready]:
    """Fetch a source's feed or listing page; return its links, the items it skipped, and the
    articles of its few new items read along with a feed.

    The page is parsed in the sandbox (ctx.parser). With `settled_at`, a feed's items that are
    archived and not due for a re-read at that time come back as bare links (url only), unread:
    polls need only the new items in full; and a feed whose every item came back so last time
    is not parsed again while it lists the same links and as many items. What the scan asked
    the archive is kept in `lookups`, so that the poll does not ask again.
    """
    page = await ctx.fetcher.get(
        url or source.url,
        etag=etag,
        last_modified=last_modified,
        robots=source.robots,
        headers=source.headers,
    )
    if page.not_modified:
        return page, Listing(()), {}
    feed = source.kind == "feed"
    if settled_at is None or not feed:
        return page, await _parse(source, page, ctx, skip=frozenset()), {}
    listed = await _listed(page, ctx)
    skip = await _settled_items(source, listed, ctx, now=settled_at, lookups=lookups or Lookups())
    items = sum(page.content.count(end) for end in _ITEM_ENDS)
    known = ctx.settled_feeds.get(source.key)
    if known and (known.source, known.listed, known.items) == (source, listed, items):
        # The same items as last time, and if all are still archived and none is due for a
        # re-read, the parse would return what it did then (a feed rebuilt under a new ETag).
        if known.keys <= skip:
            return page, known.listing, {}
    listing, ready = await _read_feed(source, page, ctx, skip=skip, now=settled_at)
    ctx.settled_feeds.pop(source.key, None)
    if settled := _all_settled(listing, skip):
        ctx.settled_feeds[source.key] = _SettledFeed(source, listed, items, listing, settled)
    return page, listing, ready


async def _read_feed(
    source: Source, page: Page, ctx: PollContext, *, skip: frozenset[str], now: datetime
) -> tuple[Listing, Ready]:
    """Read a feed and its few new items' articles in one job; apart when that job failed."""
    try:
        listing, outcomes = await ctx.parser.run_finished(
            page.url, feed_articles, source, content=page.content, skip=skip, now=now
        )
    except (TooSlowToParse, TooLargeToParse, ParserFailed):
        # The feed or one of its items is to blame: the feed alone, then each item in a job of
        # its own (as store_links does without `ready`), so that only the bad one fails.
        return await _parse(source, page, ctx, skip=skip), {}
    return listing, {url: _article_or_error(url, outcome) for url, outcome in outcomes}


def _article_or_error(url: str, outcome: tuple) -> Prepared | Article | ParseError:
    """Return an item's article, or the documented error its own job would have raised."""
    try:
        return unwrap(url, outcome)
    except ParseError as exc:
        return exc


async def _parse(source: Source, page: Page, ctx: PollContext, *, skip: frozenset[str]) -> Listing:
    """Read a feed or listing page in the sandbox, its `skip` items as bare links."""
    # A feed is read from its bytes, a listing page from its text: only that one is sent to the
    # worker (both would double what crosses for every poll).
    feed = source.kind == "feed"
    return await ctx.parser.run(
        page.url,
        source_links,
        source,
        content=page.content if feed else b"",
        text="" if feed else page.text,
        base_url=page.url,
        skip=skip,
    )


async def _listed(page: Page, ctx: PollContext) -> tuple[str, ...]:
    """Return the links a feed's quick scan finds: here for a small feed, else in the sandbox."""
    if len(page.content) <= _SCAN_HERE:
        return feed_urls(page.content)
    return await ctx.parser.run(page.url, feed_urls, page.content)


def _all_settled(listing: Listing, skip: frozenset[str]) -> frozenset[str]:
    """Return the URL identities of a reading whose every link is a bare one of `skip`, else
    nothing (a link read in full, or an unreadable item, must be read again next time)."""
    keys = frozenset(url_key(link.canonical_url) for link in listing.links)
    bare = all(
        link == Link(url=link.url, canonical_url=link.canonical_url) for link in listing.links
    )
    return keys if bare and not listing.skipped and keys <= skip else frozenset()


async def _settled_items(
    source: Source, listed: tuple[str, ...], ctx: PollContext, *, now: datetime, lookups: Lookups
) -> frozenset[str]:
    """Return the URL identities of a feed's items that are archived and not due for a re-read
    (what the archive said is kept in `lookups`)."""
    # The scan also sees links inside embedded HTML; an unparseable one must not stop the poll.
    canonical = [
        found for url in listed if (found := canonical_or_none(url, rewrites=source.url_rewrites))
    ]
    if not canonical:
        return frozenset()
    since, before = _recheck_window(source, now)
    facts = ctx.store.url_facts(
        source.key, canonical, discovered_since=since, checked_before=before
    )
    due = facts.due if source.recheck_seconds else ()
    lookups.asked = frozenset(url_key(url) for url in canonical)
    lookups.known, lookups.due = facts.known, due
    return facts.known - {key for _, key, _ in due}


def unseen(links: tuple[Link, ...], store: Store, *, lookups: Lookups | None = None) -> list[Link]:
    """Return the links whose URL is not archived yet, in page order (as the poll's scan found,
    when it asked about them all)."""
    keys = {url_key(link.canonical_url) for link in links}
    if lookups is not None and lookups.covers(keys):
        # Asked moments ago in this poll. An article stored since by another source's poll is
        # caught by the check of each new article before it is stored (Intake.decide).
        known = lookups.known
    else:
        known = store.known_url_keys(link.canonical_url for link in links)
    return [link for link in links if url_key(link.canonical_url) not in known]


def due_for_recheck(
    source: Source,
    urls,
    ctx: PollContext,
    *,
    now: datetime,
    limit: int,
    lookups: Lookups | None = None,
) -> list[tuple[int, str, str]]:
    """Return (id, url key, content hash) of the listed articles due for a re-read at `now`
    (from the poll's scan, when it asked about them all)."""
    if not source.recheck_seconds:
        return []
    if lookups is not None:
        keys = {url_key(url) for url in urls}
        if lookups.covers(keys):
            # Only this poll re-reads its source's articles, and it has not yet: still due.
            return [found for found in lookups.due if found[1] in keys][:limit]
    since, before = _recheck_window(source, now)
    return ctx.store.recheck_candidates(
        source.key, urls, discovered_since=since, checked_before=before, limit=limit
    )


def _recheck_window(source: Source, now: datetime) -> tuple[datetime, datetime]:
    """Return (discovered since, checked before): an article is due for a re-read within both."""
    spacing = max(source.every_seconds, _RECHECK_SPACING)
    return now - timedelta(seconds=source.recheck_seconds), now - timedelta(seconds=spacing)


def newest(links: list[Link], count: int) -> list[Link]:
    """Return the `count` newest links: by date when every link has one, else in page order."""
    if count <= 0:
        return []
    if all(link.published for link in links):
        return sorted(links, key=lambda link: link.published, reverse=True)[:count]
    return links[:count]
