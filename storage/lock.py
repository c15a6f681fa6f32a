"""The archive's errors, and the lock that keeps one writing process per archive.

StorageError             the database cannot be opened or used
├── OutdatedArchive      an older presswatch wrote it; a read-only command cannot update it
├── AlreadyRunning       another presswatch process holds the database's lock
└── ConstraintViolation  a write broke a uniqueness or reference rule (PostgreSQL; SQLite raises
                         sqlite3.IntegrityError)
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path


class StorageError(Exception):
    """The database cannot be opened or used."""


class OutdatedArchive(StorageError):
    """The archive lacks migrations this presswatch needs; a read-only command cannot apply them."""

    def __init__(self, where: str, pending: list[str]) -> None:
        super().__init__(
            f"{where}: the archive is from an older presswatch ({len(pending)} "
            f"update{'' if len(pending) == 1 else 's'} to "
            f"apply, from {pending[0]}): run `presswatch upgrade-archive`, or restart the "
            "service, to bring it up to date"
        )
        self.pending = pending


class AlreadyRunning(StorageError):
    """Another presswatch process holds the database's lock."""

    def __init__(
        self,
        message: str,
        *,
        pid: int | None = None,
        role: str = "",
        since: datetime | None = None,
        host: str = "",
    ) -> None:
        super().__init__(message)
        self.pid, self.role, self.since = pid, role, since  # the holder, as its lock says
        self.host = host  # its machine, when another may hold it (PostgreSQL); "" on SQLite


class ConstraintViolation(StorageError):
    """A write broke a uniqueness or reference rule of the archive."""


class InstanceLock:
    """An OS-level lock beside the database so two processes never post from one archive.

    The lock file holds the holder's process id, its role ("run" for the service) and when it
    took the lock, so `presswatch reload` can find the service and never signal a `once` that
    would die of it, and a `once` under cron can tell an overlap from a hung run.
    """

    def __init__(self, db_path: str | Path, *, role: str = "", now: datetime | None = None) -> None:
        self.path = Path(f"{db_path}.lock")
        self.role = role
        self.now = now  # the start to record (tests); else the moment the lock is taken
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning with the holder's process id."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            # Typically a folder the service's user may not write: one line, not a traceback.
            raise StorageError(
                f"cannot lock the archive {self.path.with_suffix('')}: {exc.strerror or exc}"
                f" ({exc.filename or self.path}); presswatch needs to write in its folder"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            words = os.read(fd, 128).decode(errors="replace").split()
            # A holder from before "since=" wrote its file as it took the lock: the file's time.
            written = datetime.fromtimestamp(os.fstat(fd).st_mtime, UTC)
            os.close(fd)
            pid, role, since = _holder(words)
            since = since or (written if pid is not None else None)
            raise AlreadyRunning(
                f"another presswatch process (pid {pid or 'unknown'}) is using "
                f"{self.path.with_suffix('')}; stop it first",
                pid=pid,
                role=role,
                since=since,
            ) from exc
        os.ftruncate(fd, 0)
        started = (self.now or datetime.now(UTC)).isoformat(timespec="seconds")
        os.write(fd, " ".join((str(os.getpid()), self.role, f"{_SINCE}{started}")).encode())
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


def lock_holder(db_path: str | Path) -> tuple[int, str] | None:
    """Return (pid, role) of the process holding the archive's lock, or None when none holds it."""
    path = Path(f"{db_path}.lock")
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, role, _ = _holder(os.read(fd, 128).decode(errors="replace").split())
            return (pid, role) if pid is not None else None
        fcntl.flock(fd, fcntl.LOCK_UN)  # it was free: a stale file from a stopped process
        return None
    finally:
        os.close(fd)


_SINCE = "since="  # the word of the lock file that says when its holder took it


def _holder(words: list[str]) -> tuple[int | None, str, datetime | None]:
    """Read (pid, role, since) from a lock file's words ("PID [ROLE] since=ISO"; older: "PID ROLE")."""
    pid = int(words[0]) if words and words[0].isdigit() else None
    since = next((w.removeprefix(_SINCE) for w in words[1:] if w.startswith(_SINCE)), None)
    role = " ".join(w for w in words[1:] if not w.startswith(_SINCE))
    try:
        started = datetime.fromisoformat(since) if since else None
    except ValueError:  # a lock file written by hand or cut short
        started = None
    return pid, role, started
