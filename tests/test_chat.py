"""Chat commands through a real python-telegram-bot Application talking to the loopback fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import error as tg

from bot.chat.answers import MAX_UNITS, fit
from bot.chat.application import Chat, RateLimiter
from bot.config import config_from_dict
from bot.delivery.render import utf16_len as units
from bot.service.counters import Counters
from bot.service.monitor import Monitor
from scrapers.models import Article
from storage import Delivery, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram

ADMIN, READER, OTHER = 1001, 2002, 3003
GROUP = -4004
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
TOPICS = {
    "peacekeeping": {"label": "Peacekeeping", "phrases": ["peacekeep"]},
    "border-security": {"label": "Border security", "phrases": ["border guard"]},
}


def make_config(tmp_path: Path, base_url: str, token: str = DEFAULT_TOKEN):
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "telegram": {"api_base_url": base_url, "commands": True, "admin_user_ids": [ADMIN]},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {
                    "key": "alpha",
                    "name": "Alpha Ministry",
                    "url": "https://alpha.example/feed",
                    "kind": "feed",
                },
                {"key": "beta", "url": "https://beta.example/", "link_pattern": "/news/"},
            ],
            "topics": TOPICS,
        },
        path=tmp_path / "presswatch.toml",
        token=token,
    )


def add(
    store: Store,
    n: int,
    title: str,
    *,
    body: str = "",
    topics: tuple[str, ...] = (),
    source: str = "alpha",
    deliveries=(),
) -> int:
    url = f"https://{source}.example/news/{n}"
    article_id = store.add_article(
        Article(
            url=url,
            canonical_url=url,
            title=title,
            published=T0 + timedelta(hours=n),
            lead=body[:100],
            body=body,
            summary=body[:100],
            topics=topics,
        ),
        source_key=source,
        now=T0,
        deliveries=deliveries,
    )
    return article_id


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    add(
        store,
        1,
        "Peacekeepers finish their exercise",
        body="The peacekeeping contingent trained.",
        topics=("peacekeeping",),
    )
    add(
        store,
        2,
        "Talks on <b>border</b> & security",
        body="Border guards met at the post.",
        topics=("border-security",),
        source="beta",
    )
    add(store, 3, "Summit statement adopted", body="Leaders adopted a statement at the summit.")
    return store


class Session:
    """One running Chat and helpers to talk to it as users do."""

    def __init__(self, fake: FakeTelegram, chat: Chat) -> None:
        self.fake, self.chat = fake, chat

    async def ask(
        self, text: str, *, user: int = READER, chat: int | None = None, chat_type: str = "private"
    ) -> str:
        """Send a message and return the bot's one reply to that chat."""
        [reply] = await self.exchange([text], user=user, chat=chat, chat_type=chat_type, replies=1)
        return reply

    async def exchange(
        self,
        texts: list[str],
        *,
        user: int = READER,
        chat: int | None = None,
        chat_type: str = "private",
        replies: int,
    ) -> list[str]:
        """Send messages, wait for `replies` answers in that chat, and return their raw HTML."""
        chat = chat or user
        before = len(self.fake.messages_for(chat))
        for text in texts:
            self.fake.push_message(chat_id=chat, user_id=user, text=text, chat_type=chat_type)
        arrived = await asyncio.to_thread(
            self.fake.wait_for, lambda: len(self.fake.messages_for(chat)) >= before + replies, 10
        )
        assert arrived, f"no reply to {texts!r}"
        return [m.text for m in self.fake.messages_for(chat)[before:]]


def talk(fake, store, tmp_path, script, *, limiter: RateLimiter | None = None, token=DEFAULT_TOKEN):
    """Run `script(session)` against a started Chat, then stop it."""
    config = make_config(tmp_path, fake.base_url, token)
    counters = Counters()

    async def main():
        monitor = Monitor(
            config.storage_path,
            counters,
            sources=[s.key for s in config.sources],
            channels=[c.name for c in config.channels],
            scheduler_state=lambda: "running",
        )
        chat = Chat(
            config=config,
            store=store,
            counters=counters,
            snapshot=monitor.snapshot,
            limiter=limiter,
        )
        await chat.start()
        try:
            return await script(Session(fake, chat))
        finally:
            await chat.stop()
            monitor.close()

    return asyncio.run(main()), counters


def test_start_publishes_commands_drops_stale_updates_and_answers_help(
    fake, store, tmp_path
) -> None:
    fake.push_message(chat_id=READER, user_id=READER, text="/help sent while the bot was down")

    async def script(s):
        return await s.ask("/start"), await s.ask("/help", user=ADMIN)

    (start, admin_help), _ = talk(fake, store, tmp_path, script)
    assert {c["command"] for c in fake.commands} >= {"latest", "search", "subscribe", "mysubs"}
    assert "pause" not in {c["command"] for c in fake.commands}
    assert "/search" in start and "/pause" not in start
    assert "/pause" in admin_help and "/retry" in admin_help
    assert len(fake.messages_for(READER)) == 1  # the stale /help was dropped, not answered


def test_search_answers_escaped_linked_hits(fake, store, tmp_path) -> None:
    async def script(s):
        return (
            await s.ask("/search border"),
            await s.ask("/search"),
            await s.ask("/search nothingmatcheshere"),
            await s.ask('/search "*:()'),
        )

    (found, empty, nothing, punctuation), counters = talk(fake, store, tmp_path, script)
    assert "Talks on &lt;b&gt;border&lt;/b&gt; &amp; security" in found
    assert '<a href="https://beta.example/news/2">' in found
    assert "Peacekeepers" not in found
    assert "Tell me what to look for" in empty and "Tell me what to look for" in punctuation
    assert "Nothing found for “nothingmatcheshere”" in nothing
    assert counters.value("chat_commands", command="search") == 4


def test_hostile_input_gets_short_escaped_answers(fake, store, tmp_path) -> None:
    async def script(s):
        return (
            await s.ask("/search " + "x" * 10_000),
            await s.ask("/search \u202e<script>alert(1)</script>\x00😀 zzzq\u0301"),
            await s.ask("/latest <b>"),
            await s.ask("/subscribe <i>oops"),
        )

    (long, odd, latest, subscribe), _ = talk(fake, store, tmp_path, script)
    assert "too long" in long and units(long) < 200
    assert "&lt;script&gt;" in odd and "\u202e" not in odd and "<script>" not in odd
    assert "No topic is called “&lt;b&gt;”" in latest
    assert "&lt;i&gt;oops" in subscribe


def test_latest_counts_topics_and_caps(fake, store, tmp_path) -> None:
    for n in range(4, 20):
        add(store, n, f"Routine note {n} " + "word " * 60, body="long text " * 200)

    async def script(s):
        return (
            await s.ask("/latest 2"),
            await s.ask("/latest peacekeeping"),
            await s.ask("/latest 500"),
            await s.ask("/latest Border_Security 3"),
        )

    (two, topic, capped, border), _ = talk(fake, store, tmp_path, script)
    assert two.count("<a href=") == 2 and "Routine note 19" in two
    assert (
        topic.count("<a href=") == 1
        and "Peacekeepers finish" in topic
        and "Latest on Peacekeeping" in topic
    )
    assert capped.count("<a href=") == 10 and units(capped) <= MAX_UNITS
    assert "Talks on" in border


def test_topics_and_sources_list_the_config(fake, store, tmp_path) -> None:
    async def script(s):
        return await s.ask("/topics"), await s.ask("/sources")

    (topics, sources), _ = talk(fake, store, tmp_path, script)
    assert "<code>peacekeeping</code> — Peacekeeping" in topics
    assert "<b>Alpha Ministry</b> <code>alpha</code> — 2 articles" in sources


def test_subscriptions_in_a_private_chat(fake, store, tmp_path) -> None:
    async def script(s):
        return [
            await s.ask(text)
            for text in (
                "/subscribe peacekeeping",
                "/subscribe Peacekeeping",
                "/subscribe alpha",
                '/subscribe "border guards"',
                "/subscribe frobnicate",
                "/mysubs",
                "/unsubscribe peacekeeping",
                "/unsubscribe border guards",
                "/unsubscribe peacekeeping",
                "/unsubscribe all",
            )
        ] + [await s.ask("/subscribe alpha", user=OTHER, chat=GROUP, chat_type="group")]

    answers, _ = talk(fake, store, tmp_path, script)
    (topic, again, source, phrase, unknown, mine, off, off_phrase, not_on, all_off, group) = answers
    assert "Subscribed to the topic Peacekeeping" in topic
    assert "You already follow the topic Peacekeeping" in again
    assert "Subscribed to the source Alpha Ministry" in source
    assert "Subscribed to the phrase “border guards”" in phrase
    assert (
        "no topic or source called “frobnicate”" in unknown and '/subscribe "frobnicate"' in unknown
    )
    assert (
        "topic: peacekeeping" in mine
        and "source: alpha" in mine
        and "phrase: border guards" in mine
    )
    assert "Unsubscribed" in off and "Unsubscribed" in off_phrase and "did not follow" in not_on
    assert "Removed 1 alert(s)" in all_off
    assert "private chat" in group
    assert store.subscriptions.of_user(READER) == [] and store.subscriptions.of_user(OTHER) == []


def test_subscription_rows_name_the_private_chat(fake, store, tmp_path) -> None:
    talk(fake, store, tmp_path, lambda s: s.ask('/subscribe "CSTO summit"'))
    [sub] = store.subscriptions.of_user(READER)
    assert (sub.chat_id, sub.kind, sub.value) == (str(READER), "phrase", "CSTO summit")


def test_unknown_commands_and_plain_text(fake, store, tmp_path) -> None:
    async def script(s):
        unknown = await s.ask("/frobnicate now")
        text = await s.ask("hello there")
        # In a group, a command for another bot is not ours; the barrier proves it was read.
        group = await s.exchange(
            ["/frobnicate@other_bot", "/frobnicate@presswatch_test_bot"],
            user=OTHER,
            chat=GROUP,
            chat_type="group",
            replies=1,
        )
        return unknown, text, group

    (unknown, text, group), _ = talk(fake, store, tmp_path, script)
    assert "I don't know /frobnicate" in unknown and "/help" in unknown
    assert "/help" in text
    assert group == ["I don't know /frobnicate. /help lists what I can do."]


def test_operator_commands_are_for_admins_only(fake, store, tmp_path) -> None:
    failed = add(store, 30, "Failed post", deliveries=[Delivery("main", "@presswatch_test")])
    store.db.execute("update outbox set state = 'failed' where article_id = ?", [failed])
    store.db.conn.commit()

    async def script(s):
        return [
            await s.ask("/pause alpha"),
            *[
                await s.ask(text, user=ADMIN)
                for text in (
                    "/pause alpha",
                    "/pause nosuch",
                    "/status",
                    "/retry",
                    "/retry",
                    "/resume ALPHA",
                )
            ],
        ]

    answers, _ = talk(fake, store, tmp_path, script)
    refused, paused, unknown, status, retried, nothing, resumed = answers
    assert "for the operator" in refused
    assert "Paused alpha" in paused and "Name a source" in unknown and "alpha, beta" in unknown
    assert "alpha: paused" in status and "main: 0 sent, 0 pending, 0 uncertain, 1 failed" in status
    assert "Queued 1 post(s) again" in retried and "Nothing to retry" in nothing
    assert "Resumed alpha" in resumed
    assert next(store.db.query("select paused from sources where key = 'alpha'"))["paused"] == 0
    assert (
        next(store.db.query("select state from outbox where article_id = ?", [failed]))["state"]
        == "pending"
    )


def test_a_flood_from_one_user_gets_one_slow_down_and_others_are_served(
    fake, store, tmp_path
) -> None:
    async def script(s):
        flood = await s.exchange(["/help"] * 13, replies=11)
        barrier = await s.ask("/help", user=OTHER)  # answered only after the whole flood was read
        return flood, barrier, len(s.fake.messages_for(READER))

    (flood, barrier, total), counters = talk(
        fake, store, tmp_path, script, limiter=RateLimiter(limit=10, window=3600)
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


def test_a_failing_handler_answers_sorry_and_the_bot_goes_on(fake, store, tmp_path, caplog) -> None:
    def broken():
        raise RuntimeError("disk on fire")

    async def script(s):
        s.chat.store.sources.article_counts = broken
        return await s.ask("/sources"), await s.ask("/help")

    (sorry, after), _ = talk(fake, store, tmp_path, script)
    assert "went wrong on my side" in sorry and "/search" in after
    assert "disk on fire" in caplog.text


def test_fit_trims_lists_to_the_limit() -> None:
    items = [f"item {i} " + "ж😀" * 300 for i in range(40)]
    text = fit("<b>Head</b>", items)
    assert units(text) <= MAX_UNITS and text.endswith("more")
    assert fit("head", ["a", "b"]) == "head\n\na\n\nb"


def test_a_refused_token_turns_commands_off(fake, store, tmp_path, caplog) -> None:
    config = make_config(tmp_path, fake.base_url, token="999:wrong")
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
