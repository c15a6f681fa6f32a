"""What `check-source` does (bot/cli/check.py declares it; this loads when it runs).

Each new article is read, enriched and planned exactly as a poll does it (bot/ingest/intake.py),
against the archive opened read-only; only the carrying out is left undone.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from bot.app import open_app
from bot.archive import Archive, open_backend
from bot.cli.common import EXIT_FAILED, EXIT_OK, published_utc
from bot.config import Config, load_config
from bot.config.fields import span
from bot.delivery.compose import Composer
from bot.delivery.render import local_time, shorten
from bot.ingest.failures import permanent_failure
from bot.ingest.intake import Decision, page_missing
from bot.ingest.links import discover, newest, unseen
from bot.ingest.misses import instead
from bot.ingest.plan import describe
from bot.ingest.poll import read_article
from bot.ingest.run_notes import first_run_note
from scrapers import Link, ScrapeError, Source
from storage import OutboxItem, OutboxState

_SHOWN_ARCHIVED = 10


def check_source(args: argparse.Namespace) -> int:
    """Fetch one source live and show what a poll would store and post, writing nothing."""
    config = load_config(args.config)
    source = config.source(args.key)
    print(f"{source.key} ({source.display_name}): {source.kind} {source.url}")
    with open_backend(config) as backend:
        exists = backend.exists()
    print(
        f"archive: {backend}"
        + (", opened read-only" if exists else " does not exist yet: every link is new")
    )
    return asyncio.run(_check(source, config=config, limit=args.limit))


async def _check(source: Source, *, config: Config, limit: int) -> int:
    """Discover the source's links and show each new one as it would be stored and posted."""
    now = datetime.now(UTC)
    async with open_app(config, archive=Archive.DRY, deliver=False, clock=lambda: now) as app:
        # Each missed selector is printed with its article, not logged once as a poll does.
        ctx, store = replace(app.poll, selector_misses=None), app.store
        try:
            _, links = await discover(source, ctx)
        except ScrapeError as exc:
            print(f"FAILED: {exc}")
            return EXIT_FAILED
        fresh = unseen(links, store)
        first_run = store.sources.state(source.key).baseline_at is None
        to_post = {link.url for link in (newest(fresh, source.backfill) if first_run else fresh)}
        print(_summary_line(links, fresh, first_run=first_run, backfill=source.backfill))
        composer = Composer(config.delivery, store)
        for index, link in enumerate(fresh):
            if index >= limit:
                print(f"\nNEW {link.url}\n  not read (--limit {limit})")
                continue
            try:
                article = await read_article(source, link, ctx)
            except ScrapeError as exc:
                fate = _error_fate(exc, source, posted=link.url in to_post)
                print(f"\nNEW {link.url}\n  ERROR {exc}\n  {fate}")
                continue
            decision = ctx.intake.decide(source.key, article, post=link.url in to_post, now=now)
            # Named by the one reading of the page (read_article's), in the sandbox as a poll's.
            missed = article.missed
            print("\n" + _report(source, decision, composer=composer, now=now, missed=missed))
    _print_archived([link for link in links if link not in fresh])
    return EXIT_OK


def _missed_line(name: str) -> str:
    """Say that one of the source's selectors matched nothing, and what was read instead."""
    return f"selectors.{name} matched nothing on this page; {instead(name)}"


def _summary_line(
    links: tuple[Link, ...], fresh: list[Link], *, first_run: bool, backfill: int
) -> str:
    """Describe the links found and what the first-run baseline does with them."""
    line = (
        f"links: {len(links)} found, {len(fresh)} new, {len(links) - len(fresh)} already archived"
    )
    if first_run:  # in the words of a poll's log line: never "the newest 0"
        line += "\n" + first_run_note(new=len(fresh), usual=min(backfill, len(fresh)))
    return line


def _report(
    source: Source, decision: Decision, *, composer: Composer, now: datetime, missed: tuple = ()
) -> str:
    """Return one article as a poll would store it, its plan, the `missed` selectors, and its
    rendered post."""
    article = decision.enriched.article
    when = published_utc(article.published, now=now)
    if article.published and article.published != now:
        when += f" ({local_time(article.published, source.timezone)})"
    rows = [
        ("title", article.title),
        ("published", when),
        ("author", article.author or "-"),
        ("image", article.image or "-"),
        ("lead", shorten(article.lead, 300) or "-"),
        ("summary", article.summary or "-"),
        ("topics", ", ".join(article.topics + article.entities) or "-"),
        ("would be", describe(decision.plan)),
    ]
    lines = [f"NEW {article.url}", *(f"  {name + ':':<11}{value}" for name, value in rows)]
    lines += [f"  {_missed_line(name)}" for name in missed]
    # Rendered by the relay's own composer, so hashtags and layout match the real post; the
    # article is not stored, so it has no id and no other sources yet.
    draft = OutboxItem(
        id=0,
        article_id=0,
        source_key=source.key,
        channel="",
        chat_id="",
        state=OutboxState.PENDING,
        attempts=0,
        article=article,
    )
    lines.append("  post (Telegram HTML):")
    lines += [f"    | {line}" for line in composer.post(draft).html.split("\n")]
    return "\n".join(lines)


def _error_fate(exc: ScrapeError, source: Source, *, posted: bool) -> str:
    """Say what a poll does with an article page that failed (`posted`: one it would post)."""
    if posted and page_missing(exc):
        wait = span(source.missing_page_wait_seconds)
        then = "post its listed title" if source.missing_page == "post" else "archive it unposted"
        return f"would be tried again at each poll for {wait} (missing_page_wait), then {then}"
    if permanent_failure(exc):
        return "would be stored from what the listing or feed says, and not tried again"
    return "would be left unseen and tried again next poll"


def _print_archived(links: list[Link]) -> None:
    """List the links already in the archive (the first few)."""
    if not links:
        return
    print("\nalready archived:")
    for link in links[:_SHOWN_ARCHIVED]:
        print(f"  {link.url}")
    if len(links) > _SHOWN_ARCHIVED:
        print(f"  … and {len(links) - _SHOWN_ARCHIVED} more")
