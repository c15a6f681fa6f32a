"""Source state between polls: validators, baseline, failures, backoff, pausing, and the runs table."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from .records import RunRecord, RunStatus, Scrub, SourceState, iso, source_from_row, unchanged
from .transaction import immediate


class Sources:
    """The `sources` and `runs` tables: what is remembered about each source, and every poll."""

    def __init__(self, db: Database, *, scrub: Scrub = unchanged) -> None:
        self.db = db
        self._scrub = scrub

    def state(self, key: str) -> SourceState:
        """Return what is remembered about a source (defaults for a new one)."""
        row = next(self.db.query("select * from sources where key = ?", [key]), None)
        return SourceState(key=key) if row is None else source_from_row(row)

    def record_run(
        self,
        run: RunRecord,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        baseline: bool = False,
        next_poll_at: datetime | None = None,
    ) -> None:
        """Store one poll and update the source's state in one transaction."""
        error = None if run.error is None else self._scrub(run.error)
        with self.db.atomic():
            self.db["runs"].insert(
                {
                    "source_key": run.source_key,
                    "started_at": iso(run.started_at),
                    "finished_at": iso(run.finished_at),
                    "status": run.status,
                    "links_found": run.links_found,
                    "new_articles": run.new_articles,
                    "error": error,
                }
            )
            state = self.state(run.source_key)
            update: dict = {
                "key": run.source_key,
                "last_poll_at": iso(run.finished_at),
                "next_poll_at": iso(next_poll_at),
            }
            if run.status == RunStatus.ERROR:
                update |= {
                    "last_error": error,
                    "last_error_at": iso(run.finished_at),
                    "consecutive_failures": state.consecutive_failures + 1,
                }
            else:
                update |= {"last_success_at": iso(run.finished_at), "consecutive_failures": 0}
                validators = {"etag": etag, "last_modified": last_modified}
                # A 304 may omit the validators; keep the ones we had.
                update |= (
                    validators
                    if run.status == RunStatus.OK
                    else {k: v for k, v in validators.items() if v is not None}
                )
                if baseline and state.baseline_at is None:
                    update["baseline_at"] = iso(run.finished_at)
            self.db["sources"].upsert(update, pk="key")

    def overview(self) -> list[dict]:
        """Return each known source's state with its article count."""
        return list(
            self.db.query(
                """select s.*, (select count(*) from articles a where a.source_key = s.key) as articles
               from sources s order by s.key"""
            )
        )

    def article_counts(self) -> dict[str, int]:
        """Return the number of stored articles per source key."""
        return {
            r["source_key"]: r["n"]
            for r in self.db.query(
                "select source_key, count(*) as n from articles group by source_key"
            )
        }

    def set_paused(self, key: str, *, paused: bool) -> None:
        """Stop polling a source until it is resumed, or poll it again."""
        with immediate(self.db):
            self.db.execute(
                "insert into sources (key, paused) values (?, ?) "
                "on conflict(key) do update set paused = excluded.paused",
                [key, int(paused)],
            )
