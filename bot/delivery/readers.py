"""Readers' alerts kept true to the config at each start and reload.

An alert on a key the config moved between [topics] and [entities] becomes one of the new kind.
An alert on a topic, tag or source the config no longer has could never match again: it is
removed, and its reader told once, in their chat, which alerts ended and why (README "Chat").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from bot.config import Config
from bot.ingest.routing import alert_name, ended_alerts, stale_alerts
from bot.text.taxonomy import Topic
from scrapers.models import Source
from storage import Store
from storage.subscriptions import Subscription

log = logging.getLogger(__name__)

_TABLE = {"topic": "[topics]", "entity": "[entities]", "source": "[[sources]]"}
# (one alert, several) in each language; the chat's language is known only while it asks, so
# the notice says it in both.
_ENDED = {
    "en": (
        "Your alert on {names} has ended: I no longer follow it.",
        "Your alerts on {names} have ended: I no longer follow them.",
        "What you can follow now: /topics and /sources.",
    ),
    "ru": (
        "Подписка закончилась: {names} — я больше за этим не слежу.",
        "Подписки закончились: {names} — я больше за этим не слежу.",
        "Что можно выбрать сейчас: /topics и /sources.",
    ),
}


def carry_over_alerts(
    store: Store, config: Config, *, now: datetime, before: Config | None = None
) -> int:
    """Carry readers' alerts on a key the config moved between [topics] and [entities] over to
    its new kind, and end (telling each reader once) those on a key it no longer has; return how
    many were carried. `before`, the config being replaced, names what ended by its label."""
    taxonomy, carried = config.taxonomy, 0
    found = stale_alerts(
        store.subscriptions.all(), topics=taxonomy.topics, entities=taxonomy.entities
    )
    for (kind, key, new), readers in sorted(found.items(), key=lambda item: item[0][:2]):
        if new is None:
            continue  # in neither table: ended below
        carried += store.subscriptions.change_kind(key, old=kind, new=new)
        log.warning("%d reader alert(s) on %r followed it in %s; the config now has it in %s: "
                    "carried over", readers, key, _TABLE[kind], _TABLE[new])  # fmt: skip
    ended = ended_alerts(
        store.subscriptions.all(),
        topics=taxonomy.topics,
        sources=config.sources,
        entities=taxonomy.entities,
    )
    named = before or config
    kit = {"topics": named.taxonomy.topics, "sources": named.sources}
    for _, subs in groupby(sorted(ended, key=lambda s: (s.chat_id, s.id)), lambda s: s.chat_id):
        mine = list(subs)
        text = ended_text(mine, entities=named.taxonomy.entities, **kit)
        store.subscriptions.end(mine, text=text, alerts=store.alerts, now=now)
    for (kind, key), subs in groupby(sorted(ended, key=lambda s: (s.kind, s.value)),
                                     lambda s: (s.kind, s.value)):  # fmt: skip
        log.warning("%d reader alert(s) on %r followed it in %s, which the config no longer has: "
                    "ended, each reader told", len(list(subs)), key, _TABLE[kind])  # fmt: skip
    return carried


def ended_text(
    subs: Sequence[Subscription],
    *,
    topics: Sequence[Topic] = (),
    sources: Sequence[Source] = (),
    entities: Sequence[Topic] = (),
) -> str:
    """Tell a reader, in plain text, that these alerts ended: in English, then in Russian."""
    kit = {"topics": topics, "sources": sources, "entities": entities}
    parts = []
    for lang, (one, several, now) in _ENDED.items():
        names = ", ".join(alert_name(s, lang=lang, words=lang, **kit) for s in subs)
        parts.append(f"{(one if len(subs) == 1 else several).format(names=names)} {now}")
    return "\n\n".join(parts)
