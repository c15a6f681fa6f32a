"""The SQLite archive: source state, runs, articles and the Telegram outbox.

    StorageError             the database cannot be opened or used
    └── AlreadyRunning       another presswatch process holds the database's lock
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from scrapers.models import Article
from scrapers.normalize import url_key

from .migrations import migrations
from .alerts import Alerts
from .outbox import Outbox, article_from_row
from .subscriptions import Subscriptions
from .records import PENDING, Delivery, RunRecord, SourceState, from_iso, iso


class StorageError(Exception):
    """The database cannot be opened or used."""


class AlreadyRunning(StorageError):
    """Another presswatch process holds the database's lock."""


class Store:
    """All reads and writes of the archive, through one connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.outbox = Outbox(db)
        self.alerts = Alerts(db)
        self.subscriptions = Subscriptions(db)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating if needed) the database at `path`, in WAL mode, fully migrated."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=10)
            db = Database(conn)
            db.enable_wal()
            # FULL: a lost "sent" mark after a power cut would mean a duplicate post.
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(db)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StorageError(f"{path}: cannot open the archive ({exc})") from exc
        return cls(db)

    @classmethod
    def in_memory(cls) -> Store:
        """Return a migrated throwaway archive in memory (dry runs, tests)."""
        db = Database(memory=True)
        migrations.apply(db)
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- sources and runs -------------------------------------------------------------------

    def source_state(self, key: str) -> SourceState:
        """Return what is remembered about a source (defaults for a new one)."""
        row = next(self.db.query("select * from sources where key = ?", [key]), None)
        if row is None:
            return SourceState(key=key)
        return SourceState(
            key=key, etag=row["etag"], last_modified=row["last_modified"],
            baseline_at=from_iso(row["baseline_at"]), last_poll_at=from_iso(row["last_poll_at"]),
            last_success_at=from_iso(row["last_success_at"]), last_error=row["last_error"],
            consecutive_failures=row["consecutive_failures"] or 0,
            next_poll_at=from_iso(row["next_poll_at"]),
        )

    def record_run(
        self, run: RunRecord, *, etag: str | None = None, last_modified: str | None = None,
        baseline: bool = False, next_poll_at: datetime | None = None,
    ) -> None:
        """Store one poll and update the source's state in one transaction."""
        with self.db.atomic():
            self.db["runs"].insert({
                "source_key": run.source_key, "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at), "status": run.status,
                "links_found": run.links_found, "new_articles": run.new_articles,
                "error": run.error,
            })
            state = self.source_state(run.source_key)
            update: dict = {"key": run.source_key, "last_poll_at": iso(run.finished_at),
                            "next_poll_at": iso(next_poll_at)}
            if run.status == "error":
                update |= {"last_error": run.error, "last_error_at": iso(run.finished_at),
                           "consecutive_failures": state.consecutive_failures + 1}
            else:
                update |= {"last_success_at": iso(run.finished_at), "consecutive_failures": 0}
                validators = {"etag": etag, "last_modified": last_modified}
                # A 304 may omit the validators; keep the ones we had.
                update |= validators if run.status == "ok" else {
                    k: v for k, v in validators.items() if v is not None}
                if baseline and state.baseline_at is None:
                    update["baseline_at"] = iso(run.finished_at)
            self.db["sources"].upsert(update, pk="key")

    def recent_runs(self, key: str, *, limit: int = 10) -> list[dict]:
        """Return the latest runs of a source, newest first."""
        return list(self.db.query(
            "select * from runs where source_key = ? order by id desc limit ?", [key, limit]))

    def source_overview(self) -> list[dict]:
        """Return each known source's state with its article count."""
        return list(self.db.query(
            """select s.*, (select count(*) from articles a where a.source_key = s.key) as articles
               from sources s order by s.key"""))

    def article_counts(self) -> dict[str, int]:
        """Return the number of stored articles per source key."""
        return {r["source_key"]: r["n"] for r in self.db.query(
            "select source_key, count(*) as n from articles group by source_key")}

    # -- articles ---------------------------------------------------------------------------

    def known_url_keys(self, urls: Iterable[str]) -> set[str]:
        """Return the URL identities among `urls` that are already archived."""
        keys = {url_key(u) for u in urls}
        found: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r["url_key"] for r in self.db.query(
                f"select url_key from articles where url_key in ({marks})", chunk)}
        return found

    def article_with_hash(self, content_hash: str) -> int | None:
        """Return the id of the first original article with this content hash, if any."""
        row = next(self.db.query(
            "select id from articles where content_hash = ? and duplicate_of is null "
            "order by id limit 1", [content_hash]), None)
        return row["id"] if row else None

    def add_article(
        self, article: Article, *, source_key: str, now: datetime,
        deliveries: Sequence[Delivery] = (), duplicate_of: int | None = None, silent: bool = False,
    ) -> int:
        """Store an article and queue it for each delivery, all in one transaction."""
        with self.db.atomic():
            table = self.db["articles"]
            table.insert({
                "source_key": source_key, "url": article.url,
                "canonical_url": article.canonical_url, "url_key": url_key(article.canonical_url),
                "title": article.title, "published_at": iso(article.published),
                "author": article.author, "lang": article.lang, "lead": article.lead,
                "body": article.body, "summary": article.summary,
                "content_hash": article.content_hash, "discovered_at": iso(now),
                "duplicate_of": duplicate_of, "silent": int(silent),
            })
            article_id = table.last_pk
            self.db["outbox"].insert_all(
                {"article_id": article_id, "channel": d.channel, "chat_id": d.chat_id,
                 "state": PENDING, "created_at": iso(now), "updated_at": iso(now)}
                for d in deliveries
            )
        return int(article_id)

    def story_sources(self, article_id: int) -> list[str]:
        """Return the source keys of an original article's reprints, in the order they were stored."""
        return [r["source_key"] for r in self.db.query(
            "select source_key from articles where duplicate_of = ? order by id", [article_id])]

    def article(self, article_id: int) -> tuple[str, Article]:
        """Return (source key, article) for a stored article id."""
        row = self.db["articles"].get(article_id)
        return row["source_key"], article_from_row(row)

class InstanceLock:
    """An OS-level lock beside the database so two processes never post from one archive."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning with the holder's process id."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another presswatch process (pid {holder}) is using {self.path.with_suffix('')};"
                " stop it first") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Release the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
