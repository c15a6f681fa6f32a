"""Commits made durable off the event loop: the archive's WAL file synced in a thread, awaited.

With WAL and `synchronous=NORMAL` a COMMIT appends its pages to the `-wal` file and returns
without an fsync; SQLite itself still syncs the WAL before every checkpoint, the database after
it, and the WAL's header when the file starts over. One fsync of the `-wal` file afterwards puts
every commit before it on disk, as `synchronous=FULL` would have done inside each COMMIT. Here
that fsync runs in a thread while the event loop serves others, and one fsync serves every
commit made before it started (a group commit). Whatever acts outside the archive on a commit
(a post sent, a reply, a poll reported) awaits `WalSync.durable()` first.

Changes are counted with the connection's `total_changes`, read on the loop between
transactions (no transaction of this connection spans an await), so a count is committed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlite_utils import Database

from .lock import StorageError

_INT32 = 0xFFFF_FFFF  # sqlite3_total_changes() is a C int: it wraps past 2**31 changes


class WalSync:
    """Sync one connection's commits to disk in a thread; `durable()` waits for them."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        fsync: Callable[[int], None] = os.fsync,
    ) -> None:
        self._conn, self._fsync = conn, fsync
        self._wal = Path(f"{path}-wal")
        self._raw = conn.total_changes
        self._count = 0  # changes made through the connection since it was handed over, unwrapped
        self._synced = 0  # of which are on disk
        self._fd: int | None = None  # the WAL file, open once it was first synced
        self._flight: asyncio.Future[None] | None = None
        self._failed: str | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-sync")
        self.syncs = 0  # fsyncs of the WAL done, for tests and the benchmark

    @property
    def behind(self) -> bool:
        """Tell whether some change made so far is not yet known to be on disk."""
        return self._synced < self._changes()

    async def durable(self) -> None:
        """Return once every commit made so far through the connection is on disk."""
        target = self._changes()
        while self._synced < target:
            if self._failed:
                raise StorageError(self._failed)
            if self._flight is None:
                self._flight = asyncio.ensure_future(self._sync())
            # Shielded: a waiter cancelled (a poll's deadline) leaves the fsync to finish for others.
            await asyncio.shield(self._flight)
        if self._failed:
            raise StorageError(self._failed)

    def close(self) -> None:
        """Sync what is left, here and now, and stop the thread (the connection closes next)."""
        self._thread.shutdown(wait=True)
        try:
            if self._failed is None and self.behind:
                upto = self._changes()
                self._sync_wal()
                self._synced = upto
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    async def _sync(self) -> None:
        """Sync the WAL in the thread; every change counted before it started is then on disk."""
        upto = self._changes()
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._sync_wal)
        except OSError as exc:
            # As after a failed fsync anywhere: what the kernel dropped is gone, so nothing that
            # relies on the disk may go on; the service must be restarted and the disk looked at.
            self._failed = f"{self._wal}: syncing the archive to disk failed ({exc})"
        else:
            self._synced = max(self._synced, upto)
        finally:
            self._flight = None

    def _sync_wal(self) -> None:
        """Fsync the `-wal` file (and, the first time, the directory entry that names it)."""
        # One system call per sync: each call in this thread takes the GIL back from the poller.
        if self._fd is not None:
            self._fsync(self._fd)
            self.syncs += 1
            return
        # No WAL file while this connection is open and has written would be a wrong path: an
        # error (FileNotFoundError), never a sync quietly skipped.
        fd = os.open(self._wal, os.O_RDONLY)
        self._fsync(fd)
        self.syncs += 1
        # A new WAL file is durable only once its name is: sync the directory that lists it.
        folder = os.open(self._wal.parent, os.O_RDONLY)
        try:
            self._fsync(folder)
        finally:
            os.close(folder)
        # Kept: while this connection is open SQLite rewrites the file in place, never replaces it.
        self._fd = fd

    def _changes(self) -> int:
        """Return the changes made through the connection so far, unwrapped past 2**31."""
        raw = self._conn.total_changes
        self._count += (raw - self._raw) & _INT32
        self._raw = raw
        return self._count


def journal_mode(db: Database) -> str:
    """Return the archive's journal mode ("wal" unless the file system refused it)."""
    return str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
