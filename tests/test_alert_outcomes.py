"""What the relay records when Telegram says an alert's chat moved: the admin chat's move names
the setting to change, a reader's chat's move does not (the config holds no reader's chat)."""

from __future__ import annotations

import logging

import pytest

from bot.delivery.telegram import ChatMoved
from storage import OutboxState
from tests.support.relay import (
    START,
    FakeTime,
    ScriptedSender,
    channel,
    deliver,
    make_config,
    relay_for,
)

ADMIN = "42"


@pytest.mark.parametrize(
    ("chat_id", "subject", "kind", "told"),
    [
        (ADMIN, "source:tass", "source_failing",
         "the admin chat moved to -1009: set telegram.admin_chat_id to it"),
        ("7", "user:7", "alerts-paused", "the chat moved to -1009"),
    ],
)  # fmt: skip
def test_a_moved_chat_names_admin_chat_id_only_for_the_admin_chat(
    tmp_path, store, caplog, chat_id, subject, kind, told
) -> None:
    store.alerts.enqueue(chat_id=chat_id, subject=subject, kind=kind, text="notice", now=START)
    time = FakeTime()
    sender = ScriptedSender(time, script={chat_id: [ChatMoved(-1009)]})
    config = make_config(tmp_path, channels=[channel("main", "-1001")], admin_chat_id=ADMIN)
    with caplog.at_level(logging.ERROR, logger="bot.delivery.outcomes"):
        deliver(relay_for(store, config, sender, time))
    row = store.db["alerts"].get(1)
    assert (row["state"], row["last_error"]) == (OutboxState.FAILED, told)
    assert [r.getMessage() for r in caplog.records] == [f"alert 1 to {chat_id} failed: {told}"]
