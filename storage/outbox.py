"""The Telegram outbox: one row per article and channel, moved through its states durably.

    pending ─► sending ─► sent
       ▲          ├─► pending (retry later: flood wait, or the request provably never left)
       │          ├─► uncertain (may have been delivered: read timeout, 5xx, crash mid-send)
       │          └─► failed (permanent: bot kicked, chat not found, no rights)
       └── chat migrated: rows follow the new chat id
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from scrapers.models import Article

from .records import FAILED, PENDING, SENDING, SENT, UNCERTAIN, OutboxItem, from_iso, iso


class Outbox:
    """Reads and state changes of outbox rows; every change commits at once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- outbox -----------------------------------------------------------------------------

    def due(self, now: datetime, *, limit: int = 100) -> list[OutboxItem]:
        """Return pending deliveries whose time has come, oldest first."""
        rows = self.db.query(
            """select o.*, a.source_key, a.url, a.canonical_url, a.title, a.published_at,
                      a.author, a.lang, a.lead, a.body, a.summary
               from outbox o join articles a on a.id = o.article_id
               where o.state = ? and (o.next_attempt_at is null or o.next_attempt_at <= ?)
               order by o.id limit ?""",
            [PENDING, iso(now), limit])
        return [_outbox_from_row(r) for r in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """Return the number of outbox rows per (channel, state)."""
        return {(r["channel"], r["state"]): r["n"] for r in self.db.query(
            "select channel, state, count(*) as n from outbox group by channel, state")}

    def mark_sending(self, item_id: int, *, now: datetime) -> None:
        """Record that a Telegram call for this row is about to start."""
        self._set_state(item_id, SENDING, now=now, bump_attempts=True)

    def mark_sent(self, item_id: int, *, message_id: int | None, now: datetime) -> None:
        """Record that Telegram accepted the message."""
        self._set_state(item_id, SENT, now=now, message_id=message_id, sent_at=iso(now),
                        last_error=None)

    def mark_retry(self, item_id: int, *, error: str, at: datetime, now: datetime) -> None:
        """Put a row back to pending, to be tried again at `at`."""
        self._set_state(item_id, PENDING, now=now, last_error=error, next_attempt_at=iso(at))

    def mark_failed(self, item_id: int, *, error: str, now: datetime) -> None:
        """Record a permanent failure."""
        self._set_state(item_id, FAILED, now=now, last_error=error)

    def mark_uncertain(self, item_id: int, *, error: str, now: datetime) -> None:
        """Record that the message may or may not have been delivered."""
        self._set_state(item_id, UNCERTAIN, now=now, last_error=error)

    def move_chat(self, old_chat_id: str, new_chat_id: str, *, now: datetime) -> int:
        """Point unsent rows of a migrated chat at its new id; return how many moved."""
        with self.db.atomic():
            cursor = self.db.execute(
                "update outbox set chat_id = ?, state = ?, updated_at = ? "
                "where chat_id = ? and state in (?, ?)",
                [new_chat_id, PENDING, iso(now), old_chat_id, PENDING, SENDING])
        return cursor.rowcount

    def recover_interrupted(self, *, now: datetime) -> int:
        """Mark rows left `sending` by a crash as uncertain; return how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "update outbox set state = ?, last_error = ?, updated_at = ? where state = ?",
                [UNCERTAIN, "interrupted while sending (process stopped)", iso(now), SENDING])
        return cursor.rowcount

    def _set_state(self, item_id: int, state: str, *, now: datetime, bump_attempts: bool = False,
                   **fields) -> None:
        """Update one outbox row and commit at once."""
        with self.db.atomic():
            self.db["outbox"].update(item_id, {"state": state, "updated_at": iso(now), **fields})
            if bump_attempts:
                self.db.execute("update outbox set attempts = attempts + 1 where id = ?", [item_id])



def article_from_row(row: dict) -> Article:
    """Rebuild an Article from its stored columns."""
    return Article(
        url=row["url"], canonical_url=row["canonical_url"], title=row["title"],
        published=from_iso(row["published_at"]), author=row["author"] or "",
        lang=row["lang"] or "", lead=row["lead"] or "", body=row["body"] or "",
        summary=row["summary"] or "",
    )


def _outbox_from_row(row: dict) -> OutboxItem:
    """Build an OutboxItem from a joined outbox/articles row."""
    return OutboxItem(
        id=row["id"], article_id=row["article_id"], source_key=row["source_key"],
        channel=row["channel"], chat_id=row["chat_id"], state=row["state"],
        attempts=row["attempts"] or 0, article=article_from_row(row),
        message_id=row["message_id"], last_error=row["last_error"],
    )
