"""A channel whose chat_id is wrong: the alert says to fix the chat_id (not the bot's rights),
and once the config names the right chat a retry goes there (the ux14 walkthrough's findings).

The real relay and python-telegram-bot against the loopback fake Bot API, on both archives.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.cli.main import main
from bot.delivery.outcomes import refusal_advice
from bot.delivery.publish import RelayReport
from bot.delivery.telegram import TelegramSender
from storage import OutboxKind, OutboxState, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.relay import (
    PACED,
    START,
    FakeTime,
    add,
    channel,
    make_config,
    relay_for,
)

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
        sender = TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0)
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


def test_a_retry_after_the_chat_id_is_fixed_goes_to_the_chat_the_config_names_now(
    store, telegram, time, tmp_path
) -> None:
    telegram.missing_chat(TYPO)
    add(store, 0, ("main", MAIN), ("typo", TYPO))
    add(store, 1, ("typo", TYPO))
    deliver(store, telegram, time, tmp_path, TYPO)
    assert [r["state"] for r in rows(store, "typo")] == [OutboxState.FAILED] * 2
    # The operator fixes the chat_id and restarts: new posts go to the right chat at once...
    add(store, 2, ("typo", FIXED))
    # ...and retries every row, the sent one too, as `outbox retry ID…` may name it.
    ids = [r["id"] for r in store.db.query("select id from outbox")]
    assert store.outbox.retry(ids, now=time.now(), chats={"typo": FIXED, "main": MAIN}) == 2
    deliver(store, telegram, time, tmp_path, FIXED)
    deliver(store, telegram, time, tmp_path, FIXED)  # an alert queued late in a round waits
    heads = [m.text.splitlines()[0] for m in telegram.messages_for(FIXED)]
    assert heads == ["<b>Title 0</b>", "<b>Title 1</b>", "<b>Title 2</b>"]
    assert len(telegram.messages_for(MAIN)) == 1  # the sent row was not sent again
    # One call reached the wrong chat, before the fix: the retry never went there again.
    assert sum(1 for c in telegram.requests if c.params.get("chat_id") == TYPO) == 1
    assert [(r["chat_id"], r["state"]) for r in rows(store, "typo")] == [
        (FIXED, OutboxState.SENT)
    ] * 3
    alerts = [m.text for m in telegram.messages_for(int(ADMIN))]
    assert len(alerts) == 2 and "refuses posts" in alerts[0]
    assert alerts[1] == f"presswatch: channel typo ({FIXED}) takes posts again."
    [health] = [c for c in store.outbox.channels.all() if c["name"] == "typo"]
    assert (health["state"], health["chat_id"]) == ("ok", FIXED)


def test_a_retry_leaves_edits_in_the_chat_of_their_message(store, time) -> None:
    first = add(store, 0, ("typo", TYPO))
    [post] = rows(store, "typo")
    store.outbox.mark_sent(post["id"], message_id=1, now=time.now())
    # After the chat_id changed, the channel's first post in the new chat is message 1 too:
    # the edit of article 0 still finds its own post (not two sharing a message: a digest).
    add(store, 1, ("typo", FIXED))
    [_, fresh] = rows(store, "typo")
    store.outbox.mark_sent(fresh["id"], message_id=1, now=time.now())
    assert store.posts.enqueue_update(first, kind=OutboxKind.EDIT, now=time.now()) == 1
    edit = rows(store, "typo")[-1]
    store.outbox.mark_failed(edit["id"], error="Bad Request: chat not found", now=time.now())
    assert store.outbox.retry([edit["id"]], now=time.now(), chats={"typo": FIXED}) == 1
    edit = rows(store, "typo")[-1]
    assert (edit["kind"], edit["chat_id"], edit["target_message_id"]) == ("edit", TYPO, 1)


def test_outbox_retry_all_failed_sends_to_the_config_s_chat(tmp_path, restore_logging) -> None:
    config = make_config(tmp_path, channels=[channel("typo", FIXED)])
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'sources = []\n[storage]\npath = "{config.storage_path}"\n'
        f'[[channels]]\nname = "typo"\nchat_id = "{FIXED}"\n',
        encoding="utf-8",
    )
    store = Store.open(config.storage_path)
    add(store, 0, ("typo", TYPO))
    [row] = rows(store, "typo")
    store.outbox.mark_failed(row["id"], error="Bad Request: chat not found", now=START)
    store.close()
    assert main(["outbox", "retry", "--all-failed", "--config", str(path)]) == 0
    store = Store.open(config.storage_path)
    try:
        assert [(r["chat_id"], r["state"]) for r in rows(store, "typo")] == [
            (FIXED, OutboxState.PENDING)
        ]
    finally:
        store.close()


def rows(store: Store, channel_name: str) -> list[dict]:
    """Return a channel's outbox rows, oldest first."""
    return list(
        store.db.query("select * from outbox where channel = ? order by id", [channel_name])
    )
