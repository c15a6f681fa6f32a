"""A chat kit: a config with commands on, articles to ask about, and a session that talks to the bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.application import Chat, RateLimiter
from bot.config import config_from_dict
from bot.service.counters import Counters
from bot.service.monitor import Monitor
from scrapers.models import Article
from storage import Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram

ADMIN, READER, OTHER = 1001, 2002, 3003
GROUP = -4004
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
TOPICS = {
    "peacekeeping": {
        "label": "Peacekeeping",
        "labels": {"ru": "Миротворчество"},
        "phrases": ["peacekeep"],
    },
    "border-security": {"label": "Border security", "phrases": ["border guard"]},
}
# An entity to follow as readers do (/latest, /subscribe), labelled in both languages.
ENTITIES = {"csto": {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO", "ОДКБ"]}}


def make_config(
    tmp_path: Path,
    base_url: str,
    token: str = DEFAULT_TOKEN,
    more_sources=(),
    taxonomy: dict | None = None,
    admins: tuple[int, ...] = (ADMIN,),
):
    """Return a config with chat commands on, one admin (or `admins`), two sources (and
    `more_sources`), two topics and an entity (or `taxonomy`'s topics and entities)."""
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "telegram": {"api_base_url": base_url, "commands": True, "admin_user_ids": [*admins]},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {
                    "key": "alpha",
                    "name": "Alpha Ministry",
                    "url": "https://alpha.example/feed",
                    "kind": "feed",
                },
                {"key": "beta", "url": "https://beta.example/", "link_pattern": "/news/"},
                *more_sources,
            ],
            **(taxonomy or {"topics": TOPICS, "entities": ENTITIES}),
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
    entities: tuple[str, ...] = (),
    source: str = "alpha",
    deliveries=(),
) -> int:
    """Archive article n of `source`, published n hours after T0; return its id."""
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
            entities=entities,
        ),
        source_key=source,
        now=T0,
        deliveries=deliveries,
    )
    return article_id


def seed(store: Store) -> Store:
    """Add the three articles the chat tests ask about."""
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
        self,
        text: str,
        *,
        user: int = READER,
        chat: int | None = None,
        chat_type: str = "private",
        language: str = "en",
    ) -> str:
        """Send a message and return the bot's one reply to that chat."""
        [reply] = await self.exchange(
            [text], user=user, chat=chat, chat_type=chat_type, replies=1, language=language
        )
        return reply

    async def exchange(
        self,
        texts: list[str],
        *,
        user: int = READER,
        chat: int | None = None,
        chat_type: str = "private",
        replies: int,
        language: str = "en",
    ) -> list[str]:
        """Send messages, wait for `replies` answers in that chat, and return their raw HTML."""
        chat = chat or user
        before = len(self.fake.messages_for(chat))
        for text in texts:
            self.fake.push_message(
                chat_id=chat, user_id=user, text=text, chat_type=chat_type, language=language
            )
        arrived = await asyncio.to_thread(
            self.fake.wait_for, lambda: len(self.fake.messages_for(chat)) >= before + replies, 10
        )
        assert arrived, f"no reply to {texts!r}"
        return [m.text for m in self.fake.messages_for(chat)[before:]]


def talk(
    fake,
    store,
    tmp_path,
    script,
    *,
    limiter: RateLimiter | None = None,
    token=DEFAULT_TOKEN,
    more_sources=(),
    taxonomy: dict | None = None,
    admins: tuple[int, ...] = (ADMIN,),
):
    """Run `script(session)` against a started Chat, then stop it."""
    config = make_config(tmp_path, fake.base_url, token, more_sources, taxonomy, admins)
    counters = Counters()

    async def main():
        monitor = Monitor(
            # A PostgreSQL store's status is read from its database, an SQLite one's from its file.
            getattr(store.db, "backend", None) or config.storage_path,
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
