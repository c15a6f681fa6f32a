"""One poll of one source: fetch, discover, skip the known, extract, enrich, store and enqueue.

Failures stay with their source: every poll ends in a RunRecord, and nothing but
cancellation escapes `poll_source`. The building blocks (`read_article`, `store_links`,
bot/ingest/preview.py's `preview_source`, and bot/ingest/links.py's `discover`) also serve
`check-source`, `add` and `backfill`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from bot.ingest.context import PollContext
from bot.ingest.ending import Ended
from bot.ingest.failures import backoff_seconds, from_link_only, permanent_failure
from bot.ingest.health import next_try
from bot.ingest.intake import gave_up, page_missing
from bot.ingest.links import (
    Lookups,
    Ready,
    due_for_recheck,
    newest,
    read_source,
    unseen,
)
from bot.ingest.listed import keep_listing, listed_before
from bot.ingest.plan import Quiet
from bot.ingest.prepare import Prepared
from bot.ingest.recording import keep_run
from bot.ingest.run_notes import run_notes
from bot.logfields import log_fields
from scrapers import Link, ParseError, ScrapeError, Source, url_key
from scrapers.jobs import link_article, page_article
from scrapers.models import Skipped
from storage import RunRecord, RunStatus, SourceState
from storage.busy import ArchiveBusy

log = logging.getLogger(__name__)

_RECHECKS_PER_POLL = 3
_FUTURE_SLACK = timedelta(days=1)  # time zones and clock skew; beyond that a date is wrong


async def poll_source(
    source: Source, ctx: PollContext, *, state: SourceState | None = None
) -> RunRecord:
    """Poll one source once and record the run (`state`: its row, when just read); never raises
    except on cancellation."""
    started = ctx.clock()
    with log_fields(event="poll", source=source.key, url=source.url):  # on each line it logs
        try:
            run = await _poll(source, ctx, started=started, state=state)
            # Reported only once on disk; meanwhile the loop serves other polls (walsync.py).
            await ctx.store.durable()
            return run
        except Exception as exc:  # noqa: BLE001 - even the archive failing must not stop us
            # A lock another worker holds is no fault of ours: one warning line, no traceback.
            busy = isinstance(exc, ArchiveBusy)
            log.log(
                logging.WARNING if busy else logging.ERROR,
                "poll %s %s: could not record the run%s",
                source.key,
                source.url,
                f": {exc}; recorded at the next poll" if busy else "",
                exc_info=None if busy else exc,
            )
            return RunRecord(
                source.key,
                started,
                ctx.clock(),
                RunStatus.ERROR,
                error=f"archive error: {exc}",
                error_kind=type(exc).__name__,
            )


async def _poll(
    source: Source, ctx: PollContext, *, started: datetime, state: SourceState | None
) -> RunRecord:
    """Poll, store and record one run (a failure of the site is recorded, not raised)."""
    state = state or ctx.store.sources.state(source.key)
    lookups = Lookups()  # what the feed's quick scan asks the archive, kept for the poll
    try:
        page, listing, ready = await read_source(
            source,
            ctx,
            etag=state.etag,
            last_modified=state.last_modified,
            settled_at=started,
            lookups=lookups,
        )
        if page.not_modified:  # the listing is as last read: its articles due are re-read still
            listed = listed_before(source, ctx, state=state, page=page)
            await recheck_known(source, listed, ctx, now=started)
            run = RunRecord(source.key, started, ctx.clock(), RunStatus.NOT_MODIFIED)
            keep_run(
                source, run, ctx, known=state, etag=page.etag, last_modified=page.last_modified
            )
            log.info("poll %s %s: not modified", source.key, source.url)
            return run
        links = keep_listing(source, listing.links, ctx, page=page)
        first_run = state.baseline_at is None
        fresh = unseen(links, ctx.store, lookups=lookups)
        to_post = {link.url for link in (newest(fresh, source.backfill) if first_run else fresh)}
        problems = [_skipped(source, item) for item in listing.skipped]
        ended = Ended(source, ctx, links=links, page=page, started=started, problems=problems)
        new, failed, skipped, usual = await store_links(
            source,
            fresh,
            ctx,
            post=lambda link: link.url in to_post,
            quiet_stubs=first_run,
            ready=ready,
            last=ended.with_article(state, lookups),
        )
        problems += failed
        await recheck_known(source, links, ctx, now=started, ready=ready, lookups=lookups)
    except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
        return record_failure(source, ctx, started=started, exc=exc)
    run = ended.written(new)  # recorded with the last new article, in its transaction
    if run is None:
        run = ended.run(new, problems)
        keep_run(source, run, ctx, known=state, **ended.state(skipped))
    if ctx.selector_misses is not None:  # what its new pages showed of its selectors, for status
        ctx.selector_misses.keep(source, state, ctx.store, started=started)
    log.info(
        "poll %s %s: %s, %d links, %d new%s",
        source.key,
        source.url,
        run.status,
        len(links),
        new,
        run_notes(first_run=first_run, new=new, usual=usual, problems=len(problems)),
    )
    return run


def _skipped(source: Source, item: Skipped) -> str:
    """Log a listed item discovery could not read, and return the problem to record."""
    log.warning("article %s %s: skipped: %s", source.key, item.url, item.reason)
    return f"{item.url}: skipped: {item.reason}"


async def store_links(
    source: Source,
    links: list[Link],
    ctx: PollContext,
    *,
    post: Callable[[Link], bool],
    quiet: Quiet = Quiet.FIRST_RUN,
    quiet_stubs: bool = False,
    ready: Ready | None = None,
    last: Callable[[int, list[str], int], object] | None = None,
) -> tuple[int, list[str], int, int]:
    """Read, enrich and store each link's article, oldest first; return (stored, problems, skipped,
    posting), `posting` being how many of those stored were stored to post (`last`: writes to make
    with the last link's article, given the first three as they would be; `quiet`: why a link
    `post` refuses is not posted).

    A page that fails for good (a 4xx, not HTML, too slow to parse) is stored from what the
    listing said, so it is not retried forever; a transient failure leaves the link unseen for
    the next poll (skipped), unless `quiet_stubs` and the link is not to be posted (a first run,
    whose re-reads fill the stub in later). A bug that hits one link skips only that link.
    """
    stored, problems, skipped, posting = 0, [], 0, 0
    for link in reversed(links):  # Oldest first, so posts reach the channel in publication order.
        with log_fields(url=link.url):  # the article's address, not the listing's
            try:
                wanted = post(link)
                stub = quiet_stubs and not wanted
                prepared, postable = await _read_or_stub(
                    source, link, ctx, problems, stub_transient=stub, ready=ready
                )
                # The run goes with the last link's article (oldest first: links[0]).
                last_link = last is not None and link is links[0]
                also = partial(last, stored + 1, problems, skipped) if last_link else None
                # The listing's URL is remembered too, when the page names another canonical URL.
                kept = ctx.intake.store(
                    source.key,
                    prepared,
                    post=wanted and postable,
                    quiet=quiet if not wanted else Quiet.UNANSWERED,
                    now=ctx.clock(),
                    aliases=(link.canonical_url,),
                    also=also,
                )
                stored += kept
                posting += kept if wanted and postable else 0
            except ScrapeError:
                skipped += 1  # Transient: the link stays unseen and is tried again next poll.
            except ArchiveBusy as exc:
                # Said once by the intake (its warning line); not a poison article, no traceback.
                problems.append(f"{link.url}: {exc}")
                skipped += 1
            except Exception as exc:  # noqa: BLE001 - one poison article must not block the others
                problems.append(f"{link.url}: unexpected {type(exc).__name__}: {exc}")
                log.error("article %s %s: failed", source.key, link.url, exc_info=exc)
                skipped += 1
    return stored, problems, skipped, posting


async def _read_or_stub(
    source: Source,
    link: Link,
    ctx: PollContext,
    problems: list[str],
    *,
    stub_transient: bool,
    ready: Ready | None = None,
) -> tuple[Prepared, bool]:
    """Read a link's article, and say whether it may be posted; a page gone for good becomes a
    stub from the link, a transient failure is raised (or stubbed too, with `stub_transient`).
    Either is noted in `problems`. A page that answers 404/410 is waited for (raised) first,
    and then its stub is posted only if the source says so (MissingPages, intake.py)."""
    try:
        read = await read_article(source, link, ctx, ready=ready)
    except ScrapeError as exc:
        missing = page_missing(exc) and not stub_transient
        if missing and ctx.intake.missing.waiting(source, link, now=ctx.clock()):
            log.info(
                "article %s %s: %s; not posted yet, tried again next poll",
                source.key,
                link.url,
                exc,
            )
            raise
        reason = gave_up(source, exc) if missing else str(exc)
        problems.append(reason)
        log.warning("article %s %s: failed: %s", source.key, link.url, reason)
        if not (stub_transient or missing or permanent_failure(exc)):
            raise
        return ctx.intake.enricher.prepare(
            from_link_only(link, source)
        ), not missing or source.missing_page == "post"
    ctx.intake.missing.found(link)
    return read, True


async def recheck_known(
    source: Source,
    links: tuple[Link, ...],
    ctx: PollContext,
    *,
    now: datetime | None = None,
    ready: Ready | None = None,
    lookups: Lookups | None = None,
) -> int:
    """Re-read a few recent known articles still listed, storing changed texts as new versions.

    Corrections to a release usually come within hours, so only articles first seen within the
    source's `recheck` window are re-read, each at most every half hour, three per poll.
    """
    by_key = {url_key(link.canonical_url): link for link in links}
    due = due_for_recheck(
        source, by_key, ctx, now=now or ctx.clock(), limit=_RECHECKS_PER_POLL, lookups=lookups
    )
    changed = 0
    # An older article's page may be of a template the site left: not evidence of a selector.
    rereading = replace(ctx, selector_misses=None)
    for article_id, key, stored_hash in due:
        try:
            article = await read_article(source, by_key[key], rereading, ready=ready)
        except ScrapeError as exc:
            log.info("article %s %s: re-reading failed: %s", source.key, by_key[key].url, exc)
            # Tried counts as checked: else a failing page is due again at every poll and keeps
            # its slot, and the source's other articles are never re-read.
            ctx.store.mark_checked(article_id, now=ctx.clock())
            continue
        decision = ctx.intake.decide_reread(
            source.key, article, article_id=article_id, stored_hash=stored_hash
        )
        changed += ctx.intake.carry_out(source.key, decision, now=ctx.clock())
    return changed


async def read_article(
    source: Source, link: Link, ctx: PollContext, *, ready: Ready | None = None
) -> Prepared:
    """Fetch and extract one article (parsed and prepared in the sandbox), or build it from the
    feed item; one read along with its feed (`ready`) is taken from there."""
    now = ctx.clock()
    found = ready.pop(link.url, None) if ready else None
    if isinstance(found, ParseError):
        raise found
    missed: tuple[str, ...] = ()  # the source's selectors are checked on a page alone
    if found is not None:
        read = found
    elif link.content_html or not source.fetch_pages:
        read = await ctx.parser.run_finished(link.url, link_article, link, source=source, now=now)
    else:
        page = await ctx.fetcher.get(link.url, robots=source.robots, headers=source.headers)
        got = await ctx.parser.run_finished(
            page.url, page_article, link, source=source, now=now, html=page.text, url=page.url
        )
        read, missed = got.value, got.missed
        if ctx.selector_misses is not None:
            ctx.selector_misses.note(source, page.url, missed, now=now)
    # A parser without the Finish (scrapers/sandbox.py) returns the bare article: prepared here.
    prepared = ctx.intake.enricher.prepare(read)
    article = prepared.article
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
    dated = replace(prepared.enriched, article=replace(article, published=published))
    return replace(prepared, enriched=dated, missed=missed)


def record_failure(
    source: Source, ctx: PollContext, *, started: datetime, exc: BaseException
) -> RunRecord:
    """Record a failed poll with a reason a person can act on, back the source off, update health."""
    # A poll the scheduler stopped at its deadline is recorded here, outside poll_source.
    with log_fields(event="poll", source=source.key, url=source.url):
        failures = ctx.store.sources.state(source.key).consecutive_failures
        reason = (
            str(exc) if isinstance(exc, ScrapeError) else f"unexpected {type(exc).__name__}: {exc}"
        )
        if not isinstance(exc, ScrapeError):
            log.error("poll %s %s: crashed", source.key, source.url, exc_info=exc)
        finished = ctx.clock()
        most = ctx.health.max_backoff_seconds
        backoff = timedelta(seconds=backoff_seconds(source.every_seconds, failures, most))
        run = RunRecord(
            source.key,
            started,
            finished,
            RunStatus.ERROR,
            error=reason,
            error_kind=type(exc).__name__,
        )
        later = next_try(exc, finished=finished, backoff=backoff, failures=failures, most=most)
        keep_run(source, run, ctx, next_poll_at=later)
        log.warning("poll %s %s: failed: %s", source.key, source.url, reason)
        return run
