"""What each chat command answers: parse the words, read the archive once, and have the reply
written by bot/chat/answers.py (escaped HTML within Telegram's limits)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.chat.answers import (
    MAX_LATEST,
    echo,
    help_text,
    latest_request,
    latest_text,
    mysubs_text,
    search_text,
    sources_text,
    subscription_target,
    target_label,
    topics_text,
)
from bot.chat.naming import QUOTES, find_named, find_source
from bot.chat.phrases import count_of, language, say
from bot.chat.status import pause_text, retry_text, status_lines, status_text, unreachable
from bot.config import Config
from bot.ingest.routing import alert_name
from bot.service.counters import Counters
from bot.text.plural import counted
from storage import OutboxState, StorageError, Store
from storage.search import latest, search
from storage.status import Snapshot
from storage.subscriptions import Subscription, SubscriptionKind

log = logging.getLogger(__name__)

PUBLIC = (
    ("latest", "newest articles: /latest [N] [topic or tag]"),
    ("search", "search the archive: /search words"),
    ("topics", "the topics articles are sorted into"),
    ("sources", "the sites I follow"),
    ("subscribe", 'alerts here: /subscribe topic, tag, source or "phrase"'),
    ("unsubscribe", "stop an alert (or: /unsubscribe all)"),
    ("mysubs", "your alerts"),
    ("help", "what I can do"),
)
ADMIN = (
    ("status", "health at a glance"),
    ("pause", "stop polling a source: /pause KEY"),
    ("resume", "poll a paused source again: /resume KEY"),
    ("retry", "queue failed and uncertain posts again"),
)
MAX_QUERY, MAX_SUBS, SEARCH_LIMIT = 200, 20, 5


@dataclass(frozen=True, slots=True)
class Who:
    """Who asked, and where."""

    user_id: int
    chat_id: int
    private: bool
    admin: bool
    command: str = ""  # as typed, "/search@presswatch_bot" included
    lang: str = ""  # the user's Telegram language ("ru", "en-GB"), or ""

    @property
    def reads(self) -> str:
        """Return the language the chat answers this user in: RU or EN."""
        return language(self.lang)


class Commands:
    """Answer each command from the archive; a method per command, named as the command."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        counters: Counters,
        snapshot: Callable[[], Awaitable[Snapshot]],
        clock: Callable[[], datetime],
    ) -> None:
        self.config, self.store, self.counters = config, store, counters
        self._snapshot, self._clock = snapshot, clock

    async def help(self, words: str, who: Who) -> str:
        """List the commands."""
        return help_text(PUBLIC, ADMIN if who.admin else (), who.reads)

    async def latest(self, words: str, who: Who) -> str:
        """Show the newest articles, optionally of one topic or entity."""
        taxonomy = self.config.taxonomy
        request = latest_request(words, taxonomy.topics, who.reads, entities=taxonomy.entities)
        if isinstance(request, str):
            return request
        count, topic, kind = request
        # Reprints fold into their story's line: ask for more rows than lines to show. Entities
        # share article_topics with topics, so one filter serves both.
        limit = min(count, MAX_LATEST) * 3
        hits = latest(self.store.db, limit=limit, topic=topic.key if topic else None)
        return latest_text(
            hits, topic=topic, sources=self.config.sources, count=count, lang=who.reads, kind=kind
        )

    async def search(self, words: str, who: Who) -> str:
        """Search the archive."""
        query = " ".join(words.split())
        if len(query) > MAX_QUERY:
            return say(who.reads, "That query is too long: {n} characters at most.", n=MAX_QUERY)
        try:
            hits = search(self.store.db, query, limit=SEARCH_LIMIT) if query else None
        except ValueError:
            hits = None
        except (sqlite3.Error, StorageError, RuntimeError) as exc:  # the archive's, not the words
            log.warning("chat: search for %r failed: %s", query, exc)
            return say(who.reads, "I could not run that search; try plain words.")
        return search_text(query, hits, sources=self.config.sources, lang=who.reads)

    async def topics(self, words: str, who: Who) -> str:
        """List the topics and the entities."""
        taxonomy = self.config.taxonomy
        return topics_text(taxonomy.topics, who.reads, entities=taxonomy.entities)

    async def sources(self, words: str, who: Who) -> str:
        """List the sources with their article counts."""
        counts = self.store.sources.article_counts()
        return sources_text(self.config.sources, counts, who.reads)

    async def text(self, words: str, who: Who) -> str:
        """Answer plain text in a private chat."""
        return say(
            who.reads,
            "Send me a command: /help lists them. To search, send /search and some words.",
        )

    async def subscribe(self, words: str, who: Who) -> str:
        """Follow a topic, an entity, a source or a phrase in this private chat."""
        lang = who.reads
        if not who.private:
            return say(
                lang,
                "Alerts arrive in a private chat: message me directly and send /subscribe there.",
            )
        target = self._target(words, lang)
        if isinstance(target, str):
            return target
        kind, value, label = target
        subs = self.store.subscriptions
        if len(subs.of_user(who.user_id)) >= MAX_SUBS:
            alerts = count_of(lang, MAX_SUBS, "alert")
            return say(
                lang, "You have {alerts}, the most I keep. /unsubscribe one first.", alerts=alerts
            )
        added = subs.add(
            user_id=who.user_id, chat_id=str(who.chat_id), kind=kind, value=value, now=self._clock()
        )
        return (
            say(lang, "Subscribed to {label}. New articles will arrive here.", label=label)
            if added
            else say(lang, "You already follow {label}.", label=label)
        )

    async def unsubscribe(self, words: str, who: Who) -> str:
        """Stop one alert, or all of them."""
        subs, lang = self.store.subscriptions, who.reads
        if not words.strip():
            return await self.mysubs(words, who)
        if words.strip().casefold() == "all":
            alerts = count_of(lang, subs.remove_all(user_id=who.user_id), "alert")
            return say(lang, "Removed {alerts}.", alerts=alerts)
        wanted = " ".join(words.split()).strip(QUOTES).casefold()
        alerts = subs.of_user(who.user_id)
        named = [s for s in alerts if s.value.casefold() == wanted]
        # Quotes name the phrase, as /mysubs writes it: a topic "peacekeeping" and a phrase
        # "peacekeeping" are two alerts, and each command stops its own.
        phrase = words.strip()[:1] in QUOTES
        mine = next((s for s in named if (s.kind == SubscriptionKind.PHRASE) == phrase), None)
        mine = mine or next(iter(named), None)
        if mine is None and not phrase:
            mine = self._followed(words, alerts)
        target = (
            (mine.kind, mine.value, self._named(mine, lang)) if mine else self._target(words, lang)
        )
        if isinstance(target, str):
            # /subscribe's refusal would offer to follow the word: here it names no alert of theirs.
            name = echo(words.strip().strip(QUOTES))
            return say(lang, "You have no alert called “{name}”. /mysubs lists yours.", name=name)
        kind, value, label = target
        removed = subs.remove(user_id=who.user_id, kind=kind, value=value)
        return say(
            lang,
            "Unsubscribed from {label}." if removed else "You did not follow {label}.",
            label=label,
        )

    async def mysubs(self, words: str, who: Who) -> str:
        """List this user's alerts."""
        return mysubs_text(
            self.store.subscriptions.of_user(who.user_id),
            topics=self.config.taxonomy.topics,
            sources=self.config.sources,
            entities=self.config.taxonomy.entities,
            lang=who.reads,
        )

    def _followed(self, words: str, alerts: list[Subscription]) -> Subscription | None:
        """Return the alert among the user's `alerts` a topic, tag or source name stands for."""
        # Among what the user follows only: a tag labelled as a topic is still stopped by its
        # label once the topic is (the precedence alone reads the word as the topic again).
        follows = {(s.kind, s.value): s for s in alerts}
        taxonomy = self.config.taxonomy
        found = find_named(
            words,
            topics=[t for t in taxonomy.topics if (SubscriptionKind.TOPIC, t.key) in follows],
            entities=[t for t in taxonomy.entities if (SubscriptionKind.ENTITY, t.key) in follows],
            sources=[s for s in self.config.sources if (SubscriptionKind.SOURCE, s.key) in follows],
        )
        return follows[(found[0], found[1].key)] if found else None

    def _target(self, words: str, lang: str) -> tuple[str, str, str] | str:
        """Return (kind, value, label) for a configured topic, entity or source or a phrase; or a
        helpful error."""
        taxonomy = self.config.taxonomy
        return subscription_target(
            words,
            topics=taxonomy.topics,
            sources=self.config.sources,
            entities=taxonomy.entities,
            lang=lang,
        )

    def _named(self, sub: Subscription, lang: str) -> str:
        """Return one of the user's alerts as /subscribe named it, escaped: its kind and label in
        the reader's language ("the tag CSTO", "тег «ОДКБ»")."""
        taxonomy = self.config.taxonomy
        name = alert_name(
            sub, topics=taxonomy.topics, sources=self.config.sources, entities=taxonomy.entities,
            lang=lang,
        )  # fmt: skip
        return target_label(sub.kind, name, lang)

    async def status(self, words: str, who: Who) -> str:
        """Show sources and channels at a glance (operator)."""
        try:
            snapshot = await self._snapshot()
        except (sqlite3.Error, StorageError, TimeoutError, OSError) as exc:
            return unreachable(exc, who.reads)
        keys = [s.key for s in self.config.sources]
        missed = {
            k: self.counters.value("jobs_missed", source=k)
            + self.counters.value("jobs_skipped", source=k)
            for k in keys
        }
        lines = status_lines(
            snapshot,
            sources=keys,
            channels=[c.name for c in self.config.channels],
            missed=missed,
            configured={s.key: s for s in self.config.sources},
            lang=who.reads,
        )
        return status_text(lines, who.reads)

    async def pause(self, words: str, who: Who) -> str:
        """Stop polling a source until /resume (operator)."""
        return self._set_paused(words, who, paused=True)

    async def resume(self, words: str, who: Who) -> str:
        """Poll a paused source again (operator)."""
        return self._set_paused(words, who, paused=False)

    def _set_paused(self, words: str, who: Who, *, paused: bool) -> str:
        """Set sources.paused for a configured source."""
        source = find_source(self.config.sources, words.strip()) if words.strip() else None
        keys = [s.key for s in self.config.sources]
        # A second /pause once answered "Paused" again: the operator is told nothing changed.
        already = source is not None and self.store.sources.state(source.key).paused == paused
        if source is not None and not already:
            self.store.sources.set_paused(source.key, paused=paused)
            verb = "paused" if paused else "resumed"
            log.info("chat: user %d %s %s", who.user_id, verb, source.key)
        return pause_text(
            source.key if source else None,
            paused=paused,
            keys=keys,
            lang=who.reads,
            asked=words.strip(),
            already=already,
        )

    async def retry(self, words: str, who: Who) -> str:
        """Queue failed and uncertain posts again (operator)."""
        if words.strip():
            # "/retry 5" once queued every post, its 5 ignored: nothing is done on a guess.
            return retry_text(None, who.reads)
        outbox = self.store.outbox
        count = outbox.retry(
            outbox.ids_in(OutboxState.FAILED) + outbox.ids_in(OutboxState.UNCERTAIN),
            now=self._clock(),
            chats=self.config.chat_ids,
        )
        log.info("chat: user %d queued %s again", who.user_id, counted(count, "post"))
        return retry_text(count, who.reads)
