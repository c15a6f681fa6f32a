"""The fake Bot API's flood limits, concurrent and in-flight sends, and its command line."""

import asyncio
import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from tests.fakes.telegram import FakeTelegram, InFlight, RateLimit
from tests.support.clocks import HandClock
from tests.support.telegram import CHANNEL, GROUP, with_bot


def test_per_chat_flood_limit_answers_429_with_the_real_wait():
    clock = HandClock(1000.0)
    limit = RateLimit(per_chat_per_minute=2, global_per_second=None)
    with FakeTelegram(clock=clock, rate_limit=limit) as fake:

        async def action(bot):
            await bot.send_message(CHANNEL, "1")
            clock.now += 10
            await bot.send_message(CHANNEL, "2")
            with pytest.raises(RetryAfter) as first:
                await bot.send_message(CHANNEL, "3")
            await bot.send_message(GROUP, "another chat is not held up")
            clock.now += 45  # the first slot frees 60 s after message 1
            with pytest.raises(RetryAfter) as second:
                await bot.send_message(CHANNEL, "3")
            clock.now += 5
            await bot.send_message(CHANNEL, "3")
            return first.value.retry_after, second.value.retry_after

        assert with_bot(fake, action) == (dt.timedelta(seconds=50), dt.timedelta(seconds=5))
        assert fake.throttled == {CHANNEL: 2}
        assert [m.text for m in fake.messages_for(CHANNEL)] == ["1", "2", "3"]


def test_min_interval_and_global_limits():
    clock = HandClock(1000.0)
    limit = RateLimit(per_chat_per_minute=None, per_chat_min_interval=3.0, global_per_second=2)
    with FakeTelegram(clock=clock, rate_limit=limit) as fake:

        async def action(bot):
            await bot.send_message(1, "a")
            clock.now += 2.5
            with pytest.raises(RetryAfter) as interval:  # 0.5 s left, rounded up to 1
                await bot.send_message(1, "b")
            await bot.send_message(2, "c")
            await bot.send_message(3, "d")
            with pytest.raises(RetryAfter) as overall:  # a third send within one second
                await bot.send_message(4, "e")
            clock.now += 1
            await bot.send_message(4, "e")
            return interval.value.retry_after, overall.value.retry_after

        assert with_bot(fake, action) == (dt.timedelta(seconds=1), dt.timedelta(seconds=1))
        assert fake.throttled == {1: 1, 4: 1}


def test_default_limit_is_twenty_per_minute_per_chat():
    with FakeTelegram(clock=HandClock(1000.0)) as fake:

        async def action(bot):
            for n in range(20):
                await bot.send_message(CHANNEL, f"post {n}")
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(CHANNEL, "post 21")
            return info.value.retry_after

        assert with_bot(fake, action) == dt.timedelta(seconds=60)


def test_the_shared_telegram_fixture_has_no_flood_control_unless_marked(telegram):
    async def action(bot):
        for n in range(25):  # more than Telegram lets one chat have in a minute
            await bot.send_message(CHANNEL, f"post {n}")

    with_bot(telegram, action)
    assert len(telegram.messages_for(CHANNEL)) == 25 and telegram.throttled == {}


@pytest.mark.telegram(rate_limit=RateLimit(per_chat_per_minute=1, global_per_second=None))
def test_a_telegram_mark_gives_the_shared_fixture_its_limits(telegram):
    async def action(bot):
        await bot.send_message(CHANNEL, "1")
        with pytest.raises(RetryAfter):
            await bot.send_message(CHANNEL, "2")

    with_bot(telegram, action)
    assert telegram.throttled == {CHANNEL: 1}


@pytest.mark.telegram(
    rate_limit=RateLimit(per_chat_per_minute=1, global_per_second=None), virtual_time=True
)
def test_virtual_time_puts_the_shared_fixtures_limits_on_the_time_fixtures_clock(telegram, time):
    async def action(bot):
        await bot.send_message(CHANNEL, "1")
        with pytest.raises(RetryAfter) as held:
            await bot.send_message(CHANNEL, "2")
        time.advance(60)  # only the virtual clock moves: the slot frees all the same
        await bot.send_message(CHANNEL, "2")
        return held.value.retry_after

    assert with_bot(telegram, action) == dt.timedelta(seconds=60)
    assert [m.text for m in telegram.messages_for(CHANNEL)] == ["1", "2"]


def test_concurrent_sends_get_unique_ids_per_chat():
    # PTB's default client has one connection and gives up after 1 s in its queue or 5 s of
    # reading: 60 sends at once on a loaded machine met those limits, not the fake's behaviour.
    patient = HTTPXRequest(connection_pool_size=8, pool_timeout=120, read_timeout=120)
    with FakeTelegram(rate_limit=None) as fake:
        messages = with_bot(fake, lambda bot: asyncio.gather(
            *(bot.send_message(-1000 - n % 4, f"m{n}") for n in range(60))), request=patient)  # fmt: skip
    ids: dict[int, list[int]] = {}
    for message in messages:
        ids.setdefault(message.chat.id, []).append(message.message_id)
    assert {chat: sorted(found) for chat, found in ids.items()} == {
        -1000 - k: list(range(1, 16)) for k in range(4)
    }
    assert len(fake.messages) == 60


def test_a_send_in_flight_is_seen_and_held_between_carrying_out_and_answering():
    # A round trip of 1 s, half after the message is in the chat: the moment a crash test aims at.
    with FakeTelegram(rate_limit=None, latency=1.0) as fake:
        answered = threading.Event()
        client = threading.Thread(
            target=lambda: (
                with_bot(fake, lambda bot: bot.send_message(CHANNEL, "x")),
                answered.set(),
            )
        )
        assert fake.sends_in_flight() == InFlight(received=0, accepted=0)
        with fake.frozen():
            client.start()
            assert fake.wait_for(lambda: fake.sends_in_flight().accepted == 1)
            # Frozen: the message is in the chat, and its answer cannot leave until the block ends.
            assert [m.text for m in fake.messages] == ["x"]
            assert (
                fake.sends_in_flight() == InFlight(received=1, accepted=1) and not answered.is_set()
            )
        client.join(10)
        assert answered.is_set() and fake.sends_in_flight() == InFlight(received=0, accepted=0)


def test_cli_prints_its_base_url_and_serves_until_terminated():
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--token", "42:CLI"]
    with subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            base_url = proc.stdout.readline().strip()
            me = httpx.get(f"{base_url}42:CLI/getMe").json()
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
    assert (me["ok"], me["result"]["id"]) == (True, 42)
    assert proc.returncode == 0
