"""Channel health: whether each chat takes posts, and since when it does not."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from .records import ChannelState, Scrub, iso, unchanged
from .transaction import immediate


class ChannelHealth:
    """The `channels` table: whether each chat takes posts, and since when it does not."""

    def __init__(self, db: Database, *, scrub: Scrub = unchanged) -> None:
        self.db = db
        self._scrub = scrub

    def failing(self, name: str, chat_id: str, *, reason: str, now: datetime) -> bool:
        """Mark a channel failing; return True if it was not failing before (alert once)."""
        with immediate(self.db):
            was = self._state(name)
            if was == ChannelState.FAILING:
                return False
            self._put(
                name,
                chat_id,
                state=ChannelState.FAILING,
                reason=self._scrub(reason),
                since=iso(now),
                now=now,
            )
        return True

    def ok(self, name: str, chat_id: str, *, now: datetime) -> bool:
        """Mark a channel working; return True if it was failing before (it recovered)."""
        if self._state(name) == ChannelState.OK:
            return False  # The common case: no write per post.
        with immediate(self.db):
            was = self._state(name)
            self._put(name, chat_id, state=ChannelState.OK, reason=None, since=iso(now), now=now)
        return was == ChannelState.FAILING

    def record_move(self, old_chat_id: str, new_chat_id: str, *, now: datetime) -> bool:
        """Record a chat's new id (a group became a supergroup); True the first time the move is
        recorded, by any process (the admin chat is told once)."""
        with immediate(self.db):
            self.db.execute(
                "update channels set chat_id = ?, updated_at = ? where chat_id = ?",
                [new_chat_id, iso(now), old_chat_id],
            )
            # Kept for good: Telegram never turns a supergroup back, so the old id takes no post.
            # One statement decides "first": two workers told at once cannot both insert.
            cursor = self.db.execute(
                "insert into chat_moves (old_chat_id, new_chat_id, moved_at) values (?, ?, ?) "
                "on conflict (old_chat_id) do nothing",
                [old_chat_id, new_chat_id, iso(now)],
            )
        return cursor.rowcount == 1

    def moves(self) -> dict[str, str]:
        """Return every chat Telegram said moved: old id -> new id."""
        return {
            r["old_chat_id"]: r["new_chat_id"]
            for r in self.db.query("select old_chat_id, new_chat_id from chat_moves")
        }

    def all(self) -> list[dict]:
        """Return every channel's recorded health."""
        return list(self.db.query("select * from channels order by name"))

    def _state(self, name: str) -> str | None:
        """Return a channel's recorded state, None if never recorded."""
        row = next(self.db.query("select state from channels where name = ?", [name]), None)
        return row["state"] if row else None

    def _put(
        self,
        name: str,
        chat_id: str,
        *,
        state: ChannelState,
        reason: str | None,
        since: str | None,
        now: datetime,
    ) -> None:
        """Write a channel's row."""
        self.db["channels"].upsert(
            {
                "name": name,
                "chat_id": chat_id,
                "state": state,
                "reason": reason,
                "since": since,
                "updated_at": iso(now),
            },
            pk="name",
        )
