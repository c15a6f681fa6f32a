"""A relay kit for posts of one channel: the real relay and PTB against the loopback fake Bot API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from bot.delivery.publish import Relay, RelayReport
from bot.delivery.telegram import TelegramProbe, TelegramSender
from storage import Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.relay import FakeTime, channel, make_config

CHAT = "-1001000000001"
PROBE = "-1001000000099"
IMAGE = "https://tass.com/media/2026/11/geneva-talks.jpg"


@dataclass
class RelayKit:
    """What relay_rounds drives: the fake, a clock, the archive under test and a config."""

    fake: FakeTelegram
    time: FakeTime
    store: Store
    config: Config


def relay_rounds(harness, rounds: int, *, advance: float, probe: bool) -> list[RelayReport]:
    """Run relay rounds for a harness (fake, time, store, config) in one process lifetime."""

    async def go() -> list[RelayReport]:
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=harness.fake.base_url, timeout=5.0
        )
        await sender.start()
        relay = Relay(
            store=harness.store,
            sender=sender,
            config=harness.config.delivery,
            clock=harness.time.now,
            monotonic=harness.time.monotonic,
            sleep=harness.time.sleep,
            probe=TelegramProbe(sender.bot) if probe else None,
        )
        reports = []
        try:
            for _ in range(rounds):
                reports.append(await relay.deliver_due())
                harness.time.advance(advance)
        finally:
            await sender.close()
        return reports

    return asyncio.run(go())


class Harness:
    """A store and a config with one channel pointed at the fake; relay rounds with real PTB."""

    def __init__(self, tmp_path: Path, fake: FakeTelegram, *, probe: bool = False, **extra):
        self.fake, self.time = fake, FakeTime()
        telegram = {"api_base_url": fake.base_url} | ({"probe_chat_id": PROBE} if probe else {})
        self.config = make_config(tmp_path, channels=[channel("main", CHAT, **extra)], **telegram)
        self.store = Store.open(self.config.storage_path)
        self.probe = probe

    def run(self, rounds: int = 1, *, advance: float = 60.0) -> list[RelayReport]:
        return relay_rounds(self, rounds, advance=advance, probe=self.probe)

    def row(self, row_id: int = 1) -> dict:
        return self.store.db["outbox"].get(row_id)
