"""Drive the fake Bot API with the real python-telegram-bot, as the service does."""

from __future__ import annotations

import asyncio
import threading

from telegram import Bot
from telegram.request import BaseRequest

from tests.fakes.telegram import DEFAULT_TOKEN

CHANNEL = -1001234567890
GROUP = -4001


def with_bot(fake, action, *, request: BaseRequest | None = None):
    """Run ``action(bot)`` with an initialized PTB Bot pointed at the fake; return its result."""

    async def main():
        async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request) as bot:
            return await action(bot)

    return asyncio.run(main())


def stops_within(fake, seconds: float = 10.0) -> bool:
    """Stop the fake from another thread; True if it finished in time."""
    stopper = threading.Thread(target=fake.stop)
    stopper.start()
    stopper.join(seconds)
    return not stopper.is_alive()
