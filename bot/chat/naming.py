"""How readers name what they ask for: a topic, a tag (entity) or a source, by key, label or
hashtag, in either language."""

from __future__ import annotations

from collections.abc import Sequence

from bot.text.classify import Topic
from bot.text.taxonomy import as_hashtag, find_topic
from scrapers.models import Source
from storage.subscriptions import SubscriptionKind

QUOTES = "\"'“”«»„‘’"


def find_named(
    text: str,
    *,
    topics: Sequence[Topic],
    entities: Sequence[Topic] = (),
    sources: Sequence[Source] = (),
) -> tuple[SubscriptionKind, Topic | Source] | None:
    """Return the topic, entity or source a reader's word names, and its kind; or None.

    Precedence (README, "Chat commands"): a key before any label, hashtag or name, then a topic
    before an entity before a source. So "csto" and "#ОДКБ" are the CSTO tag although a source
    is named "CSTO" or "ОДКБ", and that source is still followed by its key (odkb-csto-en).
    """
    wanted = as_hashtag(text.strip(QUOTES)).casefold()
    kinds = (
        (SubscriptionKind.TOPIC, topics),
        (SubscriptionKind.ENTITY, entities),
        (SubscriptionKind.SOURCE, sources),
    )
    for kind, named in kinds:  # keys: what /mysubs offers to copy, and the config's own names
        if found := next((n for n in named if as_hashtag(n.key).casefold() == wanted), None):
            return kind, found
    for kind, named in kinds[:2]:
        if found := find_topic(named, text):
            return kind, found
    source = find_source(sources, text)
    return (SubscriptionKind.SOURCE, source) if source else None


def find_source(sources: Sequence[Source], word: str) -> Source | None:
    """Return the source whose key or name is `word` (any case), or None."""
    wanted = word.strip(QUOTES).casefold()
    return next(
        (s for s in sources if wanted in (s.key.casefold(), s.display_name.casefold())), None
    )
