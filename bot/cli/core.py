"""What the core commands do: `once` and `run` poll and post, `extract` reads one page as a poll would.

They need the whole composition root (HTTP, Telegram, the parsing sandbox, the scheduler), so
this module is imported only when one of them runs (bot/cli/main.py names them with `later`);
their arguments, summaries and examples stay in main.py, which --help and every command read.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import json
import logging
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App, open_app
from bot.archive import Archive
from bot.cli.common import EXIT_FAILED, EXIT_OK, EXIT_SETUP, CommandError, cannot_write, one_line
from bot.cli.rounds import (
    Stop,
    held_for_their_time,
    once_status,
    overlap,
    waiting_out_floods,
)
from bot.config import Config, config_from_dict, load_config
from bot.delivery.render import local_time
from bot.ingest.intake import Decision
from bot.ingest.plan import describe
from bot.ingest.proposal import is_feed
from bot.service.endpoint import AddressTaken
from bot.service.once import Round, run_once
from bot.service.reachability import (
    TelegramCheck,
    TelegramState,
    check_telegram,
    held_for_you,
    round_summary,
    token_refused,
)
from bot.service.scheduler import ChatFactory, Service
from scrapers import Article, Source, article_from_link, extract_article, links_from_feed
from scrapers.encoding import decode_html
from scrapers.fetch import Fetcher
from scrapers.selection import source_for_url
from storage import (
    AlreadyRunning,
    OutboxState,
    OutdatedArchive,
    StorageError,
)

log = logging.getLogger(__name__)


def once(args: argparse.Namespace) -> int:
    """Poll every due source once, publish what is pending, exit; say in one line how it went."""
    config = load_config(args.config)
    _warn(config)

    async def go() -> int:
        with Stop() as stop:
            return await round_of(stop)

    async def round_of(stop: Stop) -> int:
        # Asked first: with a refused token nothing would be posted, so nothing is polled either.
        telegram = await check_telegram(config.telegram)
        if telegram.state == TelegramState.REFUSED:
            # A token shaped wrong (quotes, a space) never gets here: loading the config said why.
            raise CommandError(f"{token_refused(config.telegram)}; nothing was polled or posted")
        if stop.by:  # a stop while Telegram was asked
            print(
                f"presswatch once: stopped by {stop.by}; nothing polled or posted", file=sys.stderr
            )
            return EXIT_FAILED
        opened = False
        try:
            async with open_app(config, role="once") as app:
                opened = True
                stop.relay = app.relay
                done = Round()
                stop.round = asyncio.ensure_future(
                    run_once(app, every=not args.all, stopping=stop.event, into=done)
                )
                try:
                    await stop.round
                except asyncio.CancelledError:
                    if not stop.by:
                        raise
                    # Sends still in flight at the deadline stay `sending`: uncertain next time.
                runs, report, later = done.runs, done.report, done.later
                telegram = _after_sends(telegram, app.counters.telegram.latest)
                polled = {run.source_key for run in runs}
                # Sources neither polled nor waiting for their interval: paused or backing off.
                waiting = list(
                    app.store.sources.states(
                        k.key
                        for k in config.sources
                        if k.key not in polled and k.key not in later and k.key not in done.cut
                    ).values()
                )
                # Posts cut mid-send by this or an earlier run: under cron nobody else would say.
                uncertain = app.store.outbox.listing([OutboxState.UNCERTAIN])
                held = held_for_you(uncertain, config.telegram.uncertain)
                timed = held_for_their_time(app.backend)
                flood = waiting_out_floods(app.backend)
        except AlreadyRunning as exc:
            if opened or exc.role != "once":
                raise  # a service (or a backfill) holds the archive: stop it first, as before
            return overlap(exc, now=datetime.now(UTC))
        except StorageError as exc:
            return _cannot_open(exc, config, opened=opened, outcome="nothing polled or posted")
        # Each failing source was told once already, by the poll's own warning (its key, URL
        # and reason); the summary line only counts them.
        line = round_summary(
            runs,
            sources=len(config.sources),
            telegram=telegram,
            report=report,
            waiting=waiting,
            held=held,
            later=list(later.values()),
            cut=(len(done.cut), stop.by),
            timed=timed,
            flood=flood,
        )
        print(line, file=sys.stderr)
        if stop.by:  # a round cut short is no success, whatever it did
            return EXIT_FAILED
        # Nothing polled while others are not due yet is a quiet round, not an outage.
        outage = waiting if not later else []
        return once_status(runs, report=report, waiting=outage, telegram=telegram, held=held)

    return asyncio.run(go())


# What an SQLite archive answers at every start until the operator acts: a folder or file this
# user may not write, a read-only system, a lock file's name taken, a file that is no database.
# Busy or locked (another process's write, or its instance lock), a full disk, an I/O error may
# pass: those stay exit 1, which is restarted.
_FOR_GOOD_ERRNO = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR}
_FOR_GOOD_SQLITE = {
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_AUTH,
    sqlite3.SQLITE_NOTADB,
}


def _cannot_open(exc: StorageError, config: Config, *, opened: bool, outcome: str) -> int:
    """Return exit 3 with the folder's hint when an SQLite archive could not be opened at start
    and would fail so at every start; raise anything else again (exit 1)."""
    # A folder this user may not write or a read-only system stays so: exit 3, which a
    # supervisor does not restart. Another process's lock or write, a full disk and an
    # unreachable PostgreSQL may pass, so a restart is tried; a failure after the open is no
    # start-up problem.
    if opened or config.storage_url is not None or not _stays_so(exc):
        raise exc
    print(cannot_write(one_line(exc), outcome=outcome), file=sys.stderr)
    return EXIT_SETUP


def _stays_so(exc: StorageError) -> bool:
    """Tell whether an SQLite archive that could not be opened would fail so at every start."""
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return ((getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF) in _FOR_GOOD_SQLITE
    return isinstance(cause, OSError) and cause.errno in _FOR_GOOD_ERRNO


def _after_sends(check: TelegramCheck, latest: TelegramCheck) -> TelegramCheck:
    """Return what the sends of this round said about Telegram, else the check before them."""
    return check if latest.state == TelegramState.UNKNOWN else latest


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGINT or SIGTERM; SIGHUP re-reads the config."""
    config = load_config(args.config, pipe=False)
    _warn(config)

    async def go() -> int:
        # A stop that arrives while the archive and the bot are still opening ends the start-up
        # cleanly; once serving, the service installs its own handlers.
        early_stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, early_stop.set)
        # The config being opened was read just now: an early reload has nothing newer to read.
        loop.add_signal_handler(signal.SIGHUP, lambda: None)
        opened = False
        try:
            async with open_app(config, role="run") as app:
                opened = True
                if early_stop.is_set():
                    return EXIT_OK
                service = _service(app, http=args.http)
                await service.run()
        except AddressTaken as exc:
            print(f"presswatch: {one_line(exc)}", file=sys.stderr)
            return EXIT_SETUP
        except StorageError as exc:
            return _cannot_open(exc, config, opened=opened, outcome="not started")
        return EXIT_FAILED if service.failure else EXIT_OK

    code = asyncio.run(go())
    # The heap (taxonomy, word forms, the near-duplicate index: millions of objects) goes with
    # the process; the interpreter's last cycle collections over it took 2.3 s of a stop's 6 s.
    gc.freeze()
    return code


def _service(app: App, *, http: tuple[str, int] | None) -> Service:
    """Return the service: one process with its scheduler, or one of many workers (PostgreSQL);
    `http` (`run --http`) is where it serves /healthz and /metrics, over [service] http."""
    if app.fleet is None:
        return Service(app, chat=_chat(app), http=http)
    from bot.service.fleet import FleetService  # noqa: PLC0415 - the [postgres] extra

    return FleetService(app, chat=_chat(app), http=http)


def _warn(config: Config) -> None:
    """Log what the config says that is allowed but probably not meant (no channels)."""
    for warning in config.warnings:
        log.warning("config: %s", warning)


def _chat(app: App) -> ChatFactory | None:
    """Return what builds the chat commands when they are on (PTB's Application loads only then)."""
    if not app.config.telegram.commands:
        return None
    from bot.chat.application import Chat  # noqa: PLC0415 - loaded only when enabled

    return lambda snapshot: Chat(
        config=app.config, store=app.store, counters=app.counters, snapshot=snapshot
    )


# -- extract --------------------------------------------------------------------------------------


def extract(args: argparse.Namespace) -> int:
    """Print one extracted article as JSON, writing neither to the archive nor to Telegram."""
    path = Path(args.config)
    # Without a config file the generic rules and defaults apply (no taxonomy, no channels).
    config = (
        load_config(path) if (args.source or path.exists()) else config_from_dict({}, path=path)
    )
    source = _extract_source(config, args)

    async def go(archive: Archive) -> Decision:
        async with open_app(config, archive=archive, deliver=False) as app:
            content, text, url = await _read_target(
                args.target, url=args.url, fetcher=app.fetcher, source=source
            )
            if is_feed(content):
                article = _article_from_feed(content, url=url, source=source, item=args.item)
            else:
                article = extract_article(text, url=url, source=source, now=datetime.now(UTC))
            # Planned as a poll would: a source's first run posts only its newest `backfill`.
            first_run = source and app.store.sources.state(source.key).baseline_at is None
            key = source.key if source else ""
            return app.poll.intake.decide(key, article, post=not first_run, now=datetime.now(UTC))

    try:
        decision = asyncio.run(go(Archive.DRY))
    except OutdatedArchive as exc:  # raised on opening it, before the page is read
        # The article needs no archive; only the plan does (reprints, a first run), so say so.
        log.warning(
            "%s; extract planned as against an empty archive (no reprint or source state known)",
            exc,
        )
        decision = asyncio.run(go(Archive.MEMORY))
    article, plan = decision.enriched.article, decision.plan
    zone = source.timezone if source else "UTC"
    print(
        json.dumps(
            {
                "source": source.key if source else None,
                "url": article.url,
                "canonical_url": article.canonical_url,
                "title": article.title,
                "published": article.published.isoformat() if article.published else None,
                "published_local": local_time(article.published, zone)
                if article.published
                else None,
                "author": article.author,
                "lang": article.lang,
                "image": article.image or None,
                "lead": article.lead,
                "summary": article.summary,
                "topics": list(article.topics),
                "entities": list(article.entities),
                "explain": {
                    r.key: {"score": round(r.score, 2), "rules": list(r.rules)}
                    for r in decision.enriched.reasons
                },
                "plan": {
                    "fate": plan.fate,
                    "reprint_of": plan.story.article_id if plan.story else None,
                    "posts": [d.channel for d in plan.posts],
                    "updates": list(plan.updates),
                    "silent": plan.silent,
                    "would be": describe(plan),
                },
                "body": article.body,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return EXIT_OK


def _extract_source(config: Config, args: argparse.Namespace) -> Source | None:
    """Return the source named by --source, else the configured source the page's URL belongs to."""
    if args.source:
        return config.source(args.source)
    url = args.url or (args.target if args.target.startswith(("http://", "https://")) else None)
    source = source_for_url(config.sources, url) if url else None
    if source:
        log.info(
            "extract %s: using source %s (its host matches; --source overrides)", url, source.key
        )
    return source


def _article_from_feed(
    content: bytes, *, url: str, source: Source | None, item: str | None
) -> Article:
    """Return the article a full-text feed carries for one item (tass.ru, en.kremlin.ru)."""
    source = source or Source(key="feed", url=url, kind="feed")
    links = links_from_feed(content, source=source)
    chosen = (
        next((link for link in links if item in (link.url, link.canonical_url)), None)
        if item
        else links[0]
    )
    if chosen is None:
        raise CommandError(f"no item {item!r} in the feed ({len(links)} items)")
    if not chosen.content_html and not chosen.summary:
        raise CommandError(
            f"{chosen.url}: the feed carries no text for this item; extract its page instead"
        )
    return article_from_link(chosen, source=source)


async def _read_target(
    target: str, *, url: str | None, fetcher: Fetcher, source: Source | None
) -> tuple[bytes, str, str]:
    """Return (bytes, decoded text, url) from a file or by fetching a URL."""
    path = Path(target)
    if not target.startswith(("http://", "https://")):
        if path.is_dir():
            raise CommandError(f"{target}: a folder (give a URL or a saved HTML file)")
        if not path.is_file():
            raise CommandError(f"{target}: no such file (give a URL or a saved HTML file)")
        content = path.read_bytes()
        return content, decode_html(content), url or path.resolve().as_uri()
    page = await fetcher.get(target, robots=source.robots if source else True)
    return page.content, page.text, page.url
