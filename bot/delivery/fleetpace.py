"""Telegram's limits held by every worker together: each send first takes a slot in the archive.

A worker's own pacer (pacing.py) plans its sends; it cannot see what other workers sent to the
same chat a moment ago, nor how many messages the bot sent overall this second. So with many
workers each send reserves its slot in PostgreSQL first (storage/postgres/fleet.py) and waits
its turn when another worker took it, and a flood wait Telegram asks of one worker holds all.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.delivery.telegram import Message, Outcome, RetryLater, Sender


class Slots(Protocol):
    """The shared send pace (storage/postgres/fleet.py's Fleet)."""

    def reserve(self, chat: str, limits: object) -> tuple[float, float]:
        """Take a send slot for `chat`: (0, its moment), or (seconds to wait first, 0)."""

    def settle(self, chat: str, slot: float) -> None:
        """Count the send in `slot` from now, when its answer came."""

    def block(self, chat: str, seconds: float) -> None:
        """Hold every worker's sends to `chat` for `seconds`."""


class FleetPacedSender:
    """Pass each send through the shared pace: reserve a slot (waiting if another worker has
    it), send, and share a flood wait with every worker."""

    def __init__(self, inner: Sender, slots: Slots, *, limits: object) -> None:
        self._inner, self._slots, self._limits = inner, slots, limits
        self.waits = 0  # sends that waited for another worker's slot (tests, logs)

    async def send(self, message: Message) -> Outcome:
        """Send once the shared pace allows it."""
        chat = str(message.chat_id)
        while True:
            wait, slot = self._slots.reserve(chat, self._limits)
            if not wait:
                break
            self.waits += 1
            await asyncio.sleep(wait)  # the slot's own time, read from the database's clock
        try:
            outcome = await self._inner.send(message)
        finally:
            self._slots.settle(chat, slot)
        if isinstance(outcome, RetryLater) and outcome.reason.startswith("flood wait"):
            self._slots.block(chat, outcome.after)
        return outcome
