"""An alert on a topic, tag or source the config dropped ends: at the reload (or the start) that
drops it, each reader is told once in their chat, in English and Russian, and the alert is gone
from /mysubs; a phrase alert never ends. Through the loopback fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_app, reconfigure
from bot.config import config_from_dict
from storage import Store
from tests.fakes.telegram import DEFAULT_TOKEN

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
READER, OTHER = 2002, 3003
PEACE = {"label": "Peacekeeping", "labels": {"ru": "Миротворчество"}, "phrases": ["peacekeep"]}
CSTO = {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO"]}
ALPHA = {"key": "alpha", "name": "Alpha Ministry", "url": "https://alpha.example/feed"}
BETA = {"key": "beta", "name": "Beta News", "url": "https://beta.example/feed"}


def _config(tmp_path: Path, base_url: str, *, dropped: bool):
    """Return the config before (`dropped` False) or after the operator dropped a topic and a
    source."""
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "telegram": {"api_base_url": base_url},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {**ALPHA, "kind": "feed"},
                *([] if dropped else [{**BETA, "kind": "feed"}]),
            ],
            "topics": {} if dropped else {"peacekeeping": PEACE},
            "entities": {"csto": CSTO},
        },
        path=tmp_path / "presswatch.toml",
        token=DEFAULT_TOKEN,
    )


def _follow(path: Path, *alerts: tuple[int, str, str]) -> None:
    store = Store.open(path)
    for user, kind, value in alerts:
        store.subscriptions.add(user_id=user, chat_id=str(user), kind=kind, value=value, now=NOW)
    store.close()


def test_a_reload_that_drops_a_topic_and_a_source_ends_their_alerts_and_says_so_once(
    telegram, tmp_path: Path
) -> None:
    before = _config(tmp_path, telegram.base_url, dropped=False)
    after = _config(tmp_path, telegram.base_url, dropped=True)
    _follow(before.storage_path, (READER, "topic", "peacekeeping"), (READER, "source", "beta"),
            (READER, "phrase", "border guards"), (READER, "entity", "csto"),
            (OTHER, "topic", "peacekeeping"))  # fmt: skip

    async def run() -> list[tuple[int, str, str]]:
        async with open_app(before) as app:
            await app.relay.deliver_due()  # the start ends nothing: all is configured
            assert telegram.messages == []
            reconfigure(app, after)
            await app.relay.deliver_due()
            reconfigure(app, after)  # a second reload of the same config tells nobody again
            await app.relay.deliver_due()
        async with open_app(after) as app:  # nor does a restart
            await app.relay.deliver_due()
            return sorted((s.user_id, s.kind, s.value) for s in app.store.subscriptions.all())

    left = asyncio.run(run())
    assert left == [(READER, "entity", "csto"), (READER, "phrase", "border guards")]
    [mine] = telegram.messages_for(READER)
    # Named as the reader knew them: by the labels of the config the reload replaced.
    assert mine.text == (
        "Your alerts on topic «Peacekeeping», source «Beta News» have ended: I no longer follow "
        "them. What you can follow now: /topics and /sources.\n\n"
        "Подписки закончились: тема «Миротворчество», источник «Beta News» — я больше за этим не "
        "слежу. Что можно выбрать сейчас: /topics и /sources."
    )
    [other] = telegram.messages_for(OTHER)
    assert other.text.startswith("Your alert on topic «Peacekeeping» has ended: I no longer ")
    assert "Подписка закончилась: тема «Миротворчество» — " in other.text
    assert mine.parse_mode is None  # plain text: a label is never read as markup


def test_a_start_with_a_key_gone_ends_the_alert_under_its_stored_key(
    telegram, tmp_path: Path
) -> None:
    after = _config(tmp_path, telegram.base_url, dropped=True)
    _follow(after.storage_path, (READER, "source", "beta"))

    async def run() -> None:
        async with open_app(after) as app:
            await app.relay.deliver_due()

    asyncio.run(run())
    [told] = telegram.messages_for(READER)
    # No config at hand names it any more: the key the reader subscribed to stands for it.
    assert told.text.startswith("Your alert on source «beta» has ended")
    assert "Подписка закончилась: источник «beta»" in told.text
