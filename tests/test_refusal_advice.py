"""What the operator is told to fix when a channel refuses posts, for refusals that are not about
the bot's rights: a forum topic gone or closed, a proxy's web page instead of Telegram's answer.

The real relay and python-telegram-bot against the loopback fake Bot API (synthetic articles).
"""

from __future__ import annotations

import pytest

from storage import OutboxState
from tests.support.posting import CHAT, RelayKit, relay_rounds
from tests.support.relay import FakeTime, add, channel, make_config

ADMIN = "555"


@pytest.mark.parametrize(
    ("status", "description", "html", "advice"),
    [
        (400, "Bad Request: message thread not found", False, "message_thread_id"),
        (400, "Bad Request: TOPIC_CLOSED", False, "message_thread_id"),
        (403, "Forbidden", True, "a web page came back"),
    ],
)
def test_the_alert_names_what_to_fix(
    tmp_path, store, telegram, status, description, html, advice
) -> None:
    config = make_config(
        tmp_path,
        channels=[channel("main", CHAT, message_thread_id=7)],
        api_base_url=telegram.base_url,
        admin_chat_id=ADMIN,
    )
    kit = RelayKit(telegram, FakeTime(), store, config)
    add(store, 0, ("main", CHAT))
    telegram.fail_next(1, status=status, description=description, html=html, chat=int(CHAT))
    relay_rounds(kit, 2, advance=60, probe=False)
    [alert] = telegram.messages_for(int(ADMIN))
    assert "refuses posts" in alert.text and advice in alert.text
    assert "Fix the bot's rights" not in alert.text
    assert store.outbox.ids_in(OutboxState.FAILED) == [1]
