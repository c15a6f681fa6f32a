"""One send of the outbox relay (bot/delivery/publish.py), healing what Telegram refuses in its
content: a refused photo goes out as text, rejected HTML as plain text, a text too long shorter.

An unexpected error of the sender may have happened after Telegram posted, so it is an
uncertain outcome, never a failure; nothing leaves before the rows it acts on are on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.delivery.compose import Composer
from bot.delivery.planning import Job
from bot.delivery.probing import expectation
from bot.delivery.telegram import (
    BadMarkup,
    Message,
    Outcome,
    PhotoRefused,
    Sender,
    TooLong,
    Uncertain,
)
from storage import Store

log = logging.getLogger(__name__)


class Healing:
    """Send a job's message, and again as text, plain or shorter when Telegram refuses it.

    Alerts are sent with `attempt` alone: an operator's alert is short plain text, nothing to heal.
    """

    def __init__(
        self,
        *,
        store: Store,
        sender: Sender,
        composer: Composer,
        probing: bool,
        clock: Callable[[], datetime],
    ) -> None:
        self._store, self._sender, self._composer = store, sender, composer
        self._probing, self._clock = probing, clock

    async def send(
        self, job: Job, message: Message, after: int | None
    ) -> tuple[Job, Message, Outcome]:
        """Send, healing content errors: text for a refused photo or markup, shorter if too long.

        `after` is the chat's last message id before this send, what a probe looks past. The job
        returned holds the rows the message sent carries (a digest cut short carries fewer)."""
        outcome = await self.attempt(message)
        if isinstance(outcome, PhotoRefused):
            # Nothing was posted: the same row goes out as a text post, recorded as such first.
            log.warning(
                "%s: Telegram refused the photo %s (%s); sending a text post",
                job.chat_id,
                message.photo,
                outcome.reason,
            )
            message = self._composer.message(job.items[0], text_only=True)
            outcome = await self.attempt(message, job, after)
        if isinstance(outcome, BadMarkup):
            log.warning(
                "%s: Telegram rejected our HTML (%s); sending plain text",
                job.chat_id,
                outcome.reason,
            )
            # A digest's plain text has no links: its console form writes each address out.
            text = message.console or message.plain
            message = replace(message, text=text, plain=text, html=False)
            outcome = await self.attempt(message, job, after)
        level = 0
        while isinstance(outcome, TooLong) and level < 2:
            level += 1
            log.warning("%s: %s; sending a shorter text", job.chat_id, outcome.reason)
            message, kept = self._composer.shorter(job.items, message, level)
            if kept is not None and kept < len(job.items):
                job = self._leave_out(job, kept)
            outcome = await self.attempt(message, job, after)
        return job, message, outcome

    def _leave_out(self, job: Job, kept: int) -> Job:
        """Put the rows a digest cut short leaves out back to pending; return the job of the rest."""
        # Due at once, not marked sent: "+N more" names no article, so a reader would lose them.
        # They go out in the digest's next message (its part's rest: "continued" when split).
        now, left = self._clock(), [item.id for item in job.items[kept:]]
        note = "left out of a digest cut short for Telegram: in its next message"
        self._store.outbox.mark_retry(left, error=note, at=now, now=now)
        log.warning("%s: %d articles of the digest go in its next message", job.chat_id, len(left))
        return replace(job, items=job.items[:kept])

    async def attempt(
        self, message: Message, job: Job | None = None, after: int | None = None
    ) -> Outcome:
        """Call the sender; an unexpected error may have happened after sending, so it is uncertain.

        A second attempt of a job (a healed text) first records what a probe would look for now:
        a post past `after`, the chat's last message id before this send.
        """
        if job is not None and self._probing:
            ids = [item.id for item in job.items]
            self._store.outbox.probes.expect(
                ids, expectation(message, after=after), now=self._clock()
            )
        # Nothing leaves before the rows it acts on are on disk: a post whose row a power cut
        # took back would be found new and posted again, a lost `sending` would never be probed.
        await self._store.durable()
        try:
            return await self._sender.send(message)
        except Exception as exc:  # noqa: BLE001 - the relay must record every send it claimed
            log.exception("sending to %s failed unexpectedly", message.chat_id)
            return Uncertain(f"unexpected {type(exc).__name__}: {exc}")
