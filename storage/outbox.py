"""The Telegram outbox: one row per article and channel (or per edit of, or reply to, its post),
moved through its states durably.

    pending ─► sending ─► sent
       ▲          ├─► pending    retry later: a flood wait, or the request provably never left
       │          ├─► uncertain  may have arrived: read timeout, 5xx, a crash mid-send
       │          │      ├─► pending   policy "resend", or the operator's `outbox retry`
       │          │      └─► …         policy "probe": settled by asking Telegram (probes.py)
       │          └─► failed     permanent: bot kicked, chat not found, no rights
       │                 └─► pending   the operator's `outbox retry`
       └─ any unsent row ─► dropped    the operator's `outbox drop`

Writes that read before they write use BEGIN IMMEDIATE, so a second process (the operator's CLI
while the service runs) waits for the write lock instead of failing with SQLITE_BUSY.
Row ids go in as one parameter however many there are (dialect.id_set): the relay's look
excludes every row it has queued, and `--all-failed` may name a whole chat's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlite_utils import Database

from .channels import ChannelHealth
from .dialect import id_set
from .outbox_holds import OutboxHolds
from .outbox_reads import OutboxReads
from .probes import Probes
from .records import (
    DUE_SINCE,
    DigestMark,
    Expectation,
    OutboxKind,
    OutboxState,
    Scrub,
    Settlement,
    article_from_row,
    iso,
    unchanged,
)
from .transaction import immediate

__all__ = ["CHAT_NOT_FOUND", "Outbox", "article_from_row"]  # store.py rebuilds articles too

# Telegram's reason for a chat id it knows no chat by (a typo): a post refused so reached no one,
# so a retry may send it to the chat the config names now; the alert's advice keys on it too.
CHAT_NOT_FOUND = "chat not found"


class _Conflict(Exception):
    """A claimed row changed state or chat under us (the operator acted); undo the claim."""


class Outbox(OutboxReads, OutboxHolds):
    """Reads (OutboxReads) and state changes of outbox rows (the held ones' in OutboxHolds);
    every change commits at once."""

    def __init__(self, db: Database, *, scrub: Scrub = unchanged) -> None:
        super().__init__(db)
        self.channels = ChannelHealth(db, scrub=scrub)
        self.probes = Probes(db)
        self._scrub = scrub

    # -- the relay's transitions ------------------------------------------------------------

    def claim(
        self,
        ids: Iterable[int],
        *,
        chat: str,
        now: datetime,
        expect: Expectation | None = None,
        media: str | None = None,
    ) -> bool:
        """Move rows to `sending` before a Telegram call; False (and no change) if any moved on.

        `chat` is the chat the caller read the rows for and sends to: a row the operator's retry
        pointed elsewhere meanwhile is a conflict, read again (with its new chat) at the next look.
        `expect` records what a probe would look for, should the call's outcome be lost; `media`
        what form the message takes ("photo" or "text").
        """
        ids = list(ids)
        probe = ", probe_after = ?, probe_hash = ?, probe_links = ?" if expect else ""
        probe_args = [expect.after, expect.digest, json.dumps(list(expect.links))] if expect else []
        if media:
            probe, probe_args = f"{probe}, media = ?", [*probe_args, media]
        among, ids_arg = id_set(self.db, ids)
        try:
            with immediate(self.db):
                cursor = self.db.execute(
                    f"update outbox set state = ?, attempts = attempts + 1, updated_at = ?{probe} "
                    f"where id in {among} and state in (?, ?) and chat_id = ?",
                    [
                        OutboxState.SENDING,
                        iso(now),
                        *probe_args,
                        ids_arg,
                        OutboxState.PENDING,
                        OutboxState.UNCERTAIN,
                        chat,
                    ],
                )
                if cursor.rowcount != len(ids):
                    raise _Conflict
        except _Conflict:
            return False
        return True

    def mark_sent(
        self,
        item_id: int | Iterable[int],
        *,
        message_id: int | None,
        now: datetime,
        media: str | None = None,
    ) -> None:
        """Record that Telegram accepted the message (one row, or every row of a digest), and in
        which form ("photo" or "text") when `media` is given."""
        ids = [item_id] if isinstance(item_id, int) else list(item_id)
        form = {"media": media} if media else {}
        with immediate(self.db):
            self._set(
                ids,
                now=now,
                state=OutboxState.SENT,
                message_id=message_id,
                sent_at=iso(now),
                last_error=None,
                next_attempt_at=None,
                **form,
            )
            if message_id is not None:
                self.probes.note_rows(ids, message_id, now=now)

    def mark_retry(
        self, item_id: int | Iterable[int], *, error: str, at: datetime, now: datetime
    ) -> None:
        """Put rows back to pending, to be tried again at `at`."""
        self._set(
            item_id, now=now, state=OutboxState.PENDING, last_error=error, next_attempt_at=iso(at)
        )

    def mark_failed(self, item_id: int | Iterable[int], *, error: str, now: datetime) -> None:
        """Record a permanent failure."""
        self._set(item_id, now=now, state=OutboxState.FAILED, last_error=error)

    def mark_uncertain(
        self,
        item_id: int | Iterable[int],
        *,
        error: str,
        now: datetime,
        retry_at: datetime | None = None,
    ) -> None:
        """Record that the message may or may not have been delivered (a new doubt, unsettled)."""
        self._set(
            item_id,
            now=now,
            state=OutboxState.UNCERTAIN,
            last_error=error,
            next_attempt_at=iso(retry_at),
            settlement=None,
            settle_note=None,
            probe_tries=0,
        )

    def mark_digest(self, part: DigestMark, *, now: datetime) -> None:
        """Record the part of a split digest its rows go out in: a retry sends that part again."""
        self._set(list(part.rows), now=now, digest_part=part.json())

    def defer(self, ids: Iterable[int], *, until: datetime, now: datetime) -> None:
        """Hold unsent rows until `until` (quiet hours, the next digest): they come due then."""
        at, (among, ids_arg) = iso(until), id_set(self.db, ids)
        with immediate(self.db):
            # Both to the same hour: that tells a held row from a retry's (outbox_holds.py).
            self.db.execute(
                f"update outbox set next_attempt_at = ?, due_at = ?, updated_at = ? "
                f"where id in {among} and state in (?, ?)",
                [at, at, iso(now), ids_arg, OutboxState.PENDING, OutboxState.UNCERTAIN],
            )

    def defer_chat(self, chat_id: str, *, until: datetime, now: datetime) -> int:
        """Hold the chat until `until` (a flood wait covers the whole chat): its pending rows,
        and those queued meanwhile, come due together then, oldest first."""
        with immediate(self.db):
            # Held chats are few at any time: those whose wait is over go, so the table stays so.
            self.db.execute("delete from chat_holds where held_until <= ?", [iso(now)])
            # The hold, not only the rows' times: a row queued during the wait would otherwise
            # be due at once and overtake the older ones (seen in the ux14 walkthrough).
            self.db.execute(
                "insert into chat_holds (chat_id, held_until) values (?, ?) "
                "on conflict (chat_id) do update set held_until = excluded.held_until",
                [chat_id, iso(until)],
            )
            cursor = self.db.execute(
                f"update outbox set next_attempt_at = ?, updated_at = ?, due_at = {DUE_SINCE} "
                "where chat_id = ? and state = ? "
                "and (next_attempt_at is null or next_attempt_at < ?)",
                [iso(until), iso(now), chat_id, OutboxState.PENDING, iso(until)],
            )
        return cursor.rowcount

    def fail_chat(self, chat_id: str, *, error: str, now: datetime) -> int:
        """Fail every pending row of a chat Telegram refuses for good; return how many."""
        with immediate(self.db):
            cursor = self.db.execute(
                "update outbox set state = ?, last_error = ?, updated_at = ?, "
                f"due_at = {DUE_SINCE} where chat_id = ? and state = ?",
                [OutboxState.FAILED, self._scrub(error), iso(now), chat_id, OutboxState.PENDING],
            )
        return cursor.rowcount

    def move_chat(self, old_chat_id: str, new_chat_id: str, *, now: datetime) -> int:
        """Point unsent rows of a migrated chat at its new id; return how many moved (the move
        itself is recorded by `channels.record_move`)."""
        with immediate(self.db):
            cursor = self.db.execute(
                "update outbox set chat_id = ?, updated_at = ?, "
                "state = case when state = ? then ? else state end "
                "where chat_id = ? and state in (?, ?, ?, ?)",
                [
                    new_chat_id,
                    iso(now),
                    OutboxState.SENDING,
                    OutboxState.PENDING,
                    old_chat_id,
                    OutboxState.PENDING,
                    OutboxState.SENDING,
                    OutboxState.UNCERTAIN,
                    OutboxState.FAILED,
                ],
            )
        return cursor.rowcount

    def recover_interrupted(
        self, *, now: datetime, before: datetime | None = None, chat: str | None = None
    ) -> int:
        """Mark rows left `sending` (by a crash, or last changed before `before`) as uncertain.

        With `chat`, only that chat's rows: a worker of many recovers the chat it holds the lock of.
        """
        stale = iso(before or now)
        one_chat, chat_args = (" and chat_id = ?", [chat]) if chat is not None else ("", [])
        with immediate(self.db):
            # An edit may safely be made twice: it goes back to pending rather than to the operator.
            self.db.execute(
                "update outbox set state = ?, updated_at = ?, settlement = ?, settle_note = ? "
                f"where state = ? and kind = ? and updated_at <= ?{one_chat}",
                [OutboxState.PENDING, iso(now), Settlement.REPEATED,
                 "an edit is safe to make again", OutboxState.SENDING, OutboxKind.EDIT, stale,
                 *chat_args],
            )  # fmt: skip
            cursor = self.db.execute(
                "update outbox set state = ?, last_error = ?, updated_at = ?, settlement = null, "
                f"settle_note = null, probe_tries = 0 where state = ? and updated_at <= ?{one_chat}",
                [
                    OutboxState.UNCERTAIN,
                    "interrupted while sending (process stopped)",
                    iso(now),
                    OutboxState.SENDING,
                    stale,
                    *chat_args,
                ],
            )
        return cursor.rowcount

    # -- the operator's actions -------------------------------------------------------------

    def retry(
        self, ids: Iterable[int], *, now: datetime, chats: Mapping[str, str] | None = None
    ) -> int:
        """Send failed or uncertain rows again; return how many were changed.

        `chats` maps each configured channel to its chat_id now. A post that failed because its
        chat was not found (a chat_id typo) goes there, not to the chat it failed in: the bot
        cannot reach that chat, so nothing of it can be read there, and the operator who fixed
        the typo retries to reach the right one. So does a post of the same channel queued and
        never tried (pending, no attempt, no digest part), as after the failure during quiet
        hours. Any other failed post stays: refused for rights or a kick, it may have gone out
        in an earlier attempt (an uncertain send the operator retried). So do a digest part's
        rows once one of its messages was sent (a part in one chat), uncertain posts (settled
        there by a probe or resent there), edits and replies. A sent row is never changed.
        """
        among, ids_arg = id_set(self.db, ids)
        with immediate(self.db):
            for channel, chat_id in sorted((chats or {}).items()):
                moved = self.db.execute(
                    f"update outbox set chat_id = ? where channel = ? and kind = ? "
                    f"and chat_id != ? and id in {among} and state = ? "
                    "and lower(coalesce(last_error, '')) like ? and (digest_part is null "
                    "or not exists (select 1 from outbox s where s.channel = outbox.channel "
                    "and s.digest_part = outbox.digest_part and s.state = ?))",
                    [chat_id, channel, OutboxKind.POST, chat_id, ids_arg, OutboxState.FAILED,
                     f"%{CHAT_NOT_FOUND}%", OutboxState.SENT],
                ).rowcount  # fmt: skip
                if moved:
                    self.db.execute(
                        "update outbox set chat_id = ? where channel = ? and kind = ? "
                        "and chat_id != ? and state = ? and attempts = 0 "
                        "and digest_part is null",
                        [chat_id, channel, OutboxKind.POST, chat_id, OutboxState.PENDING],
                    )
            cursor = self.db.execute(
                f"update outbox set state = ?, next_attempt_at = null, updated_at = ?, "
                f"last_error = 'retry requested by the operator; was: ' || coalesce(last_error, '') "
                f"where id in {among} and state in (?, ?)",
                [OutboxState.PENDING, iso(now), ids_arg, OutboxState.FAILED, OutboxState.UNCERTAIN],
            )
        return cursor.rowcount

    def drop(self, ids: Iterable[int], *, now: datetime) -> int:
        """Stop trying rows (they arrived after all, or are unwanted); return how many."""
        among, ids_arg = id_set(self.db, ids)
        with immediate(self.db):
            cursor = self.db.execute(
                f"update outbox set state = ?, updated_at = ?, next_attempt_at = null "
                f"where id in {among} and state in (?, ?, ?)",
                [
                    OutboxState.DROPPED,
                    iso(now),
                    ids_arg,
                    OutboxState.PENDING,
                    OutboxState.UNCERTAIN,
                    OutboxState.FAILED,
                ],
            )
        return cursor.rowcount

    def _set(self, item_id: int | Iterable[int], *, now: datetime, **fields) -> None:
        """Update rows and commit at once."""
        ids = [item_id] if isinstance(item_id, int) else list(item_id)
        kept = ""
        if fields.get("last_error"):  # a failure: when the row came due is kept (status reads it)
            fields["last_error"] = self._scrub(fields["last_error"])
            kept = f", due_at = {DUE_SINCE}"
        names = ", ".join(f"{name} = ?" for name in fields)
        among, ids_arg = id_set(self.db, ids)
        with immediate(self.db):
            self.db.execute(
                f"update outbox set {names}, updated_at = ?{kept} where id in {among}",
                [*fields.values(), iso(now), ids_arg],
            )
