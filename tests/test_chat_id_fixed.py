"""A channel whose chat_id is wrong: the alert says to fix the chat_id (not the bot's rights),
and once the config names the right chat a retry goes there (the ux14 walkthrough's findings).

The real relay and python-telegram-bot against the loopback fake Bot API, on both archives.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.outcomes import refusal_advice
from bot.delivery.publish import RelayReport
from bot.delivery.telegram import TelegramSender
from storage import OutboxState, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.relay import PACED, FakeTime, add, channel, make_config, relay_for

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

TYPO, FIXED, MAIN, ADMIN = "@pw_tpyo", "@pw_fixed", "-1001001", "555"


def deliver(store: Store, fake: FakeTelegram, time: FakeTime, tmp_path, typo: str) -> RelayReport:
    """Run one relay round with channel `typo` at chat `typo` (the config of that moment)."""
    config = make_config(
        tmp_path,
        channels=[channel("main", MAIN), channel("typo", typo)],
        api_base_url=fake.base_url,
        admin_chat_id=ADMIN,
    )

    async def go() -> RelayReport:
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0
        )
        await sender.start()
        try:
            return await relay_for(store, config, sender, time).deliver_due()
        finally:
            await sender.close()

    return asyncio.run(go())


def test_chat_not_found_advises_checking_the_chat_id_not_the_rights(
    store, telegram, time, tmp_path
) -> None:
    telegram.missing_chat(TYPO)
    add(store, 0, ("typo", TYPO))
    deliver(store, telegram, time, tmp_path, TYPO)
    [alert] = telegram.messages_for(int(ADMIN))
    assert "refuses posts: Chat not found" in alert.text
    assert "chat_id in the config" in alert.text and "@username typo" in alert.text
    assert "-100 prefix" in alert.text and "rights" not in alert.text
    assert alert.text.endswith("(the posts go to the chat_id the config names then)")


def test_a_refusal_other_than_chat_not_found_keeps_the_rights_advice() -> None:
    advice = refusal_advice("Forbidden: bot was kicked from the channel chat")
    assert advice.startswith("Fix the bot's rights in the chat") and "chat_id" not in advice
    assert "chat_id in the config" in refusal_advice("Bad Request: chat not found")
