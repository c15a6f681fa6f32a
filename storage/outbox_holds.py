"""The outbox rows held for their time (a channel's digest, its quiet hours), read and brought
forward when the config that held them changed (bot/delivery/replan.py).

A row `Outbox.defer` held has `due_at` equal to `next_attempt_at`: defer writes both to the
hour it waits for. No other write makes them equal: a retry's backoff (`mark_retry`), an
uncertain row's (`mark_uncertain`) and a flood wait (`defer_chat`) move `next_attempt_at` on and
keep `due_at` at when the row first came due, which is past (rows from before m016: below). A
held row brought forward in a chat Telegram told to wait still waits with it: the relay's look
(`due`) skips the chat's rows until its `chat_holds` time, and they go together then, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .dialect import id_set
from .records import OutboxKind, OutboxState, iso, stored_moment
from .transaction import immediate

# The (state, next_attempt_at) index finds the rows held past `now`; due_at filters them. `defer`
# holds an uncertain row too (uncertain = "resend": it is sent again at its time).
_UNSENT = (OutboxState.PENDING, OutboxState.UNCERTAIN)
# A row held before due_at existed (m016) has none and no error; one its chat's flood wait held
# then (no chat_holds yet) shares the failed row's time, and keeps it (as storage/status.py).
_HELD_BY_DEFER = (
    "state in (?, ?) and next_attempt_at > ? and (due_at = next_attempt_at or due_at is null "
    "and last_error is null and not exists (select 1 from outbox f where f.chat_id = "
    "outbox.chat_id and f.state = outbox.state and f.last_error is not null "
    "and f.next_attempt_at = outbox.next_attempt_at))"
)


@dataclass(frozen=True, slots=True)
class HeldRow:
    """A pending (or uncertain) row held for its channel's digest or quiet hours, and until when."""

    id: int
    channel: str
    kind: OutboxKind
    created_at: datetime
    until: datetime


class OutboxHolds:
    """Read the rows `defer` holds and bring them forward (mixed into Outbox)."""

    db: object

    def held_by_defer(self, *, now: datetime) -> list[HeldRow]:
        """Return the unsent rows held for their time past `now`, oldest first."""
        rows = self.db.query(
            f"select id, channel, kind, created_at, next_attempt_at from outbox "
            f"where {_HELD_BY_DEFER} order by id",
            [*_UNSENT, iso(now)],
        )
        return [
            HeldRow(
                r["id"],
                r["channel"],
                OutboxKind(r["kind"]),
                stored_moment(r["created_at"]),
                stored_moment(r["next_attempt_at"]),
            )
            for r in rows
        ]

    def bring_forward(self, ids: Iterable[int], *, until: datetime, now: datetime) -> int:
        """Hold rows only until `until`, those still held by defer for later; return how many."""
        among, ids_arg = id_set(self.db, ids)
        at = iso(until)
        with immediate(self.db):
            # Only still held, and only earlier: a row the relay took or a flood wait moved
            # meanwhile is left as it is.
            cursor = self.db.execute(
                f"update outbox set next_attempt_at = ?, due_at = ?, updated_at = ? "
                f"where id in {among} and {_HELD_BY_DEFER} and next_attempt_at > ?",
                [at, at, iso(now), ids_arg, *_UNSENT, iso(now), at],
            )
        return cursor.rowcount
