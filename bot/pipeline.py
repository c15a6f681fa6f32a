"""One poll of one source: fetch, discover, skip the known, extract, enrich, store and enqueue.

Failures stay with their source: every poll ends in a RunRecord, and nothing but
cancellation escapes `poll_source`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from scrapers import (
    Article, FetchError, Link, ScrapeError, Source, article_from_link, extract_article,
    links_from_feed, links_from_listing, merge_link, url_key,
)
from scrapers.errors import HTTPStatusError
from scrapers.fetch import Fetcher
from storage import Delivery, RunRecord, Store

from .config import Channel
from .routing import channels_for
from .summarize import summarize

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class PollContext:
    """The collaborators one poll needs."""

    fetcher: Fetcher
    store: Store
    channels: tuple[Channel, ...]
    clock: Clock = lambda: datetime.now(UTC)


async def poll_source(source: Source, ctx: PollContext) -> RunRecord:
    """Poll one source once and record the run; never raises except on cancellation."""
    started = ctx.clock()
    state = ctx.store.source_state(source.key)
    try:
        page = await ctx.fetcher.get(source.url, etag=state.etag, last_modified=state.last_modified,
                                     robots=source.robots, headers=source.headers)
        if page.not_modified:
            run = RunRecord(source.key, started, ctx.clock(), "not_modified")
            ctx.store.record_run(run, etag=page.etag, last_modified=page.last_modified)
            log.info("%s: not modified since last poll", source.key)
            return run
        links = await asyncio.to_thread(_discover, source, page.content, page.text, page.url)
        first_run = state.baseline_at is None
        new, problems = await _collect(source, links, ctx, first_run=first_run)
    except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
        return _record_failure(source, ctx, started=started, exc=exc, failures=state.consecutive_failures)
    status = "partial" if problems else "ok"
    run = RunRecord(source.key, started, ctx.clock(), status, links_found=len(links),
                    new_articles=new, error="; ".join(problems[:5]) or None)
    ctx.store.record_run(run, etag=page.etag, last_modified=page.last_modified, baseline=True)
    log.info("%s: %d links, %d new%s", source.key, len(links), new,
             _run_notes(source, first_run=first_run, problems=len(problems)))
    return run


def _run_notes(source: Source, *, first_run: bool, problems: int) -> str:
    """Return the parenthetical notes of a poll's log line."""
    notes = []
    if first_run:
        notes.append(f"first run: recorded silently except the newest {source.backfill}")
    if problems:
        notes.append(f"{problems} article(s) failed")
    return f" ({'; '.join(notes)})" if notes else ""


def _discover(source: Source, content: bytes, text: str, base_url: str) -> tuple[Link, ...]:
    """Return the source's links from a feed or a listing page."""
    if source.kind == "feed":
        return links_from_feed(content, source=source)
    return links_from_listing(text, base_url=base_url, source=source)


async def _collect(
    source: Source, links: tuple[Link, ...], ctx: PollContext, *, first_run: bool
) -> tuple[int, list[str]]:
    """Store every unseen link's article; return (how many were stored, per-article problems)."""
    known = ctx.store.known_url_keys(link.canonical_url for link in links)
    fresh = [link for link in links if url_key(link.canonical_url) not in known]
    to_post = {link.url for link in (_newest(fresh, source.backfill) if first_run else fresh)}
    stored, problems = 0, []
    # Oldest first, so posts reach the channel in publication order.
    for link in reversed(fresh):
        try:
            article = await _article(source, link, ctx)
        except ScrapeError as exc:
            problems.append(str(exc))
            log.warning("%s: %s", source.key, exc)
            if not _permanent(exc):
                continue  # Transient: the link stays unseen and is tried again next poll.
            article = _from_link_only(link)
        stored += _store(source, article, ctx, post=link.url in to_post)
    return stored, problems


async def _article(source: Source, link: Link, ctx: PollContext) -> Article:
    """Fetch and extract one article, or build it from the feed item when that is enough."""
    now = ctx.clock()
    if link.content_html or not source.fetch_pages:
        article = article_from_link(link, source=source, now=now)
    else:
        page = await ctx.fetcher.get(link.url, robots=source.robots, headers=source.headers)
        article = await asyncio.to_thread(extract_article, page.text, url=page.url, source=source,
                                          now=now)
        article = merge_link(article, link)
    return replace(article, published=article.published or link.published or now)


def _store(source: Source, article: Article, ctx: PollContext, *, post: bool) -> int:
    """Enrich and store one article with its deliveries; return 1 if stored, 0 if already known."""
    if ctx.store.known_url_keys([article.canonical_url]):
        return 0  # The page's canonical URL names an article we already have.
    article = replace(article, summary=summarize(
        title=article.title, lead=article.lead, body=article.body, lang=article.lang))
    duplicate_of = ctx.store.article_with_hash(article.content_hash) if article.body else None
    targets = channels_for(article, source_key=source.key, channels=ctx.channels)
    deliveries = [Delivery(c.name, c.chat_id) for c in targets] if post and not duplicate_of else []
    ctx.store.add_article(article, source_key=source.key, now=ctx.clock(), deliveries=deliveries,
                          duplicate_of=duplicate_of, silent=not post)
    log.info("%s: stored %s%s", source.key, article.url,
             f" (same text as article {duplicate_of})" if duplicate_of else
             f", queued for {', '.join(c.name for c in targets)}" if deliveries else " (silently)")
    return 1


def _newest(links: list[Link], count: int) -> list[Link]:
    """Return the `count` newest links: by date when every link has one, else in page order."""
    if count <= 0:
        return []
    if all(link.published for link in links):
        return sorted(links, key=lambda link: link.published, reverse=True)[:count]
    return links[:count]


def _permanent(exc: ScrapeError) -> bool:
    """Return True for article errors that retrying will not fix (a 4xx, a page that is not HTML)."""
    if isinstance(exc, HTTPStatusError):
        return 400 <= exc.status < 500 and exc.status != 429
    return not isinstance(exc, FetchError)


def _from_link_only(link: Link) -> Article:
    """Return an article made of what the listing or feed said, when its page cannot be read."""
    return Article(url=link.url, canonical_url=link.canonical_url, title=link.title or link.url,
                   published=link.published)


def _record_failure(source: Source, ctx: PollContext, *, started: datetime, exc: BaseException,
                    failures: int) -> RunRecord:
    """Record a failed poll with a reason a person can act on, and back the source off."""
    reason = str(exc) if isinstance(exc, ScrapeError) else f"unexpected {type(exc).__name__}: {exc}"
    if not isinstance(exc, ScrapeError):
        log.error("%s: poll crashed", source.key, exc_info=exc)
    finished = ctx.clock()
    backoff = min(timedelta(seconds=source.every_seconds) * 2 ** failures, _MAX_BACKOFF)
    run = RunRecord(source.key, started, finished, "error", error=reason)
    ctx.store.record_run(run, next_poll_at=finished + backoff if failures else None)
    log.warning("%s: poll failed: %s", source.key, reason)
    return run
