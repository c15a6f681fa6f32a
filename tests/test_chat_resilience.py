"""The chat under strain: a flooding user, a failing handler, a refused token, Telegram unreachable."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram import error as tg

from bot.chat.application import Chat, RateLimiter
from bot.service.counters import Counters
from tests.fakes.telegram import RateLimit
from tests.support.chat import OTHER, READER, make_config, seed, talk

# The fake keeps Telegram's flood limits (the shared `telegram` fixture has none by default).
pytestmark = pytest.mark.telegram(rate_limit=RateLimit())


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    return seed(store)


def test_a_flood_from_one_user_gets_one_slow_down_and_others_are_served(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        flood = await s.exchange(["/help"] * 13, replies=11)
        barrier = await s.ask("/help", user=OTHER)  # answered only after the whole flood was read
        return flood, barrier, len(s.fake.messages_for(READER))

    (flood, barrier, total), counters = talk(
        telegram, store, tmp_path, script, limiter=RateLimiter(limit=10, window=3600)
    )
    assert sum("Slow down" in m for m in flood) == 1 and "Slow down" in flood[-1]
    assert total == 11 and "/search" in barrier
    assert counters.value("chat_rate_limited") == 3


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(4)] == ["ok", "ok", "warn", "drop"]
    assert limiter.check(2) == "ok"
    now[0] = 61.0
    assert [limiter.check(1) for _ in range(3)] == ["ok", "ok", "warn"]


def test_a_failing_handler_answers_sorry_and_the_bot_goes_on(
    telegram, store, tmp_path, caplog
) -> None:
    def broken():
        raise RuntimeError("disk on fire")

    async def script(s):
        s.chat.store.sources.article_counts = broken
        return await s.ask("/sources"), await s.ask("/help")

    (sorry, after), _ = talk(telegram, store, tmp_path, script)
    assert "went wrong on my side" in sorry and "/search" in after
    assert "disk on fire" in caplog.text


def test_a_refused_token_turns_commands_off(telegram, store, tmp_path, caplog) -> None:
    config = make_config(tmp_path, telegram.base_url, token="999:wrong")
    chat = Chat(config=config, store=store, counters=Counters(), snapshot=None)
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(chat.start_when_reachable(asyncio.Event())) is False
    assert "refused the bot token" in caplog.text and chat.app is None


def test_an_unreachable_telegram_is_retried_until_stop(store, tmp_path, caplog) -> None:
    chat = Chat(
        config=make_config(tmp_path, "http://127.0.0.1:9/bot"),
        store=store,
        counters=Counters(),
        snapshot=None,
    )

    async def main():
        stopping, calls = asyncio.Event(), []

        async def start():
            calls.append(1)
            if len(calls) == 2:
                stopping.set()
            raise tg.NetworkError("connection refused")

        chat.start = start
        return await chat.start_when_reachable(stopping, delay=0.01), len(calls)

    started, calls = asyncio.run(main())
    assert started is False and calls == 2
    assert "Telegram unreachable" in caplog.text


@pytest.mark.parametrize(("status", "what"), [(401, "the bot token"), (404, "the address")])
def test_a_refused_long_poll_is_polled_again_and_commands_come_back(
    telegram, store, tmp_path, caplog, status, what
) -> None:
    async def script(s):
        telegram.fail_next(1, status=status, description="Unauthorized", method="getUpdates")
        return await s.ask("/help")

    with caplog.at_level(logging.WARNING):
        answer, _ = talk(telegram, store, tmp_path, script)
    assert "/search" in answer
    assert f"chat commands: polling failed: Telegram refused {what} ({status}" in caplog.text
