"""Where an archive lives: an SQLite file (the embedded default) or a PostgreSQL database.

Both backends answer the same questions: open a store (migrated, or read-only), does the archive
exist yet, which lock keeps a second writer away, and how to let go. The PostgreSQL one lives in
storage/postgres/backend.py, imported only when configured (psycopg is an optional extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .lock import InstanceLock, OutdatedArchive, StorageError
from .records import DedupConfig, Scrub, unchanged

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .store import Store


class Lock(Protocol):
    """A lock that one writing presswatch process holds per archive."""

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...


class Backend(Protocol):
    """An archive's home, as the composition root and the status readers use it."""

    dialect: str

    def open(
        self,
        *,
        dedup: DedupConfig | None = None,
        scrub: Scrub = unchanged,
        sync_in_thread: bool = False,
    ) -> Store: ...

    def open_read_only(self, *, dedup: DedupConfig | None = None) -> Store: ...

    def exists(self) -> bool: ...

    def require_current(self, conn: Any) -> None: ...

    def lock(self, *, role: str = "") -> Lock: ...

    def close(self) -> None: ...


class SqliteBackend:
    """An archive in one SQLite file, with a lock file beside it."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def open(
        self,
        *,
        dedup: DedupConfig | None = None,
        scrub: Scrub = unchanged,
        sync_in_thread: bool = False,
    ) -> Store:
        """Open (creating if needed) the archive, fully migrated; error texts pass `scrub`;
        `sync_in_thread`: commits synced to disk off the event loop (Store.open)."""
        import sqlite3

        store = _store().open(self.path, dedup=dedup, scrub=scrub, sync_in_thread=sync_in_thread)
        try:
            # A file this user may only read (made by root, run by the service's user) opens and
            # reads fine; without this its first write would fail mid-command, as a traceback.
            # (BEGIN IMMEDIATE passes on such a file: only writing a page tells.)
            version = store.db.execute("PRAGMA user_version").fetchone()[0]
            store.db.execute("BEGIN IMMEDIATE")
            try:
                store.db.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                store.db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            store.close()
            busy = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF == sqlite3.SQLITE_BUSY
            raise StorageError(
                f"{self.path}: cannot write the archive ({exc}); "
                + (
                    "another process held a write on it for 10 s (a sqlite3 shell mid-transaction?)"
                    if busy
                    else "the file and its folder must be writable by the user presswatch runs as"
                )
            ) from exc
        return store

    def open_read_only(self, *, dedup: DedupConfig | None = None) -> Store:
        """Open the existing archive so that nothing can be written."""
        if not self.exists():
            raise StorageError(f"no archive at {self.path} yet: run `presswatch once` first")
        store = _store().open_read_only(self.path, dedup=dedup)
        try:
            _require_current(store.db, str(self.path))
        except OutdatedArchive:
            store.close()
            raise
        return store

    def require_current(self, conn: Any) -> None:
        """Raise OutdatedArchive when an older presswatch left migrations a reader cannot apply,
        asked on `conn`, a read-only connection already open (status)."""
        from sqlite_utils import Database

        # No plugins, no PRAGMA: the connection is the caller's, only read through.
        db = Database(conn, execute_plugins=False, recursive_triggers=False)
        _require_current(db, str(self.path))

    def exists(self) -> bool:
        """Return True once the file is there."""
        return self.path.exists()

    def lock(self, *, role: str = "") -> InstanceLock:
        """Return the lock file's lock, naming its holder's `role` ("run" for the service)."""
        return InstanceLock(self.path, role=role)

    def close(self) -> None:
        """Nothing to release: each store closes its own connection."""


def _require_current(db: Database, where: str) -> None:
    """Raise OutdatedArchive when the SQLite archive lacks a migration this presswatch has."""
    from .migrations import migrations

    pending = [migration.name for migration in migrations.pending(db)]
    if pending:  # a read's queries would name columns the archive lacks
        raise OutdatedArchive(where, pending)


def in_memory(*, dedup: DedupConfig | None = None, scrub: Scrub = unchanged) -> Store:
    """Return an empty archive in memory (dry runs with no archive yet, `add`'s preview)."""
    return _store().in_memory(dedup=dedup, scrub=scrub)


def _store() -> type[Store]:
    """Return the Store class, imported when an archive is first opened.

    sqlite-utils (and numpy, which it imports) load then, not with the modules of every
    command: --help, and a command that stops at a bad argument, never pay for them.
    """
    from .store import Store  # noqa: PLC0415

    return Store
