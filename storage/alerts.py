"""Messages to the operator's admin chat (a source failing or recovering, a channel failing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from .records import FAILED, PENDING, SENT, iso


@dataclass(frozen=True, slots=True)
class Alert:
    """One queued alert."""

    id: int
    chat_id: str
    subject: str
    kind: str
    text: str
    attempts: int


class Alerts:
    """The alerts table: queued by health checks, sent by the relay like posts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, *, chat_id: str, subject: str, kind: str, text: str, now: datetime) -> int:
        """Queue an alert (plain text) for the admin chat; return its id."""
        table = self.db["alerts"]
        table.insert({"chat_id": chat_id, "subject": subject, "kind": kind, "text": text,
                      "state": PENDING, "created_at": iso(now)})
        return int(table.last_pk)

    def due(self, now: datetime, *, limit: int = 20) -> list[Alert]:
        """Return pending alerts whose time has come, oldest first."""
        rows = self.db.query(
            "select * from alerts where state = ? and (next_attempt_at is null or next_attempt_at <= ?) "
            "order by id limit ?", [PENDING, iso(now), limit])
        return [Alert(r["id"], r["chat_id"], r["subject"] or "", r["kind"] or "", r["text"],
                      r["attempts"] or 0) for r in rows]

    def mark_sent(self, alert_id: int, *, now: datetime) -> None:
        """Record that Telegram accepted the alert."""
        self._update(alert_id, state=SENT, sent_at=iso(now), last_error=None)

    def mark_retry(self, alert_id: int, *, error: str, at: datetime) -> None:
        """Try the alert again at `at`."""
        self._update(alert_id, state=PENDING, last_error=error, next_attempt_at=iso(at))

    def mark_failed(self, alert_id: int, *, error: str) -> None:
        """Give up on an alert (the admin chat itself is unusable)."""
        self._update(alert_id, state=FAILED, last_error=error)

    def _update(self, alert_id: int, **fields) -> None:
        """Change one row and count the attempt."""
        with self.db.atomic():
            self.db["alerts"].update(alert_id, fields)
            self.db.execute("update alerts set attempts = attempts + 1 where id = ?", [alert_id])
