"""The composition root: the one place that builds the HTTP client, the archive and the Telegram bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from bot.config import Config
from bot.delivery.publish import Relay, RelayReport
from bot.delivery.telegram import ConsoleSender, Sender, TelegramSender
from bot.ingest.poll import PollContext, poll_source
from bot.service.metrics import Counters, MeteredSender
from scrapers.fetch import Fetcher, make_client
from storage import InstanceLock, RunRecord, Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    """The live collaborators of one presswatch process."""

    config: Config
    store: Store
    fetcher: Fetcher
    sender: Sender
    relay: Relay
    counters: Counters = field(default_factory=Counters)

    @property
    def poll_context(self) -> PollContext:
        """Return what a poll needs."""
        return PollContext(fetcher=self.fetcher, store=self.store, config=self.config)

    def due_sources(self, now: datetime) -> list:
        """Return the sources that are neither paused nor backing off."""
        due = []
        for source in self.config.sources:
            reason = self.skip_reason(source.key, now)
            if reason:
                log.info("poll %s %s: skipped (%s)", source.key, source.url, reason)
            else:
                due.append(source)
        return due

    def skip_reason(self, key: str, now: datetime) -> str | None:
        """Return why a source must not be polled now (paused, backing off), or None."""
        state = self.store.sources.state(key)
        if state.paused:
            return f"paused; /resume {key} to poll it again"
        until = state.next_poll_at
        if until and until > now:
            return (
                f"backing off after {state.consecutive_failures} failure(s) "
                f"until {until.isoformat()}"
            )
        return None


@asynccontextmanager
async def open_app(
    config: Config, *, lock: bool = True, console: TextIO | None = None
) -> AsyncIterator[App]:
    """Build every collaborator from config, and close them all on exit."""
    instance_lock = InstanceLock(config.storage_path)
    if lock:
        instance_lock.acquire()
    store = Store.open(config.storage_path)
    client = make_client(config.fetch)
    sender = _make_sender(config, console=console)
    try:
        if isinstance(sender, TelegramSender):
            await sender.start()
        recovered = store.outbox.recover_interrupted(now=datetime.now(UTC))
        if recovered:
            log.warning(
                "%d post(s) were interrupted mid-send by a stop; marked uncertain", recovered
            )
        counters = Counters()
        # The relay sends through a meter: flood waits and outcomes per channel for /metrics.
        metered = MeteredSender(sender, counters, channels=_channel_names(config))
        relay = Relay(store=store, sender=metered, config=config)
        yield App(
            config=config,
            store=store,
            fetcher=Fetcher(client, config.fetch),
            sender=sender,
            relay=relay,
            counters=counters,
        )
    finally:
        await client.aclose()
        if isinstance(sender, TelegramSender):
            await sender.close()
        store.close()
        instance_lock.release()


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


async def run_once(app: App) -> tuple[list[RunRecord], RelayReport]:
    """Poll every due source once, then deliver everything that is due."""
    now = datetime.now(UTC)
    runs = list(
        await asyncio.gather(*(poll_source(s, app.poll_context) for s in app.due_sources(now)))
    )
    total = RelayReport()
    while True:
        report = await app.relay.deliver_due()
        total.sent += report.sent
        total.retried += report.retried
        total.uncertain += report.uncertain
        total.failed += report.failed
        total.failed_chats |= report.failed_chats
        if report.sent == 0 and report.failed == 0 and report.uncertain == 0:
            return runs, total
