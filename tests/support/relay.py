"""A relay kit: a config, articles queued for channels, a scripted sender and a clock to move."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, config_from_dict
from bot.delivery.publish import Relay
from bot.delivery.telegram import Delivered, Message, Outcome, TelegramSender
from scrapers.models import Article
from storage import Delivery, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SOURCES = [
    {"key": "tass-com", "name": "TASS", "kind": "feed", "url": "https://tass.com/rss/v2.xml"},
    {"key": "belta", "name": "BelTA", "kind": "feed", "url": "https://belta.by/rss"},
    {"key": "kremlin", "name": "Kremlin", "kind": "feed", "url": "https://kremlin.ru/rss"},
]
TAXONOMY = {
    "topics": {"peacekeeping": {"label": "Peacekeeping", "phrases": ["peacekeep"]}},
    "entities": {"csto": {"label": "CSTO", "hashtag": "CSTO", "phrases": ["CSTO"]}},
}


# Telegram's limits with a pause between one chat's sends, for the fake on the relay's clock
# (`pytest.mark.telegram(rate_limit=PACED, virtual_time=True)`): a relay that paced badly would
# see real 429s.
PACED = RateLimit(per_chat_per_minute=20, per_chat_min_interval=3.0, global_per_second=30)


class FakeTime:
    """A clock the relay reads and advances by sleeping; `real` adds a real pause per sleep,
    so sends in flight over a socket get the CPU."""

    def __init__(self, *, real: float = 0.0) -> None:
        self.t, self.real = 0.0, real

    def now(self) -> datetime:
        return START + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(self.real)

    def advance(self, seconds: float) -> None:
        self.t += seconds


class InTurn:
    """A sender that answers each send with its next outcome, whatever the message."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)

    async def send(self, message: Message) -> Outcome:
        return self.outcomes.pop(0)


@dataclass
class ScriptedSender:
    """Deliver everything (ids count per chat) unless a chat has outcomes queued for it."""

    time: FakeTime
    script: dict[str, list[Outcome]] = field(default_factory=dict)
    sent: list[tuple[float, Message]] = field(default_factory=list)
    on_send: object = None
    _ids: Counter = field(default_factory=Counter)

    async def send(self, message: Message) -> Outcome:
        if self.on_send:
            self.on_send(message)
        self.sent.append((self.time.monotonic(), message))
        queued = self.script.get(message.chat_id)
        if queued:
            return queued.pop(0)
        self._ids[message.chat_id] += 1
        return Delivered(self._ids[message.chat_id])

    def to(self, chat_id: str) -> list[Message]:
        return [m for _, m in self.sent if m.chat_id == chat_id]


def make_config(tmp_path: Path, *, channels: list[dict], **telegram) -> Config:
    """Build a validated config with three sources and a small taxonomy."""
    data = {
        "storage": {"path": str(tmp_path / "archive.db")},
        "telegram": telegram,
        "channels": channels,
        "sources": SOURCES,
        **TAXONOMY,
    }
    return config_from_dict(data, path=tmp_path / "presswatch.toml", token="")


def channel(name: str, chat_id: str, **extra) -> dict:
    return {"name": name, "chat_id": chat_id, **extra}


def article(n: int, **extra) -> Article:
    fields = {
        "title": f"Title {n}",
        "published": START,
        "body": f"Body of article number {n}.",
        "summary": f"Summary {n}.",
    } | extra
    return Article(
        url=f"https://tass.com/politics/{n}",
        canonical_url=f"https://tass.com/politics/{n}",
        **fields,
    )


def add(
    store: Store, n: int, *targets: tuple[str, str], source: str = "tass-com", now=START, **extra
) -> int:
    return store.add_article(
        article(n, **extra),
        source_key=source,
        now=now,
        deliveries=[Delivery(name, chat) for name, chat in targets],
    )


def relay_for(store: Store, config: Config, sender, time: FakeTime) -> Relay:
    return Relay(
        store=store,
        sender=sender,
        config=config.delivery,
        clock=time.now,
        monotonic=time.monotonic,
        sleep=time.sleep,
    )


def states(store: Store) -> dict[int, str]:
    return {r["id"]: r["state"] for r in store.db.query("select id, state from outbox")}


def deliver(relay: Relay):
    return asyncio.run(relay.deliver_due())


# The two chats of the flood-order tests: A earns the 429, B must not wait for it.
TWO_CHATS = (("a", "-1001001"), ("b", "-1001002"))


def titles(fake: FakeTelegram, chat: str) -> list[int]:
    """Return the article numbers of the posts a chat received, in the order it received them."""
    return [
        int(m.text.splitlines()[0].removeprefix("<b>Title ")[:-4]) for m in fake.messages_for(chat)
    ]


def relay_rounds(store: Store, fake: FakeTelegram, time: FakeTime, tmp_path, steps) -> None:
    """Run one relay (one process lifetime) for each step, a round each: `step()` then a round;
    its channels are TWO_CHATS, through the loopback fake Bot API."""
    config = make_config(
        tmp_path, channels=[channel(*chat) for chat in TWO_CHATS], api_base_url=fake.base_url
    )

    async def go() -> None:
        sender = TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0)
        await sender.start()
        try:
            relay = relay_for(store, config, sender, time)
            for step in steps:
                step()
                await relay.deliver_due()
        finally:
            await sender.close()

    asyncio.run(go())
