"""The archive's errors, and the lock that keeps one writing process per archive.

StorageError             the database cannot be opened or used
├── AlreadyRunning       another presswatch process holds the database's lock
└── ConstraintViolation  a write broke a uniqueness or reference rule (PostgreSQL; SQLite raises
                         sqlite3.IntegrityError)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class StorageError(Exception):
    """The database cannot be opened or used."""


class AlreadyRunning(StorageError):
    """Another presswatch process holds the database's lock."""


class ConstraintViolation(StorageError):
    """A write broke a uniqueness or reference rule of the archive."""


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
                " stop it first"
            ) from exc
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
