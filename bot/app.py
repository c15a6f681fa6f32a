"""The composition root: the one place that builds the HTTP client, the archive, the Telegram
sender, the relay and what a poll needs, from config, for every command."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.archive import Archive, open_backend, open_store
from bot.config import Config
from bot.delivery.console import ConsoleSender
from bot.delivery.publish import Relay
from bot.delivery.readers import carry_over_alerts, tell_readers
from bot.delivery.telegram import Sender, TelegramProbe, TelegramSender
from bot.ingest.context import Clock, PollContext
from bot.ingest.enrich import Enricher
from bot.ingest.intake import Intake
from bot.service.counters import Counters, MeteredSender
from bot.service.renames import note_sources
from bot.text.plural import counted
from scrapers.fetch import Fetcher, make_client
from scrapers.models import Source
from scrapers.sandbox import InProcess, Parser, Sandbox
from storage import SourceState, StorageError, Store
from storage.backends import Backend

log = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    """The live collaborators of one presswatch command, built once."""

    config: Config
    store: Store
    fetcher: Fetcher
    backend: Backend
    poll: PollContext
    relay: Relay | None = None  # only for commands that deliver
    counters: Counters = field(default_factory=Counters)
    sender: Sender | None = None  # what the relay sends through (kept for a reload)
    fleet: Any = (
        None  # with many workers on PostgreSQL: their shared rows (storage/postgres/fleet.py)
    )

    def due_sources(
        self, now: datetime, *, started: Mapping[str, datetime] | None = None
    ) -> tuple[list[Source], dict[str, datetime]]:
        """Return the sources that are neither paused nor backing off and, given when each last
        poll `started` (`once`), whose interval has come; and when each source not due yet is."""
        due, later = [], {}
        states = self.store.sources.states(s.key for s in self.config.sources)  # one query
        for source in self.config.sources:
            reason = self.skip_reason(source.key, now, state=states[source.key])
            until = not_due_until(source, (started or {}).get(source.key), now=now)
            if reason:
                log.info("poll %s %s: skipped (%s)", source.key, source.url, reason)
            elif started is not None and until is not None:
                log.info("poll %s %s: not due until %s", source.key, source.url, until.isoformat())
                later[source.key] = until
            else:
                due.append(source)
        return due, later

    def skip_reason(self, key: str, now: datetime, *, state: SourceState) -> str | None:
        """Return why a source must not be polled now (paused, backing off), or None."""
        if state.paused:
            return f"paused; /resume {key} to poll it again"
        until = state.next_poll_at
        if until and until > now:
            return (
                f"backing off after {counted(state.consecutive_failures, 'failure')} "
                f"until {until.isoformat()}"
            )
        return None


def not_due_until(source: Source, started: datetime | None, *, now: datetime) -> datetime | None:
    """Return when a source last polled at `started` falls due, or None when it is due now."""
    if started is None:
        return None
    # A cron tick comes a few seconds early or late: a `*/10` cron against `every = "10m"` must
    # poll each time, so a source is due once a minute or a tenth of `every` (the less) remains.
    every = source.every_seconds
    slack = min(60.0, every / 10)
    until = started + timedelta(seconds=every)
    return until if (until - now).total_seconds() > slack else None


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_app(
    config: Config,
    *,
    archive: Archive = Archive.WRITE,
    deliver: bool = True,
    console: TextIO | None = None,
    clock: Clock = _now,
    role: str = "",
) -> AsyncIterator[App]:
    """Build every collaborator a command needs from config, and close them all on exit.

    Only a writing command takes the instance lock (naming itself by `role`, e.g. "run", so
    `presswatch reload` signals only a service); only a delivering one opens Telegram (or the
    console), recovers posts a stop interrupted, and gets a relay. On PostgreSQL any number of
    `run` workers share the archive (their lock is shared, and each recovers only the chats it
    delivers); `once` and `backfill` still wait for them to stop.
    """
    async with AsyncExitStack() as stack:
        backend = stack.enter_context(open_backend(config))
        if archive == Archive.WRITE:
            stack.enter_context(backend.lock(role=role))
        # Commits are synced off the event loop; what acts on one awaits `store.durable()`.
        store = stack.enter_context(open_store(config, backend, archive, sync_in_thread=True))
        if archive == Archive.WRITE:
            note_sources(store, config.sources)  # and log a key that looks renamed
            alerts = carry_over_alerts(store, config)
            if role == "run":
                # Only the service tells readers of paused alerts: a one-off command's config may
                # be a trimmed or test one, and must neither tell nor mark anything.
                tell_readers(store, config, alerts, now=clock())
        client = make_client(config.fetch)
        stack.push_async_callback(client.aclose)
        fetcher = Fetcher(client, config.fetch)
        parser = sandbox(config)
        stack.callback(parser.close)  # kills the workers, a stuck one too, without waiting
        app = App(
            config=config,
            store=store,
            fetcher=fetcher,
            backend=backend,
            poll=poll_context(config, fetcher=fetcher, store=store, parser=parser, clock=clock),
        )
        if role == "run" and backend.dialect == "postgresql":
            app.fleet = _fleet(store)
        if deliver:
            app.sender = await _open_sender(
                config, store, stack=stack, console=console, recover=app.fleet is None
            )
            app.relay = relay(
                config, store=store, sender=app.sender, counters=app.counters, fleet=app.fleet
            )
        yield app


def sandbox(config: Config) -> Sandbox:
    """Return the worker processes that parse fetched pages and feeds (started on first use)."""
    return Sandbox(deadline=config.fetch.parse_timeout, memory_mb=config.fetch.parse_memory_mb)


def reconfigure(app: App, config: Config) -> None:
    """Point polls, enrichment and delivery at a new config (a reload of the running service).

    The archive, the HTTP client, the parsing sandbox (never a second pool of workers) and the
    sender stay; polls under way finish with the config they started with. A new relay seeds its pacing from the archive's last minute of sends.
    """
    try:
        note_sources(app.store, config.sources)
    except StorageError as exc:  # noted at the next start or reload
        log.error("reload: source addresses not noted: %s", exc)
    alerts = carry_over_alerts(app.store, config)
    try:
        tell_readers(app.store, config, alerts, now=app.poll.clock(), before=app.config)
    except StorageError as exc:  # a chat not told stays unmarked: the next start or reload tells it
        log.error("reload: readers of paused or resumed alerts not told: %s", exc)
    app.config = config
    # The archive keeps each missing page's wait; this keeps which rows this process must forget.
    waiting, said = app.poll.intake.missing, app.poll.selector_misses
    # The listings last read (links and validators) stay due their 304 rechecks; a source gone
    # takes its own along.
    keys = {source.key for source in config.sources}
    listings = {key: listed for key, listed in app.poll.listings.items() if key in keys}
    app.poll = poll_context(
        config, fetcher=app.fetcher, store=app.store, parser=app.poll.parser, clock=app.poll.clock
    )
    # A reload does not say again what the log said of a selector still missing (a changed one
    # is keyed by its new CSS text: said when it misses too).
    app.poll.intake.missing, app.poll.selector_misses = waiting, said
    app.poll.listings = listings
    if app.relay is not None and app.sender is not None:
        app.relay = relay(
            config, store=app.store, sender=app.sender, counters=app.counters, fleet=app.fleet
        )


def poll_context(
    config: Config,
    *,
    fetcher: Fetcher,
    store: Store,
    parser: Parser | None = None,
    clock: Clock = _now,
) -> PollContext:
    """Return what a poll needs, its enricher built once.

    Without `parser`, pages are parsed in this process, with no deadline: for tests only, as
    every command gets the sandbox from `open_app`.
    """
    intake = Intake(
        enricher(config, store),
        store,
        channels=config.channels,
        corrections=config.telegram.corrections,
    )
    parser = parser or InProcess()
    # The parser's workers enrich what they read, with this config's taxonomy (a reload's too).
    parser.finish_with(intake.enricher.preparer)
    return PollContext(
        fetcher=fetcher,
        parser=parser,
        store=store,
        intake=intake,
        health=config.health,
        admin_chat_id=config.telegram.admin_chat_id,
        clock=clock,
    )


def enricher(config: Config, store: Store) -> Enricher:
    """Return what summarises, tags and finds the original of each article a poll reads."""
    return Enricher(config.enrich, store)


async def _open_sender(
    config: Config,
    store: Store,
    *,
    stack: AsyncExitStack,
    console: TextIO | None,
    recover: bool = True,
) -> Sender:
    """Open the sender and settle posts a stop interrupted (unless other workers may be sending)."""
    sender = _make_sender(config, console=console)
    if isinstance(sender, TelegramSender):
        await sender.start()
        stack.push_async_callback(sender.close)
    recovered = store.outbox.recover_interrupted(now=datetime.now(UTC)) if recover else 0
    if recovered:
        log.warning(
            "%s interrupted mid-send by a stop; marked uncertain",
            counted(recovered, "post") + (" was" if recovered == 1 else " were"),
        )
    return sender


def relay(
    config: Config,
    *,
    store: Store,
    sender: Sender,
    counters: Counters | None = None,
    fleet: Any = None,
    **timing: Callable[..., object],
) -> Relay:
    """Return the relay that delivers the outbox through `sender`, metered for /metrics.

    `timing` (`clock`, `monotonic`, `sleep`) runs it on another clock: the delivery benchmark's
    scaled or simulated time.
    """
    # The relay sends through a meter: flood waits and outcomes per channel for /metrics.
    counters = Counters() if counters is None else counters
    metered = MeteredSender(
        sender if fleet is None else _fleet_paced(sender, fleet, config),
        counters,
        channels=_channel_names(config),
        console=isinstance(sender, ConsoleSender),
    )
    # Probes forward through the raw sender's bot: the meter wraps sends only.
    probe = TelegramProbe(sender.bot) if isinstance(sender, TelegramSender) else None
    return Relay(store=store, sender=metered, config=config.delivery, probe=probe, **timing)


def _fleet(store: Store) -> Any:
    """Return the rows many workers share in a PostgreSQL archive (heartbeats, send pace)."""
    from storage.postgres.fleet import Fleet  # noqa: PLC0415 - the [postgres] extra

    return Fleet(store.db)


def _fleet_paced(sender: Sender, fleet: Any, config: Config) -> Sender:
    """Return `sender` behind Telegram's limits as every worker counts them together."""
    from bot.delivery.fleetpace import FleetPacedSender  # noqa: PLC0415 - many workers only
    from storage.postgres.fleet import Limits  # noqa: PLC0415 - the [postgres] extra

    tg = config.telegram
    limits = Limits(tg.per_chat_per_minute, tg.per_chat_interval, tg.per_second)
    return FleetPacedSender(sender, fleet, limits=limits)


def _channel_names(config: Config) -> dict[str, str]:
    """Map chat ids to the channel names metrics use."""
    names = {c.chat_id: c.name for c in config.channels}
    if config.telegram.admin_chat_id:
        names.setdefault(config.telegram.admin_chat_id, "admin")
    return names


def _make_sender(config: Config, *, console: TextIO | None) -> Sender:
    """Return a Telegram sender when a token is set, else the console."""
    if not config.telegram.token:
        # Loud on purpose: a service whose env file went missing would otherwise mark posts sent.
        log.warning(
            "PRESSWATCH_TELEGRAM_TOKEN is not set: posts are printed to the console and "
            "recorded as delivered, never sent to Telegram"
        )
        return ConsoleSender(console)
    return TelegramSender.create(
        token=config.telegram.token,
        api_base_url=config.telegram.api_base_url,
        timeout=config.telegram.request_timeout,
    )
