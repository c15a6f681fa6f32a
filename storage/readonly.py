"""Read-only connections to an SQLite archive, also for a user who may not write its folder.

A WAL-mode reader needs the archive's `-shm` index beside it, and creates it when it is missing
(the service closed cleanly and removed it): a user who may read the archive but not write its
folder (`runuser -u nobody -- presswatch status`) then got "attempt to write a readonly
database". With no `-wal` file there is nothing but the main file to read, so such a reader
opens it as immutable; otherwise it is told what to do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
            # immutable reads it without the index. A writer starting mid-read may make this
            # read fail, never the archive: this connection writes nothing.
            return _opened(f"{path.as_uri()}?mode=ro&immutable=1", timeout, check)
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


def _opened(uri: str, timeout: float, check: str) -> sqlite3.Connection:
    """Connect to `uri` and run `check` (the first read is when WAL's index is needed)."""
    conn = sqlite3.connect(uri, uri=True, timeout=timeout)
    try:
        conn.execute(check).fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn
