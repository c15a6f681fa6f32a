"""Personal alerts: a reader's subscriptions to a topic, an entity, a source or a phrase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from .dialect import id_set, is_postgres
from .records import iso


class SubscriptionKind(StrEnum):
    """What a reader follows: a topic, an entity (CSTO), a source, or a phrase in the text."""

    TOPIC = "topic"
    SOURCE = "source"
    PHRASE = "phrase"
    # A new kind needs no migration: `kind` is free text on both backends; an archive made before
    # it simply holds no such rows.
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class Subscription:
    """One reader's wish to hear of a topic, entity, source or phrase in their private chat."""

    id: int
    user_id: int
    chat_id: str
    kind: SubscriptionKind
    value: str


class Subscriptions:
    """The subscriptions table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, user_id: int, chat_id: str, kind: str, value: str, now: datetime) -> bool:
        """Subscribe; return False when the reader already had this subscription."""
        if kind not in tuple(SubscriptionKind):
            raise ValueError(f"unknown subscription kind {kind!r}")
        before = self.db["subscriptions"].count
        self.db["subscriptions"].insert(
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "kind": kind,
                "value": value,
                "created_at": iso(now),
            },
            ignore=True,
        )
        return self.db["subscriptions"].count > before

    def remove(self, *, user_id: int, kind: str, value: str) -> bool:
        """Unsubscribe; return False when there was no such subscription."""
        with self.db.atomic():
            cursor = self.db.execute(
                "delete from subscriptions where user_id = ? and kind = ? and value = ?",
                [user_id, kind, value],
            )
        return cursor.rowcount > 0

    def change_kind(self, value: str, *, old: str, new: str) -> int:
        """Make every alert of kind `old` on `value` one of kind `new`; return how many changed.

        A reader who already follows `value` as `new` keeps that alert alone.
        """
        with self.db.atomic():
            merged = self.db.execute(
                "delete from subscriptions where kind = ? and value = ? and user_id in "
                "(select user_id from subscriptions where kind = ? and value = ?)",
                [old, value, new, value],
            ).rowcount
            moved = self.db.execute(
                "update subscriptions set kind = ? where kind = ? and value = ?",
                [new, old, value],
            ).rowcount
        return merged + moved

    def mark_paused(self, subs: list[Subscription], *, now: datetime) -> list[Subscription]:
        """Mark these alerts as paused, their readers told; return those not so marked before."""
        return self._changed(subs, "told_paused_at = ?", "is null", [iso(now)])

    def unmark_paused(self, subs: list[Subscription]) -> list[Subscription]:
        """Clear the paused mark of these alerts; return those that had it."""
        return self._changed(subs, "told_paused_at = null", "is not null", [])

    def _changed(
        self, subs: list[Subscription], change: str, unless: str, params: list
    ) -> list[Subscription]:
        """Set `change` on the alerts among `subs` whose mark `unless` says so; return those."""
        among, ids = id_set(self.db, (sub.id for sub in subs))
        where = f"where id in {among} and told_paused_at {unless}"
        if is_postgres(self.db):
            # Of two workers marking the same alert, one wins: RETURNING names the rows it changed.
            rows = self.db.execute(
                f"update subscriptions set {change} {where} returning id", [*params, ids]
            ).fetchall()
        else:
            # Called in the chat's write transaction (BEGIN IMMEDIATE: nothing writes between the
            # read and the update), so reading the ids first is as good and needs no RETURNING,
            # which SQLite gained only in 3.35.
            rows = self.db.execute(f"select id from subscriptions {where}", [ids]).fetchall()
            self.db.execute(f"update subscriptions set {change} {where}", [*params, ids])
        changed = {row[0] for row in rows}
        return [sub for sub in subs if sub.id in changed]

    def marked_paused(self) -> list[Subscription]:
        """Return the alerts marked paused (their readers told), oldest first."""
        return self._select("where told_paused_at is not null order by id", [])

    def remove_all(self, *, user_id: int) -> int:
        """Remove every subscription of one reader; return how many there were."""
        with self.db.atomic():
            cursor = self.db.execute("delete from subscriptions where user_id = ?", [user_id])
        return cursor.rowcount

    def of_user(self, user_id: int) -> list[Subscription]:
        """Return one reader's subscriptions."""
        return self._select("where user_id = ? order by id", [user_id])

    def all(self) -> list[Subscription]:
        """Return every subscription (matched against each new article)."""
        return [subscription(row) for row in self.db.execute(ALL).fetchall()]

    def _select(self, clause: str, params: list) -> list[Subscription]:
        """Run a query over the table."""
        return [
            subscription(tuple(row))
            for row in self.db.execute(f"select {_COLUMNS} from subscriptions {clause}", params)
        ]


_COLUMNS = "id, user_id, chat_id, kind, value"
# Every subscription, oldest first (also asked beside a new article's questions: storage/urls.py).
ALL = f"select {_COLUMNS} from subscriptions order by id"


def subscription(row: tuple) -> Subscription:
    """Build a subscription from a row of its columns in `_COLUMNS`' order."""
    id_, user_id, chat_id, kind, value = row
    return Subscription(id_, user_id, chat_id, SubscriptionKind(kind), value)
