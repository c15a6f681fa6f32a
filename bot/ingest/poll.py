"""One poll of one source: fetch, discover, skip the known, extract, enrich, store and enqueue.

Failures stay with their source: every poll ends in a RunRecord, and nothing but
cancellation escapes `poll_source`. The building blocks (`discover`, `read_article`,
`store_links`, `preview_source`) also serve `check-source` and `backfill`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.config import Config, HealthConfig
from bot.ingest.enrich import Enricher
from bot.ingest.health import record_health
from bot.ingest.intake import Intake
from scrapers import (
    Article,
    FetchError,
    Link,
    Page,
    ScrapeError,
    Source,
    article_from_link,
    extract_article,
    links_from_feed,
    links_from_listing,
    merge_link,
    url_key,
)
from scrapers.feedscan import listed_links
from scrapers.fetch import Fetcher
from scrapers.normalize import canonical_or_none
from storage import RunRecord, RunStatus, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_RECHECKS_PER_POLL = 3
_RECHECK_SPACING = 1800  # seconds between two re-reads of one article
_FUTURE_SLACK = timedelta(days=1)  # time zones and clock skew; beyond that a date is wrong


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class PollContext:
    """The collaborators one poll needs, built once by the composition root (bot/app.py)."""

    fetcher: Fetcher
    store: Store
    intake: Intake | None = None  # required; set from `config` by the shim below
    health: HealthConfig = field(default_factory=HealthConfig)
    admin_chat_id: str | None = None
    clock: Clock = _now
    # bench/ still builds a context from the whole Config; bot.app.poll_context is the way, and
    # this InitVar goes once bench/ uses it.
    config: InitVar[Config | None] = None

    def __post_init__(self, config: Config | None) -> None:
        if config is not None:
            self.intake = Intake(
                Enricher(config.enrich, self.store),
                self.store,
                channels=config.channels,
                corrections=config.telegram.corrections,
            )
            self.health, self.admin_chat_id = config.health, config.telegram.admin_chat_id
        if self.intake is None:
            raise TypeError("PollContext needs an intake")


async def poll_source(source: Source, ctx: PollContext) -> RunRecord:
    """Poll one source once and record the run; never raises except on cancellation."""
    started = ctx.clock()
    try:
        return await _poll(source, ctx, started=started)
    except Exception as exc:  # noqa: BLE001 - even the archive failing must not stop the service
        log.error("poll %s %s: could not record the run", source.key, source.url, exc_info=exc)
        return RunRecord(
            source.key,
            started,
            ctx.clock(),
            RunStatus.ERROR,
            error=f"archive error: {exc}",
            error_kind=type(exc).__name__,
        )


async def _poll(source: Source, ctx: PollContext, *, started: datetime) -> RunRecord:
    """Poll, store and record one run (a failure of the site is recorded, not raised)."""
    state = ctx.store.sources.state(source.key)
    try:
        page, links = await discover(
            source, ctx, etag=state.etag, last_modified=state.last_modified, settled_at=started
        )
        if page.not_modified:
            run = RunRecord(source.key, started, ctx.clock(), RunStatus.NOT_MODIFIED)
            ctx.store.sources.record_run(run, etag=page.etag, last_modified=page.last_modified)
            _record_health(source, run, ctx)
            log.info("poll %s %s: not modified", source.key, source.url)
            return run
        first_run = state.baseline_at is None
        fresh = unseen(links, ctx.store)
        to_post = {link.url for link in (newest(fresh, source.backfill) if first_run else fresh)}
        new, problems, skipped = await store_links(
            source, fresh, ctx, post=lambda link: link.url in to_post
        )
        await recheck_known(source, links, ctx, now=started)
    except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
        return record_failure(source, ctx, started=started, exc=exc)
    run = RunRecord(
        source.key,
        started,
        ctx.clock(),
        RunStatus.PARTIAL if problems else RunStatus.OK,
        links_found=len(links),
        new_articles=new,
        error="; ".join(problems[:5]) or None,
    )
    # Links skipped for a transient failure must be seen again: no validators (a 304 would hide
    # them) and, on a first run, no baseline yet (they would be posted as new next time).
    ctx.store.sources.record_run(
        run,
        etag=None if skipped else page.etag,
        last_modified=None if skipped else page.last_modified,
        baseline=not (first_run and skipped),
    )
    _record_health(source, run, ctx)
    log.info(
        "poll %s %s: %s, %d links, %d new%s",
        source.key,
        source.url,
        run.status,
        len(links),
        new,
        _run_notes(source, first_run=first_run, problems=len(problems)),
    )
    return run


async def discover(
    source: Source,
    ctx: PollContext,
    *,
    url: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    settled_at: datetime | None = None,
) -> tuple[Page, tuple[Link, ...]]:
    """Fetch a source's feed or listing page (or another page of it) and return its links.

    With `settled_at`, a feed's items that are archived and not due for a re-read at that
    time come back as bare links (url only), unread: polls need only the new items in full.
    """
    page = await ctx.fetcher.get(
        url or source.url,
        etag=etag,
        last_modified=last_modified,
        robots=source.robots,
        headers=source.headers,
    )
    if page.not_modified:
        return page, ()
    skip = frozenset()
    if settled_at is not None and source.kind == "feed":
        skip = _settled_items(source, page.content, ctx, now=settled_at)
    links = await asyncio.to_thread(_links, source, page.content, page.text, page.url, skip)
    return page, links


def _settled_items(
    source: Source, content: bytes, ctx: PollContext, *, now: datetime
) -> frozenset[str]:
    """Return the URL identities of a feed's items that are archived and not due for a re-read."""
    # The scan also sees links inside embedded HTML; an unparseable one must not stop the poll.
    canonical = [
        found
        for url in listed_links(content)
        if (found := canonical_or_none(url, rewrites=source.url_rewrites))
    ]
    if not canonical:
        return frozenset()
    due = {
        key for _, key, _ in _due_for_recheck(source, canonical, ctx, now=now, limit=len(canonical))
    }
    return frozenset(ctx.store.known_url_keys(canonical) - due)


def unseen(links: tuple[Link, ...], store: Store) -> list[Link]:
    """Return the links whose URL is not archived yet, in page order."""
    known = store.known_url_keys(link.canonical_url for link in links)
    return [link for link in links if url_key(link.canonical_url) not in known]


async def store_links(
    source: Source,
    links: list[Link],
    ctx: PollContext,
    *,
    post: Callable[[Link], bool],
) -> tuple[int, list[str], int]:
    """Read, enrich and store each link's article, oldest first; return (stored, problems, skipped).

    A page that fails for good (a 4xx, not HTML) is stored from what the listing said, so it is
    not retried forever; a transient failure leaves the link unseen for the next poll (skipped).
    """
    stored, problems, skipped = 0, [], 0
    for link in reversed(links):  # Oldest first, so posts reach the channel in publication order.
        try:
            article = await _read_or_stub(source, link, ctx, problems)
            # The listing's URL is remembered too, when the page names another canonical URL.
            stored += ctx.intake.store(
                source.key, article, post=post(link), now=ctx.clock(), aliases=(link.canonical_url,)
            )
        except ScrapeError:
            skipped += 1  # Transient: the link stays unseen and is tried again next poll.
        except Exception as exc:  # noqa: BLE001 - one poison article must not block the others
            problems.append(f"{link.url}: unexpected {type(exc).__name__}: {exc}")
            log.error("article %s %s: failed", source.key, link.url, exc_info=exc)
            skipped += 1
    return stored, problems, skipped


async def _read_or_stub(
    source: Source, link: Link, ctx: PollContext, problems: list[str]
) -> Article:
    """Read a link's article; a page gone for good becomes a stub from the link, a transient
    failure is raised. Either failure is noted in `problems`."""
    try:
        return await read_article(source, link, ctx)
    except ScrapeError as exc:
        problems.append(str(exc))
        log.warning("article %s %s: failed: %s", source.key, link.url, exc)
        if not permanent_failure(exc):
            raise
        return _from_link_only(link)


async def recheck_known(
    source: Source, links: tuple[Link, ...], ctx: PollContext, *, now: datetime | None = None
) -> int:
    """Re-read a few recent known articles still listed, storing changed texts as new versions.

    Corrections to a release usually come within hours, so only articles first seen within the
    source's `recheck` window are re-read, each at most every half hour, three per poll.
    """
    by_key = {url_key(link.canonical_url): link for link in links}
    due = _due_for_recheck(source, by_key, ctx, now=now or ctx.clock(), limit=_RECHECKS_PER_POLL)
    changed = 0
    for article_id, key, stored_hash in due:
        try:
            article = await read_article(source, by_key[key], ctx)
        except ScrapeError as exc:
            log.info("article %s %s: re-reading failed: %s", source.key, by_key[key].url, exc)
            continue
        decision = ctx.intake.decide_reread(
            source.key, article, article_id=article_id, stored_hash=stored_hash
        )
        changed += ctx.intake.carry_out(source.key, decision, now=ctx.clock())
    return changed


def _due_for_recheck(
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


async def read_article(source: Source, link: Link, ctx: PollContext) -> Article:
    """Fetch and extract one article, or build it from the feed item when that is enough."""
    now = ctx.clock()
    if link.content_html or not source.fetch_pages:
        article = article_from_link(link, source=source, now=now)
    else:
        page = await ctx.fetcher.get(link.url, robots=source.robots, headers=source.headers)
        article = await asyncio.to_thread(
            extract_article, page.text, url=page.url, source=source, now=now
        )
        article = merge_link(article, link)
    published = article.published or link.published or now
    if published > now + _FUTURE_SLACK:
        # A site's clock or a typo ("2062" for "2026"): the article is new now, not in years.
        log.warning(
            "article %s %s: publication time %s is in the future; using the time it was found",
            source.key,
            link.url,
            published.isoformat(),
        )
        published = now
    return replace(article, published=published)


async def preview_source(
    source: Source, ctx: PollContext, *, limit: int = 5
) -> tuple[tuple[Link, ...], list[Article | ScrapeError]]:
    """Return a source's links and its first `limit` articles (or their errors), writing nothing."""
    _, links = await discover(source, ctx)
    articles: list[Article | ScrapeError] = []
    for link in links[:limit]:
        try:
            enriched = ctx.intake.enricher.enrich(await read_article(source, link, ctx))
            articles.append(enriched.article)
        except ScrapeError as exc:
            articles.append(exc)
    return links, articles


def _links(
    source: Source, content: bytes, text: str, base_url: str, skip: frozenset[str] = frozenset()
) -> tuple[Link, ...]:
    """Return the source's links from a feed or a listing page."""
    if source.kind == "feed":
        return links_from_feed(content, source=source, skip=skip)
    return links_from_listing(text, base_url=base_url, source=source)


def _record_health(source: Source, run: RunRecord, ctx: PollContext) -> None:
    """Update the source's health after a recorded run."""
    record_health(
        source,
        run,
        store=ctx.store,
        policy=ctx.health,
        admin_chat_id=ctx.admin_chat_id,
    )


def _run_notes(source: Source, *, first_run: bool, problems: int) -> str:
    """Return the parenthetical notes of a poll's log line."""
    notes = []
    if first_run:
        notes.append(f"first run: recorded silently except the newest {source.backfill}")
    if problems:
        notes.append(f"{problems} article(s) failed")
    return f" ({'; '.join(notes)})" if notes else ""


def newest(links: list[Link], count: int) -> list[Link]:
    """Return the `count` newest links: by date when every link has one, else in page order."""
    if count <= 0:
        return []
    if all(link.published for link in links):
        return sorted(links, key=lambda link: link.published, reverse=True)[:count]
    return links[:count]


def permanent_failure(exc: ScrapeError) -> bool:
    """Return True for article errors that retrying will not fix (a 4xx, robots, not HTML…)."""
    if isinstance(exc, FetchError):
        return not exc.retryable
    return True


def _from_link_only(link: Link) -> Article:
    """Return an article made of what the listing or feed said, when its page cannot be read."""
    return Article(
        url=link.url,
        canonical_url=link.canonical_url,
        title=link.title or link.url,
        published=link.published,
    )


def record_failure(
    source: Source, ctx: PollContext, *, started: datetime, exc: BaseException
) -> RunRecord:
    """Record a failed poll with a reason a person can act on, back the source off, update health."""
    failures = ctx.store.sources.state(source.key).consecutive_failures
    reason = str(exc) if isinstance(exc, ScrapeError) else f"unexpected {type(exc).__name__}: {exc}"
    if not isinstance(exc, ScrapeError):
        log.error("poll %s %s: crashed", source.key, source.url, exc_info=exc)
    finished = ctx.clock()
    # Doubling per consecutive failure, capped; the first failure waits only the normal interval.
    backoff = min(
        timedelta(seconds=source.every_seconds) * 2**failures,
        timedelta(seconds=ctx.health.max_backoff_seconds),
    )
    run = RunRecord(
        source.key, started, finished, RunStatus.ERROR, error=reason, error_kind=type(exc).__name__
    )
    ctx.store.sources.record_run(run, next_poll_at=finished + backoff if failures else None)
    _record_health(source, run, ctx)
    log.warning("poll %s %s: failed: %s", source.key, source.url, reason)
    return run
