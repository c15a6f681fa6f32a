"""Read-only connections to an SQLite archive, also for a user who may not write its folder.

A WAL-mode reader needs the archive's `-shm` index beside it, and creates it when it is missing
(the service closed cleanly and removed it): a user who may read the archive but not write its
folder (`runuser -u nobody -- presswatch status`) then got "attempt to write a readonly
database". With no `-wal` file there is nothing but the main file to read, so such a reader
opens it as immutable; otherwise it is told what to do.

An immutable connection takes no lock and never rereads a page it has cached: a service that
starts meanwhile and checkpoints its first commits into the main file would make it answer from
a mix of old and new pages (wrong counts, "database disk image is malformed"). So it answers only
while the main file is the one it opened; after that every statement, and the next row of one
being read, refuses (StorageError).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from .lock import StorageError

# What SQLite says when a reader cannot create or open the files beside the archive.
_CANNOT_SHARE = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}
_SCHEMA = "select count(*) from sqlite_master"


def connect(path: str | Path, *, timeout: float, check: str = _SCHEMA) -> sqlite3.Connection:
    """Open `path` read-only and run `check`; raise StorageError saying what to do if it cannot."""
    path = Path(path).resolve()
    try:
        return _opened(f"{path.as_uri()}?mode=ro", timeout, check)
    except sqlite3.OperationalError as exc:
        if (exc.sqlite_errorcode & 0xFF) not in _CANNOT_SHARE or not path.is_file():
            raise
        wal = path.with_name(f"{path.name}-wal")
        if not wal.exists() or wal.stat().st_size == 0:
            # Every commit is in the main file and no writer is running (it would have a -wal):
            # immutable reads it without the index. It writes nothing (mode=ro); a writer that
            # starts mid-read makes its next statement refuse (_Immutable), never answer wrong.
            conn = _opened(f"{path.as_uri()}?mode=ro&immutable=1", timeout, check, _Immutable)
            conn.watch(path)
            return conn
        raise StorageError(
            f"SQLite needs to create {path.name}-shm beside the archive (WAL mode) and this user "
            f"may not write in {path.parent}: run the command as the archive's owner "
            f"(sudo -u {_owner(path.parent)} presswatch …), or let this user write that folder"
        ) from exc


def _owner(folder: Path) -> str:
    """Return the name of the folder's owner, or its uid when it has no name."""
    try:
        return folder.owner()
    except KeyError:
        return f"#{folder.stat().st_uid}"


def _opened(
    uri: str, timeout: float, check: str, factory: type = sqlite3.Connection
) -> sqlite3.Connection:
    """Connect to `uri` and run `check` (the first read is when WAL's index is needed)."""
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, factory=factory)
    try:
        conn.execute(check).fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _stamp(path: Path) -> tuple[int, int, int]:
    """Return what changes when anything writes the file: its inode, size and mtime."""
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


class _Immutable(sqlite3.Connection):
    """An immutable connection whose statements refuse once the archive's main file changed."""

    _path: Path | None = None
    _was: tuple[int, int, int] | None = None

    def watch(self, path: Path) -> None:
        """Remember the main file as it is now, before any statement of the caller's."""
        self._path, self._was = path, _stamp(path)

    def unchanged(self) -> None:
        """Raise StorageError if the main file was written since `watch`."""
        if self._path is not None and _stamp(self._path) != self._was:
            raise StorageError(
                f"{self._path.name} was written while it was read without its WAL index (a "
                "service started meanwhile): what was read may mix old and new pages; run the "
                "command again (it then needs the -shm the service created, or its owner)"
            )

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:
        """Return a cursor that checks the file before each statement and after its last row."""
        return super().cursor(factory or _Checked)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Run one statement through a checked cursor."""
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        """Run one statement per parameters through a checked cursor."""
        return self.cursor().executemany(sql, parameters)


class _Checked(sqlite3.Cursor):
    """A cursor of an `_Immutable` connection: no row is trusted once the file changed."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Check, run (which reads up to the first row), check again."""
        self.connection.unchanged()
        super().execute(sql, parameters)
        self.connection.unchanged()
        return self

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        """Check, run, check again."""
        self.connection.unchanged()
        super().executemany(sql, parameters)
        self.connection.unchanged()
        return self

    def fetchone(self) -> Any:
        """Return the next row, or None when none is left, checked as iteration checks it."""
        return next(self, None)

    def fetchmany(self, size: int | None = None) -> list:
        """Return up to `size` rows, then check the file."""
        rows = super().fetchmany(self.arraysize if size is None else size)
        self.connection.unchanged()
        return rows

    def fetchall(self) -> list:
        """Return the remaining rows, then check the file."""
        rows = super().fetchall()
        self.connection.unchanged()
        return rows

    def __next__(self) -> Any:
        """Return the next row once the file is seen unchanged since the connection opened it; check
        the file also when none is left, or when SQLite found a page it could not make sense of."""
        try:
            row = super().__next__()
        except (StopIteration, sqlite3.DatabaseError):
            self.connection.unchanged()  # "malformed" from a page of the new file: say why
            raise
        # Each row, not only the last: a streamed export prints rows as they come, and those
        # printed must all be from the file as it was (the rest are missing, and it says so).
        self.connection.unchanged()
        return row
