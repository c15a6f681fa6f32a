"""Pure routing: which channels an article goes to, and which readers' alerts it matches."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from bot.config import Channel
from bot.delivery.render import word
from bot.text.taxonomy import Topic
from scrapers.models import Article, Source
from storage.subscriptions import Subscription, SubscriptionKind


def channels_for(
    article: Article, *, source_key: str, channels: tuple[Channel, ...]
) -> tuple[Channel, ...]:
    """Return every channel whose filter the article passes."""
    return tuple(c for c in channels if passes(article, source_key=source_key, channel=c))


def passes(article: Article, *, source_key: str, channel: Channel) -> bool:
    """Return True when the article fits every filter of the channel (sources to keywords)."""
    if channel.sources and source_key not in channel.sources:
        return False
    if channel.languages and article.lang not in channel.languages:
        return False
    if channel.topics and not set(channel.topics) & set(article.topics):
        return False
    if channel.entities and not set(channel.entities) & set(article.entities):
        return False
    text = f"{article.title}\n{article.lead}\n{article.body}"
    if channel.include and not any(_keyword(k).search(text) for k in channel.include):
        return False
    return not any(_keyword(k).search(text) for k in channel.exclude)


@lru_cache(maxsize=1024)
def _keyword(phrase: str) -> re.Pattern[str]:
    """Compile a keyword as a literal, case-insensitive phrase starting at a word boundary.

    A trailing '*' matches any word ending ("санкци*"). Phrases are escaped, so hostile input
    cannot build a pattern that backtracks catastrophically.
    """
    stem = phrase.strip()
    wildcard = stem.endswith("*")
    body = r"\s+".join(re.escape(w) for w in stem.rstrip("*").split())
    return re.compile(rf"(?<!\w){body}" + (r"\w*" if wildcard else r"(?!\w)"), re.IGNORECASE)


def subscribers_for(article: Article, *, source_key: str, subscriptions) -> list[tuple[int, str]]:
    """Return (user id, chat id) of every reader whose topic, entity, source or phrase it matches."""
    found: dict[int, str] = {}
    for sub in matching(article, source_key=source_key, subscriptions=subscriptions):
        found.setdefault(sub.user_id, sub.chat_id)
    return list(found.items())


def matching(
    article: Article, *, source_key: str, subscriptions: Iterable[Subscription]
) -> list[Subscription]:
    """Return the subscriptions the article matches, in their order."""
    text = f"{article.title}\n{article.lead}\n{article.body}"
    return [
        sub
        for sub in subscriptions
        if sub.kind == SubscriptionKind.TOPIC
        and sub.value in article.topics
        # Every entity the article carries counts, not only the three its post shows as hashtags.
        or sub.kind == SubscriptionKind.ENTITY
        and sub.value in article.entities
        or sub.kind == SubscriptionKind.SOURCE
        and sub.value == source_key
        or sub.kind == SubscriptionKind.PHRASE
        and _keyword(sub.value).search(text)
    ]


def alert_name(
    sub: Subscription,
    *,
    topics: Sequence[Topic],
    sources: Sequence[Source],
    entities: Sequence[Topic] = (),
    lang: str = "",
    words: str | None = None,
) -> str:
    """Return what an alert follows as its reader names it, unescaped: a topic's or entity's label
    in `lang`, a source's name, a phrase, or the stored key when the config no longer has it; with
    `words` (a language), after its kind's word there: 'тема «Миротворчество»', 'tag «CSTO»'."""
    found = followed(sub, topics=topics, sources=sources, entities=entities)
    name = (
        found.label_in(lang)
        if isinstance(found, Topic)
        else found.display_name
        if found
        else sub.value
    )
    return name if words is None else f"{word(noun(sub.kind), words)} «{name}»"


def followed(
    sub: Subscription,
    *,
    topics: Sequence[Topic],
    sources: Sequence[Source],
    entities: Sequence[Topic] = (),
) -> Topic | Source | None:
    """Return the configured topic, entity or source an alert follows; None for a phrase, and for a
    key the config no longer has as that kind (the alert can match nothing)."""
    named = {
        SubscriptionKind.TOPIC: topics,
        SubscriptionKind.ENTITY: entities,
        SubscriptionKind.SOURCE: sources,
    }.get(sub.kind, ())
    return next((t for t in named if t.key == sub.value), None)


def noun(kind: str) -> str:
    """Return the English word a reader sees for a kind of alert: an entity is a "tag"."""
    # Readers meet entities as the hashtags under posts (#CSTO), never as "entities".
    return "tag" if kind == SubscriptionKind.ENTITY else str(kind)


def stale_alerts(
    subscriptions: Iterable[Subscription], *, topics: Sequence[Topic], entities: Sequence[Topic]
) -> Counter[tuple[SubscriptionKind, str, SubscriptionKind | None]]:
    """Count the topic and tag alerts whose key the taxonomy no longer has as their kind:
    (kind followed, key, the kind the key has now or None) -> how many readers."""
    now = {t.key: SubscriptionKind.TOPIC for t in topics}
    now |= {t.key: SubscriptionKind.ENTITY for t in entities}
    return Counter(
        (sub.kind, sub.value, now.get(sub.value))
        for sub in subscriptions
        if sub.kind in (SubscriptionKind.TOPIC, SubscriptionKind.ENTITY)
        and now.get(sub.value) != sub.kind
    )


def dormant_alerts(
    subscriptions: Iterable[Subscription],
    *,
    topics: Sequence[Topic],
    sources: Sequence[Source],
    entities: Sequence[Topic] = (),
) -> list[Subscription]:
    """Return the topic, tag and source alerts that follow nothing the config has (a phrase
    always can match): once keys moved between kinds are carried over, they match nothing until
    their key comes back."""
    return [
        sub
        for sub in subscriptions
        if sub.kind != SubscriptionKind.PHRASE
        and followed(sub, topics=topics, sources=sources, entities=entities) is None
    ]
