"""Alerts for the operator's admin chat (and a reader's, when their alerts pause or resume), and
the source health they report."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from .history import LAST_WORKED, last_worked_args
from .records import Health, OutboxState, RunStatus, Scrub, from_iso, iso, unchanged
from .tally import Tally


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

    def __init__(
        self, db: Database, *, scrub: Scrub = unchanged, tally: Tally | None = None
    ) -> None:
        self.db = db
        self._scrub = scrub
        self.tally = tally or Tally()

    def enqueue(self, *, chat_id: str, subject: str, kind: str, text: str, now: datetime) -> int:
        """Queue an alert (plain text) for a chat, the admin's or a reader's; return its id."""
        table = self.db["alerts"]
        table.insert(
            {
                "chat_id": chat_id,
                "subject": subject,
                "kind": kind,
                "text": self._scrub(text),
                "state": OutboxState.PENDING,
                "created_at": iso(now),
            }
        )
        self.tally.add()
        return int(table.last_pk)

    def due(self, now: datetime, *, limit: int = 20, chat: str | None = None) -> list[Alert]:
        """Return pending alerts whose time has come (to one `chat` if given), oldest first."""
        one_chat, chat_args = ("and chat_id = ? ", [chat]) if chat is not None else ("", [])
        rows = self.db.query(
            "select * from alerts where state = ? and (next_attempt_at is null or next_attempt_at <= ?) "
            f"{one_chat}order by id limit ?",
            [OutboxState.PENDING, iso(now), *chat_args, limit],
        )
        return [
            Alert(
                r["id"],
                r["chat_id"],
                r["subject"] or "",
                r["kind"] or "",
                r["text"],
                r["attempts"] or 0,
            )
            for r in rows
        ]

    def recent_sends(self, since: datetime) -> list[tuple[str, datetime]]:
        """Return (chat id, time) of the alerts Telegram accepted since `since`."""
        rows = self.db.query(
            "select chat_id, sent_at from alerts where state = ? and sent_at >= ?",
            [OutboxState.SENT, iso(since)],
        )
        return [(r["chat_id"], from_iso(r["sent_at"])) for r in rows]

    def mark_sent(self, alert_id: int, *, now: datetime) -> None:
        """Record that Telegram accepted the alert."""
        self._update(alert_id, state=OutboxState.SENT, sent_at=iso(now), last_error=None)

    def mark_retry(self, alert_id: int, *, error: str, at: datetime) -> None:
        """Try the alert again at `at`."""
        self._update(
            alert_id,
            state=OutboxState.PENDING,
            last_error=self._scrub(error),
            next_attempt_at=iso(at),
        )

    def mark_failed(self, alert_id: int, *, error: str) -> None:
        """Give up on an alert (the admin chat itself is unusable)."""
        self._update(alert_id, state=OutboxState.FAILED, last_error=self._scrub(error))

    def _update(self, alert_id: int, **fields) -> None:
        """Change one row and count the attempt."""
        with self.db.atomic():
            self.db["alerts"].update(alert_id, fields)
            self.db.execute("update alerts set attempts = attempts + 1 where id = ?", [alert_id])


@dataclass(frozen=True, slots=True)
class HealthState:
    """What source health is judged on, as the archive has it after the latest run."""

    key: str
    health: Health = Health.OK
    empty_polls: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None  # start of the current run of failed polls
    newest_at: datetime | None = None  # the later of last_new_at and the newest publication time


# When the source's current run of failed polls began (NULL if its last poll worked): the
# earliest start among the first failed runs after the last run that did not fail, index seeks
# however many runs the source kept (m027/p024). Ids follow the order polls finish in, and polls
# of one source can overlap (fleet workers on PostgreSQL): the streak's first start may be a
# later id, though only of the few polls under way as its first finished.
_OVERLAPPING = 8
_FAILING_SINCE = f"""select min(started_at) from (select started_at from runs
    where source_key = ? and status = ? and id > coalesce(({LAST_WORKED}), 0)
    order by id limit {_OVERLAPPING}) as streak"""


class SourceHealth:
    """Source health in the `sources` table, written together with the alert it causes."""

    def __init__(
        self, db: Database, *, scrub: Scrub = unchanged, tally: Tally | None = None
    ) -> None:
        self.db = db
        self.alerts = Alerts(db, scrub=scrub, tally=tally)

    def read(self, key: str) -> HealthState:
        """Return a source's health facts (defaults for a source never polled), in one query."""
        row = next(
            self.db.query(
                "select health, empty_polls, consecutive_failures, last_error, last_new_at, "
                "(select max(published_at) from articles where source_key = s.key) as newest, "
                f"({_FAILING_SINCE}) as failing_since from sources s where s.key = ?",
                [key, RunStatus.ERROR, *last_worked_args(key), key],
            ),
            None,
        )
        if row is None:
            return HealthState(key=key)
        newest = row["newest"]
        return HealthState(
            key=key,
            health=Health(row["health"] or Health.OK),
            empty_polls=row["empty_polls"] or 0,
            consecutive_failures=row["consecutive_failures"] or 0,
            last_error=row["last_error"],
            failing_since=from_iso(row["failing_since"]),
            newest_at=from_iso(max(filter(None, (newest, row["last_new_at"])), default=None)),
        )

    def save(
        self,
        key: str,
        *,
        health: Health,
        empty_polls: int,
        new_at: datetime | None = None,
        alert: tuple[str, str, str] | None = None,
        now: datetime,
    ) -> None:
        """Store health (and when articles last arrived) and queue (chat, kind, text) in one transaction."""
        # One statement alone commits by itself: a transaction only around the alert it causes.
        with self.db.atomic() if alert is not None else nullcontext():
            fields = {"health": health, "empty_polls": empty_polls}
            if new_at is not None:
                fields["last_new_at"] = iso(new_at)
            self.db["sources"].upsert({"key": key, **fields}, pk="key")
            if alert is not None:
                chat_id, kind, text = alert
                self.alerts.enqueue(chat_id=chat_id, subject=key, kind=kind, text=text, now=now)
