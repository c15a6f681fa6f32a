"""Re-tagging the archive after a taxonomy change: batches of articles, and how far it got.

Each batch's new topics, entity tags and reasons are written with the progress mark in one
transaction, so a stopped retag continues after the last batch it finished. Only `articles.topics`,
`articles.entities` and `article_topics` change: the outbox is never touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from scrapers.models import Article

from .hits import Bound, date_range
from .outbox import article_from_row
from .reasons import TopicReason, with_listed_topics
from .records import iso
from .transaction import immediate

_COLUMNS = (
    "id, url, canonical_url, title, published_at, author, lang, lead, body, summary, topics, "
    "entities"
)


@dataclass(frozen=True, slots=True)
class RetagProgress:
    """How far a retag with one taxonomy over one span of the archive got."""

    fingerprint: str
    since: str
    last_id: int = 0
    total: int = 0
    done: int = 0
    finished_at: str | None = None


@dataclass(frozen=True, slots=True)
class Retagged:
    """One article's new tags and why."""

    article_id: int
    topics: tuple[str, ...]
    entities: tuple[str, ...]
    reasons: tuple[TopicReason, ...]


class Retagging:
    """The `retag_progress` table and the batches a retag reads and writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def progress(self, *, fingerprint: str, since: str) -> RetagProgress | None:
        """Return the progress of a retag with this taxonomy and span, None if none began."""
        row = next(
            self.db.query(
                "select * from retag_progress where fingerprint = ? and since = ?",
                [fingerprint, since],
            ),
            None,
        )
        if row is None:
            return None
        return RetagProgress(
            fingerprint,
            since,
            row["last_id"] or 0,
            row["total"] or 0,
            row["done"] or 0,
            row["finished_at"],
        )

    def begin(
        self, *, fingerprint: str, since: str, start: Bound | None, now: datetime
    ) -> RetagProgress:
        """Start a retag from the first article (forgetting any earlier one of this span): `since`
        names the span, `start` is its first moment (each source's local day, as search's)."""
        total = self.remaining(start=start, after=0)
        with immediate(self.db):
            self.db.execute("delete from retag_progress where since = ?", [since])
            self.db["retag_progress"].insert(
                {
                    "fingerprint": fingerprint,
                    "since": since,
                    "last_id": 0,
                    "total": total,
                    "done": 0,
                    "started_at": iso(now),
                    "updated_at": iso(now),
                }
            )
        return RetagProgress(fingerprint, since, 0, total, 0)

    def remaining(self, *, start: Bound | None, after: int) -> int:
        """Return how many articles published from `start` on come after article id `after`."""
        where, args = _span(start, after)
        return next(self.db.query(f"select count(*) as n from articles where {where}", args))["n"]

    def batch(self, *, start: Bound | None, after: int, limit: int) -> list[tuple[int, Article]]:
        """Return the next articles published from `start` on after id `after`, in id order."""
        where, args = _span(start, after)
        rows = self.db.query(
            f"select {_COLUMNS} from articles where {where} order by id limit ?", [*args, limit]
        )
        return [(row["id"], article_from_row(row)) for row in rows]

    def save(
        self, progress: RetagProgress, tags: Sequence[Retagged], *, now: datetime
    ) -> RetagProgress:
        """Write a batch's tags and move the progress mark past it, in one transaction."""
        if not tags:
            return progress
        last = max(t.article_id for t in tags)
        done = progress.done + len(tags)
        with immediate(self.db):
            for tag in tags:
                self._write(tag)
            self.db.execute(
                "update retag_progress set last_id = ?, done = ?, updated_at = ? "
                "where fingerprint = ? and since = ?",
                [last, done, iso(now), progress.fingerprint, progress.since],
            )
        return RetagProgress(progress.fingerprint, progress.since, last, progress.total, done)

    def finish(self, progress: RetagProgress, *, now: datetime) -> None:
        """Mark the retag finished."""
        with immediate(self.db):
            self.db.execute(
                "update retag_progress set finished_at = ?, updated_at = ? "
                "where fingerprint = ? and since = ?",
                [iso(now), iso(now), progress.fingerprint, progress.since],
            )

    def _write(self, tag: Retagged) -> None:
        """Replace one article's topics, entity tags and reasons."""
        self.db.execute(
            "update articles set topics = ?, entities = ? where id = ?",
            [
                json.dumps(list(tag.topics), ensure_ascii=False),
                json.dumps(list(tag.entities), ensure_ascii=False),
                tag.article_id,
            ],
        )
        self.db.execute("delete from article_topics where article_id = ?", [tag.article_id])
        self.db["article_topics"].insert_all(
            (
                {
                    "article_id": tag.article_id,
                    "key": r.key,
                    "kind": r.kind,
                    "score": round(r.score, 3),
                    "rules": json.dumps(list(r.rules), ensure_ascii=False),
                }
                for r in with_listed_topics(tag.reasons, tag.topics, tag.entities)
            ),
            replace=True,
        )


def _span(start: Bound | None, after: int) -> tuple[str, list]:
    """Return the where clause and arguments of the articles after `after` in the span."""
    dated, args = date_range("articles", since=start, until=None)
    return " and ".join(["id > ?", dated] if dated else ["id > ?"]), [after, *args]
