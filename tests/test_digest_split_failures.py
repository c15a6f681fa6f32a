"""A resent digest part split into two messages, a send failing between them: each article
reaches the chat once, whichever message failed and how (loopback fake, both archives)."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.delivery.publish import Relay
from bot.delivery.telegram import Message, Outcome, Rejected, RetryLater, TelegramSender, Uncertain
from storage import OutboxState
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.posting import CHAT
from tests.support.relay import FakeTime, add, channel, make_config, states

TARGET = ("digest", CHAT)


class FailingAt:
    """Pass sends on to the real sender, except the `at`-th ones (counted from 1): `outcome`."""

    def __init__(self, inner: TelegramSender, at: tuple[int, ...], outcome: Outcome | None):
        self.inner, self.at, self.outcome, self.count = inner, at, outcome, 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    async def send(self, message: Message) -> Outcome:
        self.count += 1
        if self.count in self.at:
            return self.outcome
        return await self.inner.send(message)


def _rounds(fake, time, store, config, rounds, at=(), outcome=None) -> None:
    """Run relay rounds a minute apart, the sends numbered `at` answered with `outcome`."""

    async def go() -> None:
        inner = TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0)
        await inner.start()
        relay = Relay(
            store=store,
            sender=FailingAt(inner, at, outcome),
            config=config.delivery,
            clock=time.now,
            monotonic=time.monotonic,
            sleep=time.sleep,
        )
        try:
            for _ in range(rounds):
                await relay.deliver_due()
                time.advance(60)
        finally:
            await inner.close()

    asyncio.run(go())


def _two_parts_grown(tmp_path, store, fake: FakeTelegram):
    """Synthetic: 80 long titles packed into two parts of 40, both held by a flood wait; the
    channel's zone then becomes Asia/Colombo ("UTC+5:30"), so each part now takes two messages.
    Return the clock and the changed config."""
    config = make_config(
        tmp_path, channels=[channel(*TARGET, digest="1h")], api_base_url=fake.base_url
    )
    time = FakeTime()
    for n in range(80):
        title = f"Title {n:02d} of a long statement on the talks in Geneva and in Vienna today"
        add(store, n, TARGET, title=title)
    time.advance(3600)
    fake.flood_next(1, retry_after=600)
    _rounds(fake, time, store, config, 1)
    assert fake.messages_for(CHAT) == []
    moved = [channel(*TARGET, digest="1h", timezone="Asia/Colombo")]
    time.advance(600)
    return time, make_config(tmp_path, channels=moved, api_base_url=fake.base_url)


def _titles(fake: FakeTelegram) -> list[str]:
    """Return the number of each article listed in the chat, as often as it is listed."""
    lines = (line for m in fake.messages_for(CHAT) for line in m.plain.splitlines())
    return [line[8:10] for line in lines if line.startswith("• Title ")]


def _first_marks(fake: FakeTelegram) -> dict[str, str]:
    """Return each part's mark as the reader first sees it: "(1/2)", or "(1/2, continued)"."""
    first: dict[str, str] = {}
    for message in fake.messages_for(CHAT):
        mark = re.search(r"\((\d+/\d+)(, continued)?\)$", message.plain.splitlines()[0])
        first.setdefault(mark[1], mark[0])
    return first


@pytest.mark.parametrize(
    ("at", "outcome"),
    [
        ((2,), Rejected("Bad Request: something odd")),  # part 1's second message
        ((1,), Rejected("Bad Request: something odd")),  # part 1's first
        ((2,), RetryLater(30, "Too Many Requests")),
        ((2,), Uncertain("timed out")),
        ((3,), Rejected("Bad Request: something odd")),  # part 2's first
    ],
    ids=["second-rejected", "first-rejected", "second-retry-later", "second-uncertain", "third"],
)
def test_a_send_failing_between_a_parts_messages_lists_each_article_once_under_its_number(
    tmp_path, store, telegram, at, outcome
) -> None:
    fake = telegram
    time, config = _two_parts_grown(tmp_path, store, fake)
    _rounds(fake, time, store, config, 2, at, outcome)
    stuck = [
        i for i, s in states(store).items() if s in (OutboxState.FAILED, OutboxState.UNCERTAIN)
    ]
    assert len(stuck) == (0 if isinstance(outcome, RetryLater) else 20)
    store.outbox.retry(stuck, now=time.now())  # the operator's `outbox retry`
    _rounds(fake, time, store, config, 2)
    assert sorted(_titles(fake)) == [f"{n:02d}" for n in range(80)]
    assert set(states(store).values()) == {OutboxState.SENT}
    # A part's rest waits for the part's number: "(1/2, continued)" never comes first.
    assert _first_marks(fake) == {"1/2": "(1/2)", "2/2": "(2/2)"}
