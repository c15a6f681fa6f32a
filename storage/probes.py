"""What settling uncertain posts by asking Telegram needs to remember.

Per chat the highest message id Telegram confirmed to us (`chat_marks`); per outbox row what a
probe looks for and how its doubt was settled; and every copy forwarded into the probe chat,
from just before the call until Telegram confirms it deleted (`probe_copies`), so a copy is
deleted even when the probe stops halfway or the process is killed.

    uncertain (settlement null) ─► sent       found in the chat (settlement "found")
                                ├─► pending    proved absent: send again ("absent"),
                                │              or undecided with probe_fallback "resend" ("resent")
                                └─► uncertain  undecided: held for the operator ("held")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from .dialect import is_postgres
from .postgres import fragments
from .records import Expectation, OutboxState, Settlement, iso
from .transaction import immediate

# Private chats and basic groups number their messages from one counter per bot; channels and
# supergroups (ids below -10^12, or an @username) each have their own.
_SHARED_CHATS = (
    "(chat_id glob '[0-9]*' or (chat_id glob '-[0-9]*' and "
    "cast(chat_id as integer) > -1000000000000))"
)


@dataclass(frozen=True, slots=True)
class Copy:
    """A copy forwarded into the probe chat; `message_id` is None while the answer is unknown."""

    id: int
    chat_id: str
    message_id: int | None
    after_id: int | None
    source: str


class Probes:
    """Chat marks, probe expectations and settlements of outbox rows, and probe-chat copies."""

    def __init__(self, db: Database) -> None:
        self.db = db
        postgres = is_postgres(db)
        self._shared = fragments.SHARED_CHATS if postgres else _SHARED_CHATS
        self._higher = fragments.HIGHER_MARK if postgres else "max(last_id, excluded.last_id)"

    # -- what Telegram confirmed ------------------------------------------------------------

    def last_id(self, chat_id: str, *, shared: bool = False) -> int | None:
        """Return the highest message id confirmed in a chat (over all shared-counter chats)."""
        where = self._shared if shared else "chat_id = ?"
        row = next(
            self.db.query(
                f"select max(last_id) as last from chat_marks where {where}",
                [] if shared else [chat_id],
            )
        )
        return row["last"]

    def note(self, chat_id: str, message_id: int, *, now: datetime) -> None:
        """Remember a message id Telegram confirmed in a chat (the highest one is kept)."""
        self.db.execute(
            "insert into chat_marks (chat_id, last_id, updated_at) values (?, ?, ?) "
            f"on conflict (chat_id) do update set last_id = {self._higher}, "
            "updated_at = excluded.updated_at",
            [chat_id, message_id, iso(now)],
        )

    def note_rows(self, ids: Iterable[int], message_id: int, *, now: datetime) -> None:
        """Remember a message id confirmed for outbox rows, in their chat."""
        ids = list(ids)
        for row in self.db.query(
            f"select distinct chat_id from outbox where id in ({_marks(ids)})", ids
        ):
            self.note(row["chat_id"], message_id, now=now)

    def own_ids(self, chat_id: str, *, after: int | None, shared: bool = False) -> frozenset[int]:
        """Return the ids above `after` Telegram confirmed to us in a chat (or shared-counter chats)."""
        where = self._shared if shared else "chat_id = ?"
        rows = self.db.query(
            f"select message_id from outbox where {where} and state = ? and message_id > ?",
            [*([] if shared else [chat_id]), OutboxState.SENT, after or 0],
        )
        return frozenset(r["message_id"] for r in rows)

    # -- settling rows ----------------------------------------------------------------------

    def expect(self, ids: Iterable[int], expectation: Expectation, *, now: datetime) -> None:
        """Record what the next attempt will look like (a healed resend changed the text or form)."""
        self._update(
            ids,
            now=now,
            probe_after=expectation.after,
            probe_hash=expectation.digest,
            probe_links=json.dumps(list(expectation.links)),
            media=expectation.media,
        )

    def found(self, ids: Iterable[int], *, message_id: int, note: str, now: datetime) -> None:
        """Settle uncertain rows as sent: the probe found the message."""
        ids = list(ids)
        self._update(ids, now=now, only_uncertain=True, state=OutboxState.SENT,
                     message_id=message_id, sent_at=iso(now), next_attempt_at=None,
                     settlement=Settlement.FOUND, settle_note=note)  # fmt: skip
        self.note_rows(ids, message_id, now=now)

    def absent(self, ids: Iterable[int], *, note: str, now: datetime) -> None:
        """Settle uncertain rows as never delivered: they go back to pending, due at once."""
        self._update(ids, now=now, only_uncertain=True, state=OutboxState.PENDING,
                     next_attempt_at=None, settlement=Settlement.ABSENT, settle_note=note)  # fmt: skip

    def undecided(
        self, ids: Iterable[int], *, reason: str, resend_at: datetime | None, now: datetime
    ) -> None:
        """Settle rows the probe could not decide: held for the operator, or resent at `resend_at`."""
        if resend_at is None:
            self._update(ids, now=now, only_uncertain=True, next_attempt_at=None,
                         settlement=Settlement.HELD, settle_note=reason)  # fmt: skip
        else:
            self._update(ids, now=now, only_uncertain=True, state=OutboxState.PENDING,
                         next_attempt_at=iso(resend_at), settlement=Settlement.RESENT,
                         settle_note=reason)  # fmt: skip

    def later(self, ids: Iterable[int], *, at: datetime, error: str, now: datetime) -> None:
        """Probe again at `at` (the probe chat asked us to wait, or a call failed)."""
        ids = list(ids)
        with immediate(self.db):
            self.db.execute(
                f"update outbox set next_attempt_at = ?, settle_note = ?, updated_at = ?, "
                f"probe_tries = probe_tries + 1 where id in ({_marks(ids)}) and state = ?",
                [iso(at), error, iso(now), *ids, OutboxState.UNCERTAIN],
            )

    def repeat(self, ids: Iterable[int], *, error: str, at: datetime, now: datetime) -> None:
        """Send an uncertain edit again at `at`: editing twice to the same text is harmless."""
        self._update(ids, now=now, state=OutboxState.PENDING, last_error=error,
                     next_attempt_at=iso(at), settlement=Settlement.REPEATED,
                     settle_note="an edit is safe to make again")  # fmt: skip

    def settled(self, *, limit: int = 20) -> list[dict]:
        """Return the rows most recently settled, newest first (for operators)."""
        return list(
            self.db.query(
                "select o.id, o.channel, o.kind, o.state, o.message_id, o.settlement, "
                "o.settle_note, o.updated_at, a.title from outbox o "
                "join articles a on a.id = o.article_id "
                "where o.settlement is not null order by o.updated_at desc, o.id desc limit ?",
                [limit],
            )
        )

    # -- copies in the probe chat -----------------------------------------------------------

    def begin_copy(self, chat_id: str, *, after_id: int | None, source: str, now: datetime) -> int:
        """Record, before forwarding, that a copy may land in the probe chat; return its id."""
        table = self.db["probe_copies"]
        with immediate(self.db):
            table.insert(
                {
                    "chat_id": chat_id,
                    "message_id": None,
                    "after_id": after_id,
                    "source": source,
                    "created_at": iso(now),
                }  # fmt: skip
            )
        return int(table.last_pk)

    def copy_landed(self, copy_id: int, message_id: int, *, now: datetime) -> None:
        """Record the id Telegram gave a copy, and the probe chat's new highest id."""
        with immediate(self.db):
            self.db.execute(
                "update probe_copies set message_id = ? where id = ?", [message_id, copy_id]
            )
            chat = next(self.db.query("select chat_id from probe_copies where id = ?", [copy_id]))
            self.note(chat["chat_id"], message_id, now=now)

    def copy_gone(self, copy_id: int) -> None:
        """Forget a copy: deleted, or the forward surely made none."""
        with immediate(self.db):
            self.db.execute("delete from probe_copies where id = ?", [copy_id])

    def copies(self, chat_id: str) -> list[Copy]:
        """Return the copies in a probe chat not yet known to be deleted, oldest first."""
        rows = self.db.query(
            "select id, chat_id, message_id, after_id, source from probe_copies "
            "where chat_id = ? order by id",
            [chat_id],
        )
        return [Copy(**r) for r in rows]

    def _update(
        self, ids: Iterable[int], *, now: datetime, only_uncertain: bool = False, **fields
    ) -> None:
        """Update rows (only those still uncertain, if asked) and commit at once."""
        ids = list(ids)
        names = ", ".join(f"{name} = ?" for name in fields)
        guard = " and state = ?" if only_uncertain else ""
        with immediate(self.db):
            self.db.execute(
                f"update outbox set {names}, updated_at = ? where id in ({_marks(ids)}){guard}",
                [*fields.values(), iso(now), *ids, *([OutboxState.UNCERTAIN] * only_uncertain)],
            )


def _marks(values: Iterable[object]) -> str:
    """Return SQL placeholders for a list (an impossible NULL for an empty one)."""
    count = len(list(values))
    return ",".join("?" * count) if count else "null"
