"""The PostgreSQL archive: a connection pool, stores over it, status readers and the instance lock.

Connections are psycopg 3's, from one psycopg_pool pool per process: the store holds one (the
writer, as with SQLite), status reads borrow one each under a deadline. Every connection talks
UTC and reads `timestamptz` back as the ISO text SQLite stores (`2026-11-28T09:00:00+00:00`), so
rows read the same from both archives. The password comes from the caller (the environment) or
libpq's own `.pgpass`, never from the URL. The pool's connections wait for a lock at most
`lock_timeout` and the server ends their transactions left idle (storage/busy.py), so a stalled
worker never stalls the others; the job engine's and the instance lock's keep the server's defaults.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from ..busy import IDLE_TIMEOUT_SECONDS, LOCK_TIMEOUT_SECONDS
from ..lock import OutdatedArchive, StorageError
from ..neardup import DedupConfig
from ..records import Scrub, iso, unchanged
from ..store import Store
from . import migrations
from .database import PgDatabase, storage_errors
from .fragments import APPLICATION, INSTANCE_LOCK
from .holder import already_running, application_name, read_holder
from .sql import pyformat

CONNECT_TIMEOUT = 10.0
# The archive connections' bounds, as startup options: `reset all` (the pool's reset) keeps them.
_BOUNDS = (
    f" -c lock_timeout={LOCK_TIMEOUT_SECONDS}s"
    f" -c idle_in_transaction_session_timeout={IDLE_TIMEOUT_SECONDS}s"
)


class IsoTimestamp(Loader):
    """Read a `timestamptz` as the ISO text `storage.records.iso` writes."""

    def load(self, data: Any) -> str:
        text = bytes(data).decode("ascii")
        # The session is UTC and the columns hold whole seconds: "2026-11-28 09:00:00+00".
        if len(text) == 22 and text.endswith("+00"):
            return f"{text[:10]}T{text[11:19]}+00:00"
        return iso(datetime.fromisoformat(text))


def configure(conn: psycopg.Connection) -> None:
    """Prepare a new pooled connection: timestamps read as ISO text."""
    conn.adapters.register_loader("timestamptz", IsoTimestamp)


def reset(conn: psycopg.Connection) -> None:
    """Undo what a borrower set (read-only, deadlines) before the pool lends the connection again."""
    conn.execute("reset all")


class PostgresBackend:
    """An archive in a PostgreSQL database, reached through a pool opened on first use."""

    dialect = "postgresql"

    def __init__(self, url: str, *, password: str = "", max_size: int = 4) -> None:
        self.url = url
        self._kwargs: dict[str, Any] = {
            "autocommit": True,
            "application_name": APPLICATION,
            "connect_timeout": int(CONNECT_TIMEOUT),
            # UTC: timestamps print as "+00", which IsoTimestamp reads without a parser.
            "options": "-c TimeZone=UTC",
        }
        if password:
            self._kwargs["password"] = password
        self._max_size = max_size
        self._pool: ConnectionPool | None = None

    def __str__(self) -> str:
        return self.url

    @property
    def pool(self) -> ConnectionPool:
        """Return the pool, opening it (and failing clearly when the server refuses) on first use."""
        if self._pool is None:
            with storage_errors(f"{self.url}: cannot connect"):  # fail at once, saying why
                psycopg.connect(self.url, **self._kwargs).close()
            bounded = self._kwargs | {"options": self._kwargs["options"] + _BOUNDS}
            pool = ConnectionPool(
                self.url,
                kwargs=bounded,
                min_size=1,
                max_size=self._max_size,
                configure=configure,
                reset=reset,
                check=ConnectionPool.check_connection,
                timeout=CONNECT_TIMEOUT,
                name=APPLICATION,
                open=False,
            )
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            except PoolTimeout as exc:
                pool.close()
                raise StorageError(f"{self.url}: cannot connect (timed out)") from exc
            self._pool = pool
        return self._pool

    def open(
        self,
        *,
        dedup: DedupConfig | None = None,
        scrub: Scrub = unchanged,
        sync_in_thread: bool = False,  # noqa: ARG002 - a PostgreSQL COMMIT returns once durable
    ) -> Store:
        """Return a store over the archive, migrated first; error texts pass `scrub`."""
        db = PgDatabase(self.pool, backend=self)
        try:
            _check_locale(db, self.url)
            migrations.apply(db, where=self.url)
        except StorageError as exc:
            db.close()
            raise StorageError(f"{self.url}: cannot open the archive ({exc})") from exc
        return Store(db, dedup=dedup, scrub=scrub)

    def open_read_only(self, *, dedup: DedupConfig | None = None) -> Store:
        """Return a store that cannot write (reports while the service runs)."""
        if not self.exists():
            raise StorageError(f"no archive in {self.url} yet: run `presswatch once` first")
        store = Store(PgDatabase(self.pool, read_only=True, backend=self), dedup=dedup)
        try:
            self.require_current(store.db)  # on the store's own connection, not one more
        except OutdatedArchive:
            store.close()
            raise
        return store

    def require_current(self, conn: PgReader | None = None) -> None:
        """Raise OutdatedArchive when an older presswatch left migrations a reader cannot apply;
        asked on `conn`, a status read already open, else on a connection of its own."""
        if conn is not None:
            pending = migrations.pending(conn)
        else:
            db = PgDatabase(self.pool, read_only=True, backend=self)
            try:
                pending = migrations.pending(db)
            finally:
                db.close()  # its connection back to the pool
        if pending:  # a read's queries would name columns the archive lacks
            raise OutdatedArchive(self.url, pending)

    def exists(self) -> bool:
        """Return True when the database holds an archive (its articles table)."""
        with self.pool.connection() as conn, storage_errors(self.url):
            return conn.execute("select to_regclass('articles') is not null").fetchone()[0]

    def reader(self, deadline: float) -> PgReader:
        """Return a read-only connection whose statements stop past `deadline` seconds."""
        return PgReader(self.pool, deadline)

    def lock(self, *, role: str = "") -> PgInstanceLock:
        """Return the lock that keeps a second writing presswatch away from this archive."""
        # The role, pid and host name the holder in pg_stat_activity, as the lock file does.
        kwargs = self._kwargs | {"application_name": application_name(role)}
        # Workers (`run`) share the archive with each other; `once`, `backfill` and
        # `migrate-archive` wait until every worker is gone, and workers wait for them.
        return PgInstanceLock(self.url, kwargs, shared=role == "run")

    @property
    def connection_kwargs(self) -> dict[str, Any]:
        """Return the options every connection of this archive opens with (the job engine's too)."""
        return dict(self._kwargs)

    def close(self) -> None:
        """Close every pooled connection."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _check_locale(db: PgDatabase, url: str) -> None:
    """Refuse a database whose locale cannot lower-case Cyrillic: its search would miss words."""
    encoding, folds = db.execute(
        "select current_setting('server_encoding'), lower('ДЁ') = 'дё'"
    ).fetchone()
    if encoding != "UTF8" or not folds:
        raise StorageError(
            f"the database is {encoding} with a locale that does not know Cyrillic letters: create "
            "it with --encoding UTF8 --locale C.UTF-8 (or another UTF-8 locale)"
        )


class PgReader:
    """One pooled connection for a status read: read-only, one snapshot per transaction."""

    dialect = "postgresql"

    def __init__(self, pool: ConnectionPool, deadline: float) -> None:
        self._pool = pool
        with storage_errors("cannot reach the archive"):
            self._conn = pool.getconn(timeout=max(deadline, 0.001))
        try:
            timeout = max(int(deadline * 1000), 1)
            self._conn.execute(f"set statement_timeout = {timeout}")
            self._conn.execute("set default_transaction_read_only = on")
            # "begin" then reads every table at one moment, as SQLite's read transaction does.
            self._conn.execute("set default_transaction_isolation = 'repeatable read'")
        except psycopg.Error as exc:
            self.close()
            raise StorageError(f"cannot read the archive: {exc}") from exc

    def execute(self, sql: str, params: list | tuple = ()) -> psycopg.Cursor:
        """Run a query with `?` placeholders and return its cursor."""
        with storage_errors("cannot read the archive"):
            return self._conn.execute(pyformat(sql), list(params))

    def close(self) -> None:
        """End the read and give the connection back."""
        if not self._conn.broken and self._conn.info.transaction_status != TransactionStatus.IDLE:
            self._conn.rollback()  # a read has nothing to keep; the pool would warn
        self._pool.putconn(self._conn)


class PgInstanceLock:
    """A session advisory lock on a connection of its own, held while presswatch writes."""

    def __init__(self, url: str, kwargs: dict[str, Any], *, shared: bool = False) -> None:
        self.url, self._kwargs, self._shared = url, kwargs, shared
        self._conn: psycopg.Connection | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the holder."""
        with storage_errors(f"{self.url}: cannot connect"):
            conn = psycopg.connect(self.url, **self._kwargs)
            take = "pg_try_advisory_lock_shared" if self._shared else "pg_try_advisory_lock"
            got = conn.execute(f"select {take}(%s, %s)", INSTANCE_LOCK).fetchone()[0]
            if not got:
                holder = read_holder(conn, INSTANCE_LOCK)
                conn.close()
                raise already_running(self.url, holder)
        self._conn = conn

    def release(self) -> None:
        """Release the lock, then close its connection."""
        if self._conn is not None:
            # Closing alone frees the lock only when the server's backend has exited, a moment
            # later: a presswatch started right after would be refused by a process already gone.
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("select pg_advisory_unlock_all()")
            self._conn.close()
            self._conn = None

    def __enter__(self) -> PgInstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
