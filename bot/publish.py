"""The outbox relay: send due posts chat by chat, paced, recording every outcome durably.

State is committed before and after every Telegram call (`sending`, then the outcome), so a
crash leaves at worst a row in `sending`, which start-up turns into `uncertain`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from storage import OutboxItem, Store

from .config import Config
from .render import Post, render_post
from .pacing import Pacer
from .telegram import (
    BadMarkup, ChatMoved, Delivered, Message, Outcome, Rejected, RetryLater, Sender, TooLong,
    Uncertain,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_BACKOFF_CAP = 3600.0


@dataclass(slots=True)
class RelayReport:
    """What one relay round did."""

    sent: int = 0
    retried: int = 0
    uncertain: int = 0
    failed: int = 0
    failed_chats: set[str] = field(default_factory=set)


class Relay:
    """Deliver due outbox rows; one chat's trouble never delays another chat."""

    def __init__(
        self, *, store: Store, sender: Sender, config: Config, pacer: Pacer | None = None,
        clock: Clock = lambda: datetime.now(UTC), monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self._store, self._sender, self._config = store, sender, config
        tg = config.telegram
        self._pacer = pacer or Pacer(per_minute=tg.per_chat_per_minute, interval=tg.per_chat_interval)
        self._clock, self._monotonic, self._sleep = clock, monotonic, sleep
        self._sources = {s.key: s for s in config.sources}
        self._channels = {c.name: c for c in config.channels}
        self._stopping = False

    def stop(self) -> None:
        """Finish the send in flight, then start no new one."""
        self._stopping = True

    async def deliver_due(self, *, limit: int = 200) -> RelayReport:
        """Send every due row (up to `limit`), chats in parallel, each chat paced in order."""
        report = RelayReport()
        by_chat: dict[str, list[OutboxItem]] = {}
        for item in self._store.outbox.due(self._clock(), limit=limit):
            by_chat.setdefault(item.chat_id, []).append(item)
        await asyncio.gather(*(self._deliver_chat(items, report) for items in by_chat.values()))
        return report

    async def _deliver_chat(self, items: list[OutboxItem], report: RelayReport) -> None:
        """Send one chat's rows in order; stop the chat at the first flood wait or refusal."""
        for item in items:
            wait = self._pacer.ready_at(item.chat_id, self._monotonic()) - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            if self._stopping:
                return
            self._pacer.record(item.chat_id, self._monotonic())
            if not await self._deliver_one(item, report):
                return

    async def _deliver_one(self, item: OutboxItem, report: RelayReport) -> bool:
        """Send one row and record the outcome; return False when the chat should pause."""
        post = self._render(item)
        message = self._message(item, post)
        self._store.outbox.mark_sending(item.id, now=self._clock())
        outcome = await self._sender.send(message)
        # Content problems heal themselves: plain text for bad markup, a shorter text if too long.
        if isinstance(outcome, BadMarkup):
            log.warning("outbox %s: Telegram rejected our HTML (%s); sending plain text",
                        item.id, outcome.reason)
            outcome = await self._sender.send(_replace_text(message, post.plain, html=False))
        if isinstance(outcome, TooLong):
            shorter = self._render(item, summary_limit=300)
            outcome = await self._sender.send(_replace_text(message, shorter.html, html=True))
        return self._record(item, outcome, report)

    def _record(self, item: OutboxItem, outcome: Outcome, report: RelayReport) -> bool:
        """Store the outcome of one send; return False when the chat should pause."""
        now, label = self._clock(), f"{item.channel} <- {item.article.url}"
        match outcome:
            case Delivered(message_id):
                self._store.outbox.mark_sent(item.id, message_id=message_id, now=now)
                report.sent += 1
                log.info("posted %s (message %s)", label, message_id)
                return True
            case RetryLater(after, reason):
                self._store.outbox.mark_retry(item.id, error=reason, at=now + timedelta(seconds=after), now=now)
                self._pacer.block(item.chat_id, self._monotonic() + after)
                report.retried += 1
                log.warning("retry %s in %.0fs: %s", label, after, reason)
                return False
            case Uncertain(reason):
                self._store.outbox.mark_uncertain(item.id, error=reason, now=now)
                report.uncertain += 1
                log.warning("uncertain %s: %s", label, reason)
                return True
            case ChatMoved(new_chat_id):
                self._store.outbox.move_chat(item.chat_id, str(new_chat_id), now=now)
                report.retried += 1
                log.warning("chat %s became %s; update chat_id of channel %r in the config",
                            item.chat_id, new_chat_id, item.channel)
                return False
        self._store.outbox.mark_failed(item.id, error=outcome.reason, now=now)
        report.failed += 1
        chat_problem = isinstance(outcome, Rejected) and outcome.chat_problem
        if chat_problem:
            report.failed_chats.add(item.channel)
        log.error("failed %s: %s", label, outcome.reason)
        return not chat_problem

    def _render(self, item: OutboxItem, *, summary_limit: int | None = None) -> Post:
        """Render the row's article for its channel."""
        source = self._sources.get(item.source_key)
        summary = item.article.summary or item.article.lead
        if summary_limit is not None:
            summary = summary[:summary_limit]
        return render_post(
            item.article, source_name=source.display_name if source else item.source_key,
            zone=source.timezone if source else "UTC", summary=summary,
        )

    def _message(self, item: OutboxItem, post: Post) -> Message:
        """Build the Telegram message for a row's channel settings."""
        channel = self._channels.get(item.channel)
        return Message(
            chat_id=item.chat_id, text=post.html, plain=post.plain, html=True,
            thread_id=channel.message_thread_id if channel else None,
            silent=channel.disable_notification if channel else False,
            preview_url=post.url,
        )


def _replace_text(message: Message, text: str, *, html: bool) -> Message:
    """Return the message with new text."""
    return replace(message, text=text, html=html)
