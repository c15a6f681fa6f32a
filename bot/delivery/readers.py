"""Readers' alerts kept true to the config at each start and reload.

An alert on a key the config moved between [topics] and [entities] becomes one of the new kind.
An alert on a topic, tag or source the config no longer has is kept, paused: it matches nothing
until the key comes back, and the reader may drop it. Only the service tells readers (README
"Chat commands"): once per paused alert, in their chat, and once more when it resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import groupby

from bot.config import Config
from bot.ingest.routing import alert_name, dormant_alerts, followed, stale_alerts
from storage import Store
from storage.subscriptions import Subscription, SubscriptionKind

log = logging.getLogger(__name__)

_TABLE = {"topic": "[topics]", "entity": "[entities]", "source": "[[sources]]"}
PAUSED, RESUMED = "alerts-paused", "alerts-resumed"  # the kinds of the rows that tell a reader
# (one alert, several) in each language; the chat's language is known only while it asks, so
# a notice says it in both.
_NOTICES = {
    PAUSED: {
        "en": (
            "Your alert on {names} is paused: I no longer follow it. It resumes by itself if I "
            "follow it again; /unsubscribe drops it (/mysubs shows how). What you can follow "
            "now: /topics and /sources.",
            "Your alerts on {names} are paused: I no longer follow them. They resume by "
            "themselves if I follow them again; /unsubscribe drops one (/mysubs shows how). What "
            "you can follow now: /topics and /sources.",
        ),
        "ru": (
            "Подписка приостановлена: {names} — я больше за этим не слежу. Она возобновится "
            "сама, если я снова начну за этим следить; отменить её — /unsubscribe (как — "
            "в /mysubs). Что можно выбрать сейчас: /topics и /sources.",
            "Подписки приостановлены: {names} — я больше за этим не слежу. Они возобновятся "
            "сами, если я снова начну за этим следить; отменить — /unsubscribe (как — "
            "в /mysubs). Что можно выбрать сейчас: /topics и /sources.",
        ),
    },
    RESUMED: {
        "en": (
            "Your alert on {names} is back on: I follow it again.",
            "Your alerts on {names} are back on: I follow them again.",
        ),
        "ru": (
            "Подписка снова действует: {names} — я снова за этим слежу.",
            "Подписки снова действуют: {names} — я снова за этим слежу.",
        ),
    },
}


def carry_over_alerts(store: Store, config: Config) -> list[Subscription]:
    """Carry readers' alerts on a key the config moved between [topics] and [entities] over to
    its new kind, and warn of those on a key it no longer has (kept, paused); return every alert
    as it now stands, for `tell_readers`."""
    # Read once per start or reload: the carry-over is applied to the list as the archive applies
    # it to the rows, so the warnings and `tell_readers` need no second read.
    taxonomy, subs = config.taxonomy, store.subscriptions.all()
    found = stale_alerts(subs, topics=taxonomy.topics, entities=taxonomy.entities)
    moves: dict[tuple[str, str], SubscriptionKind] = {}
    for (kind, key, new), readers in sorted(found.items(), key=lambda item: item[0][:2]):
        if new is None:
            continue  # in neither table: paused, warned of below
        store.subscriptions.change_kind(key, old=kind, new=new)
        moves[(kind, key)] = new
        log.warning("%d reader alert(s) on %r followed it in %s; the config now has it in %s: "
                    "carried over", readers, key, _TABLE[kind], _TABLE[new])  # fmt: skip
    subs = _carried(subs, moves)
    dormant = dormant_alerts(subs, **_kit(config))
    for (kind, key), group in groupby(sorted(dormant, key=lambda s: (s.kind, s.value)),
                                      lambda s: (s.kind, s.value)):  # fmt: skip
        log.warning("%d reader alert(s) on %r follow it in %s, which the config no longer "
                    "has: kept, paused until it comes back",
                    len(list(group)), key, _TABLE[kind])  # fmt: skip
    return subs


def _carried(
    subs: list[Subscription], moves: dict[tuple[str, str], SubscriptionKind]
) -> list[Subscription]:
    """Return the alerts as `Subscriptions.change_kind` leaves them for `moves`, (kind, key) ->
    new kind: each moved alert of that kind, but one whose reader follows the key so already."""
    held = {(s.user_id, s.kind, s.value) for s in subs}
    kept = []
    for sub in subs:
        new = moves.get((sub.kind, sub.value))
        if new is None:
            kept.append(sub)
        elif (sub.user_id, new, sub.value) not in held:
            kept.append(replace(sub, kind=new))
    return kept


def tell_readers(
    store: Store,
    config: Config,
    subs: list[Subscription],
    *,
    now: datetime,
    before: Config | None = None,
) -> tuple[int, int]:
    """Tell each reader once that their alerts on a key the config no longer has are paused, and
    that those told so before whose key came back resume; return (paused, resumed) alerts told.

    The service alone calls this (start and reload), with every alert as `carry_over_alerts`
    left it: the mark on each alert, set or cleared in the transaction that queues the notice,
    keeps a restart or a second worker from telling again. `before`, the config being replaced,
    names a paused alert by its label.
    """
    kit, named = _kit(config), _kit(before or config)
    paused = _tell(store, dormant_alerts(subs, **kit), PAUSED, now=now, kit=named)
    back = [s for s in store.subscriptions.marked_paused() if followed(s, **kit)]
    resumed = _tell(store, back, RESUMED, now=now, kit=kit)
    if paused or resumed:
        log.warning("readers told: %d alert(s) paused, %d resumed", paused, resumed)
    return paused, resumed


def _kit(config: Config) -> dict:
    """Return what names a config's alerts: its topics, sources and entities."""
    taxonomy = config.taxonomy
    return {"topics": taxonomy.topics, "sources": config.sources, "entities": taxonomy.entities}


def _tell(store: Store, subs: list[Subscription], kind: str, *, now: datetime, kit) -> int:
    """Mark (or unmark) each chat's alerts and queue its notice of those that changed, one
    transaction per chat; return how many alerts changed."""
    told = 0
    for _, group in groupby(sorted(subs, key=lambda s: (s.chat_id, s.id)), lambda s: s.chat_id):
        mine = list(group)
        # The write lock first: on SQLite the marks read their ids before they update them, and a
        # read then a write in a deferred transaction fails at once if another writer came between.
        with store.transaction(write=True):
            if kind == PAUSED:
                changed = store.subscriptions.mark_paused(mine, now=now)
            else:
                changed = store.subscriptions.unmark_paused(mine)
            if changed:
                store.alerts.enqueue(
                    chat_id=changed[0].chat_id,
                    subject=f"user:{changed[0].user_id}",
                    kind=kind,
                    text=notice(changed, kind, **kit),
                    now=now,
                )
        told += len(changed)
    return told


def notice(subs: Sequence[Subscription], kind: str, **kit) -> str:
    """Tell a reader, in plain text, that these alerts are paused (or resumed): in English, then
    in Russian."""
    parts = []
    for lang, (one, several) in _NOTICES[kind].items():
        names = ", ".join(alert_name(s, lang=lang, words=lang, **kit) for s in subs)
        parts.append((one if len(subs) == 1 else several).format(names=names))
    return "\n\n".join(parts)
