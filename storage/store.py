"""The SQLite archive: one connection, and the tables' keepers (sources, outbox, alerts…) around it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from scrapers.models import Article
from scrapers.normalize import url_key

from . import claim, readonly
from .alerts import Alerts, SourceHealth
from .article_lookups import article_with_hash, known_url_keys, recheck_candidates
from .lock import StorageError
from .migrations import migrations
from .neardup import DedupConfig, NearDuplicateIndex
from .outbox import Outbox, article_from_row
from .posts import Posts
from .reasons import TopicReason, save_reasons, with_listed_topics
from .records import Delivery, Scrub, article_columns, iso, unchanged
from .reports import Reports
from .sitewide import Sitewide
from .sources import Sources
from .subscriptions import Subscriptions
from .tally import Tally
from .transaction import immediate, inserted_key, joined
from .upgrade import upgrade
from .urls import Arrival, Lead, UrlFacts, arrival, url_facts
from .walsync import WalSync, journal_mode

if TYPE_CHECKING:
    from datasketch import MinHash


class Store:
    """All reads and writes of the archive, through one connection."""

    def __init__(
        self, db: Database, *, dedup: DedupConfig | None = None, scrub: Scrub = unchanged
    ) -> None:
        self.db = db
        self.dedup = dedup or DedupConfig()
        # Every error text and alert is scrubbed on its way in (the bot token never lands here).
        self.sources = Sources(db, scrub=scrub)
        self.reports = Reports(db)
        self.outbox = Outbox(db, scrub=scrub)
        self.tally = Tally()  # the posts and alerts queued through this store (see tally.py)
        self.posts = Posts(db, tally=self.tally)
        self.alerts = Alerts(db, scrub=scrub, tally=self.tally)
        self.subscriptions = Subscriptions(db)
        self.sitewide = Sitewide(db)  # a source's default image, its slogan
        self.health = SourceHealth(db, scrub=scrub, tally=self.tally)
        self._neardup: NearDuplicateIndex | None = None
        # Set when commits skip their own fsync (Store.open's `sync_in_thread`): see durable().
        self.wal: WalSync | None = None

    async def durable(self) -> None:
        """Return once every commit made so far is on disk; await it before acting outside."""
        # Where each COMMIT syncs itself (FULL, PostgreSQL, read-only), that is already so.
        if self.wal is not None:
            await self.wal.durable()

    def near_duplicates(self, *, now: datetime) -> NearDuplicateIndex:
        """Return the near-duplicate index, loading the window ending `now` on first use."""
        if self._neardup is None:
            self._neardup = NearDuplicateIndex(self.db, self.dedup)
            self._neardup.load(now=now)
        return self._neardup

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        dedup: DedupConfig | None = None,
        scrub: Scrub = unchanged,
        sync_in_thread: bool = False,
    ) -> Store:
        """Open (creating if needed) the database at `path`, in WAL mode, fully migrated;
        `sync_in_thread`: a COMMIT does not wait for the disk, await `durable()` before acting."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=10)
            db = Database(conn)
            db.enable_wal()
            # FULL: a lost "sent" mark after a power cut would mean a duplicate post.
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            upgrade(db, where=str(path))
            wal = sync_in_thread and journal_mode(db) == "wal"
            if wal:
                # NORMAL with WAL: SQLite still syncs at checkpoints; WalSync syncs each commit.
                db.execute("PRAGMA synchronous=NORMAL")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StorageError(f"{path}: cannot open the archive ({exc})") from exc
        store = cls(db, dedup=dedup, scrub=scrub)
        if wal:
            # The WAL sits beside the file SQLite opened (a symbolic link resolved), so ask it.
            store.wal = WalSync(conn, Path(db.execute("PRAGMA database_list").fetchone()[2]))
        return store

    @classmethod
    def open_read_only(cls, path: str | Path, *, dedup: DedupConfig | None = None) -> Store:
        """Open an existing archive so that nothing can be written (dry runs while the service runs)."""
        try:
            conn = readonly.connect(path, timeout=10, check="select 1 from articles limit 1")
        except (sqlite3.Error, StorageError) as exc:  # StorageError: the folder, said in full
            raise StorageError(f"{path}: cannot read the archive ({exc})") from exc
        return cls(Database(conn, execute_plugins=False), dedup=dedup)

    @classmethod
    def in_memory(cls, *, dedup: DedupConfig | None = None, scrub: Scrub = unchanged) -> Store:
        """Return a migrated throwaway archive in memory (dry runs, tests)."""
        db = Database(memory=True)
        migrations.apply(db)
        return cls(db, dedup=dedup, scrub=scrub)

    def close(self) -> None:
        """Close the connection, every commit on disk first."""
        try:
            if self.wal is not None:
                self.wal.close()
        finally:
            self.db.close()

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[None]:
        """Make the writes inside one transaction: all or none (`write`: SQLite's lock taken first)."""
        with immediate(self.db) if write else self.db.atomic():
            yield

    def storing(self, content_hash: str | None, minhash: MinHash | None, *, now: datetime):
        """Return the transaction a new article is stored in (storage/claim.py)."""
        return claim.storing(self.db, self.near_duplicates, content_hash, minhash, now=now)

    # -- articles ---------------------------------------------------------------------------

    def known_url_keys(self, urls: Iterable[str]) -> set[str]:
        """Return the URL identities among `urls` that are already archived."""
        return known_url_keys(self.db, urls)

    def article_with_hash(self, content_hash: str) -> int | None:
        """Return the id of the first original article with this content hash, if any."""
        return article_with_hash(self.db, content_hash)

    def arrival(
        self, url: str, content_hash: str | None, *, subscriptions=False, lead: Lead | None = None
    ) -> Arrival:
        """Return what `storage.urls.arrival` says of a new article, in one round trip."""
        return arrival(self.db, url, content_hash, subscriptions=subscriptions, lead=lead)

    def add_article(
        self,
        article: Article,
        *,
        source_key: str,
        now: datetime,
        deliveries: Sequence[Delivery] = (),
        duplicate_of: int | None = None,
        silent: bool = False,
        reasons: Sequence[TopicReason] = (),
        minhash: MinHash | None = None,
        similarity: float | None = None,
        aliases: Iterable[str] = (),
        also: Callable[[], object] | None = None,
    ) -> int:
        """Store an article, why it got its topics, its signature and its deliveries (and `also`'s
        writes: a poll's run) in one transaction."""
        with joined(self.db):
            table = self.db["articles"]
            table.insert(
                {
                    **article_columns(article),
                    "source_key": source_key,
                    "url": article.url,
                    "canonical_url": article.canonical_url,
                    "url_key": url_key(article.canonical_url),
                    "published_at": iso(article.published),
                    "discovered_at": iso(now),
                    "checked_at": iso(now),
                    "duplicate_of": duplicate_of,
                    "silent": int(silent),
                    "similarity": similarity,
                }
            )
            article_id = inserted_key(table)  # PostgreSQL: the id is read once, at the end
            save_reasons(
                self.db, article_id, with_listed_topics(reasons, article.topics, article.entities)
            )
            own = url_key(article.canonical_url)
            self.db["article_urls"].insert_all(
                (
                    {"url_key": key, "article_id": article_id}
                    for key in {url_key(u) for u in aliases}
                    if key != own
                ),
                ignore=True,
            )
            if minhash is not None and self._neardup is not None:
                self._neardup.save(article_id, minhash, source_key=source_key, now=now)
            self.posts.enqueue(article_id, deliveries, now=now)
            if also is not None:
                also()  # on PostgreSQL in the same round trip, on SQLite the same commit
        article_id = int(table.last_pk)
        if minhash is not None and self._neardup is not None:
            # Indexed once its transaction is over: a rolled-back SQLite id could later name
            # another article (inside storage/claim.py's transaction, once that commits).
            self._neardup.index(article_id, minhash, now=now)
        return article_id

    def update_article(
        self,
        article_id: int,
        article: Article,
        *,
        now: datetime,
        reasons: Sequence[TopicReason] = (),
    ) -> int:
        """Keep the stored text as a version and store the new one; return the new version number."""
        with self.db.atomic():
            old = self.db["articles"].get(article_id)
            version = old["version"] or 1
            self.db["article_versions"].insert(
                {
                    "article_id": article_id,
                    "version": version,
                    "title": old["title"],
                    "lead": old["lead"],
                    "body": old["body"],
                    "content_hash": old["content_hash"],
                    "seen_at": old["updated_at"] or old["discovered_at"],
                }
            )
            self.db["articles"].update(
                article_id,
                {
                    **article_columns(article),
                    "version": version + 1,
                    "updated_at": iso(now),
                    "checked_at": iso(now),
                },
            )
            self.db.execute("delete from article_topics where article_id = ?", [article_id])
            save_reasons(
                self.db, article_id, with_listed_topics(reasons, article.topics, article.entities)
            )
        return version + 1

    def recheck_candidates(
        self,
        source_key: str,
        urls: Iterable[str],
        *,
        discovered_since: datetime,
        checked_before: datetime,
        limit: int,
    ) -> list[tuple[int, str, str]]:
        """Return (id, url key, content hash) of recent articles among `urls` due for a re-read."""
        return recheck_candidates(
            self.db,
            source_key,
            urls,
            discovered_since=discovered_since,
            checked_before=checked_before,
            limit=limit,
        )

    def url_facts(
        self,
        source_key: str,
        urls: Iterable[str],
        *,
        discovered_since: datetime,
        checked_before: datetime,
    ) -> UrlFacts:
        """Return which of `urls` are archived and which are due for a re-read, in one query."""
        return url_facts(
            self.db,
            source_key,
            urls,
            discovered_since=discovered_since,
            checked_before=checked_before,
        )

    def mark_checked(self, article_id: int, *, now: datetime) -> None:
        """Record that an article was re-read (found unchanged, or its page failed to answer)."""
        with self.db.atomic():
            self.db["articles"].update(article_id, {"checked_at": iso(now)})

    def is_silent(self, article_id: int) -> bool:
        """Return True for an article recorded without posting (a first run's old news)."""
        return bool(self.db["articles"].get(article_id)["silent"])

    def root_of(self, article_id: int) -> int:
        """Return the original article of a story (an article that is nobody's reprint)."""
        row = self.db["articles"].get(article_id)
        return row["duplicate_of"] or article_id

    def texts(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return title, lead and body of articles, for exact near-duplicate confirmation."""
        ids = list(article_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {
            r["id"]: f"{r['title']}\n{r['lead'] or ''}\n{r['body'] or ''}"
            for r in self.db.query(
                f"select id, title, lead, body from articles where id in ({marks})", ids
            )
        }

    def story_sources(self, article_id: int) -> list[str]:
        """Return the source keys of the story an article tells, original first, then reprints."""
        root = "(select coalesce(duplicate_of, id) from articles where id = ?)"  # its original
        return [
            r["source_key"]
            for r in self.db.query(
                f"select source_key, id from articles where id = {root} union all "
                f"select source_key, id from articles where duplicate_of = {root} order by id",
                [article_id, article_id],
            )
        ]

    def article(self, article_id: int) -> tuple[str, Article]:
        """Return (source key, article) for a stored article id."""
        row = self.db["articles"].get(article_id)
        return row["source_key"], article_from_row(row)
