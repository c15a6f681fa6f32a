"""A group that became a supergroup: its posts follow, the admin chat is told once what to set,
and the move is remembered, so each start with the old chat_id still configured logs it (the
ux14 walkthrough's finding: only the log said so). A restart asks the old id first: a worker
follows a move only on Telegram's word to it (review14b: a remembered move let a worker holding
the old chat's lock send to the new chat beside the worker holding that chat's).

The real relay and python-telegram-bot against the loopback fake Bot API, on both archives.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.delivery.telegram import TelegramSender
from storage import OutboxState, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.relay import PACED, START, FakeTime, add, channel, make_config, relay_for

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

OLD, NEW, ADMIN = "-4001", "-1004001", "555"


def run(store: Store, fake: FakeTelegram, time: FakeTime, tmp_path, chat_id: str) -> None:
    """Run one process lifetime of the relay, two rounds, with channel `group` at `chat_id`."""
    config = make_config(
        tmp_path,
        channels=[channel("group", chat_id)],
        api_base_url=fake.base_url,
        admin_chat_id=ADMIN,
    )

    async def go() -> None:
        sender = TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0)
        await sender.start()
        try:
            relay = relay_for(store, config, sender, time)
            for _ in range(2):  # an alert queued late in a round goes in the next
                await relay.deliver_due()
                time.advance(10)
        finally:
            await sender.close()

    asyncio.run(go())


def calls_to(fake: FakeTelegram, chat: str) -> int:
    """Count the calls that named a chat."""
    return sum(1 for c in fake.requests if c.params.get("chat_id") == chat)


def test_a_moved_group_is_told_once_and_remembered_over_a_restart(
    store, telegram, time, tmp_path, caplog
) -> None:
    telegram.migrate_chat(int(OLD), int(NEW))
    add(store, 0, ("group", OLD))
    add(store, 1, ("group", OLD))
    run(store, telegram, time, tmp_path, OLD)
    assert len(telegram.messages_for(NEW)) == 2 and calls_to(telegram, OLD) == 1
    [alert] = [m.text for m in telegram.messages_for(int(ADMIN))]
    assert alert == (
        f"presswatch: the chat of channel group ({OLD}) became a supergroup, {NEW}; its posts go "
        f'there now. Set chat_id = "{NEW}" for this channel in the config, then reload or '
        "restart presswatch."
    )
    # Restarted with the config unchanged: the log says it at the start; a post queued for the
    # old id asks it once more (no move is followed on the archive's word) and then follows;
    # nobody is told twice.
    add(store, 2, ("group", OLD))
    add(store, 3, ("group", OLD))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outcomes"):
        run(store, telegram, time, tmp_path, OLD)
    assert len(telegram.messages_for(NEW)) == 4 and calls_to(telegram, OLD) == 2
    assert len(telegram.messages_for(int(ADMIN))) == 1
    assert [r.getMessage() for r in caplog.records][0] == (
        f"channel group: chat {OLD} became the supergroup {NEW}; its posts go there after the "
        f'old id refuses the first of each start or reload; set chat_id = "{NEW}" for this channel '
        "in the config"
    )
    # The config now names the new id: nothing more is said.
    caplog.clear()
    add(store, 4, ("group", NEW))
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outcomes"):
        run(store, telegram, time, tmp_path, NEW)
    assert len(telegram.messages_for(NEW)) == 5 and caplog.records == []
    states = {r["state"] for r in store.db.query("select state from outbox")}
    assert states == {OutboxState.SENT}


def test_a_worker_that_started_before_the_move_does_not_tell_it_again(
    store, telegram, time, tmp_path
) -> None:
    telegram.migrate_chat(int(OLD), int(NEW))
    config = make_config(
        tmp_path,
        channels=[channel("group", OLD)],
        api_base_url=telegram.base_url,
        admin_chat_id=ADMIN,
    )

    async def go() -> None:
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=telegram.base_url, timeout=5.0
        )
        await sender.start()
        try:
            # Two workers on one archive, both started before Telegram said the group moved.
            first, second = (relay_for(store, config, sender, time) for _ in range(2))
            add(store, 0, ("group", OLD))
            await first.deliver_due()
            time.advance(10)
            add(store, 1, ("group", OLD))
            await second.deliver_due()  # its own 400: it follows the move, and says nothing
            time.advance(10)
            await first.deliver_due()  # the one alert
        finally:
            await sender.close()

    asyncio.run(go())
    assert len(telegram.messages_for(NEW)) == 2 and calls_to(telegram, OLD) == 2
    [alert] = telegram.messages_for(int(ADMIN))
    assert f'Set chat_id = "{NEW}"' in alert.text


def test_a_move_is_news_to_the_first_of_two_workers_told_only(store) -> None:
    """Two workers told at once: one insert decides, so the admin chat is told once."""
    moved = [store.outbox.channels.record_move(OLD, NEW, now=START) for _ in range(2)]
    assert moved == [True, False]
    assert store.outbox.channels.moves() == {OLD: NEW}


def test_a_worker_holding_the_old_chat_leaves_moved_rows_to_the_new_chat_s_holder(
    store, telegram, time, tmp_path
) -> None:
    """review14d: a worker delivering chat OLD under its lock moves a row queued for OLD after
    the move to NEW but does not send it: NEW's lock holder does, so no two workers send to
    NEW at once (the other's recovery would call the send cut off and resend it)."""
    telegram.migrate_chat(int(OLD), int(NEW))
    config = make_config(tmp_path, channels=[channel("group", OLD)], api_base_url=telegram.base_url)

    async def go() -> None:
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=telegram.base_url, timeout=5.0
        )
        await sender.start()
        try:
            relay = relay_for(store, config, sender, time)
            add(store, 0, ("group", OLD))
            await relay.deliver_due(chat=OLD)  # Telegram answers: moved
            add(store, 1, ("group", OLD), now=time.now())
            time.advance(10)
            await relay.deliver_due(chat=OLD)
            assert calls_to(telegram, NEW) == 0
            time.advance(10)
            await relay.deliver_due(chat=NEW)
        finally:
            await sender.close()

    asyncio.run(go())
    rows = store.db.query("select state, chat_id from outbox where kind = 'post'")
    assert sorted((r["state"], r["chat_id"]) for r in rows) == [(OutboxState.SENT, NEW)] * 2
