"""A consistent copy of a live SQLite archive: SQLite's online backup API (or `VACUUM INTO` for a
compacted copy) from one read snapshot, into a file beside DEST renamed to DEST once checked.

BackupError (a StorageError)   the copy cannot be made, or not where asked; nothing is left behind

Why one read snapshot: the backup API restarts from page 1 whenever another connection commits
between two of its steps, so against the service, which commits every few seconds, a stepped
copy of a big archive may never end. Held in one read transaction, the copy is the archive as it
was when it began: in WAL mode the service's writers go on meanwhile (readers never block them);
only its checkpoints cannot get past the snapshot, so the `-wal` file grows until the copy ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .lock import StorageError

# Pages per step of the backup API: 4 MiB of 4 KiB pages, then the progress line is redrawn.
STEP = 1024
# What SQLite leaves beside a database file, which a file renamed over it would be read with.
SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(StorageError):
    """A backup cannot be made, or not where asked; the message is one line."""


@dataclass(frozen=True, slots=True)
class Pages:
    """An archive's size in pages: all of them, the free ones (deleted rows'), and their size."""

    total: int
    free: int
    size: int

    @property
    def used_bytes(self) -> int:
        """Return the bytes of the pages in use: about what a compacted copy takes."""
        return (self.total - self.free) * self.size

    @property
    def bytes(self) -> int:
        """Return the bytes of every page: what a page-for-page copy takes."""
        return self.total * self.size


def pages_of(conn: sqlite3.Connection) -> Pages:
    """Return the size in pages of the database `conn` reads (in its snapshot, if it holds one)."""
    total = conn.execute("pragma page_count").fetchone()[0]
    free = conn.execute("pragma freelist_count").fetchone()[0]
    return Pages(total, free, conn.execute("pragma page_size").fetchone()[0])


def part_of(dest: Path) -> Path:
    """Return the name a backup is written under until it is whole and checked."""
    return dest.with_name(f"{dest.name}.part")


def check_destination(source: Path, dest: Path, *, force: bool) -> None:
    """Refuse a DEST that is the archive, a folder, already there (without `force`), or one whose
    `-wal` a renamed file would be read with."""
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder: name the backup file, e.g. {dest / source.name}")
    if dest.exists() and source.exists() and dest.samefile(source):  # a link to it too
        raise BackupError(f"{dest} is the archive itself: name another file")
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists: give --force to replace it")
    # SQLite would replay a -wal left by the file DEST was onto the new one: a corrupt backup.
    left = [f"{dest}{suffix}" for suffix in SIDECARS if Path(f"{dest}{suffix}").exists()]
    if left:
        raise BackupError(
            f"{left[0]} is beside {dest}: something has DEST open (or crashed with it open); "
            "close it, or name another file"
        )


def back_up(
    source: Path,
    dest: Path,
    *,
    compact: bool = False,
    step: int = STEP,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Pages:
    """Copy the live archive at `source` to `dest` (page for page, or compacted), `progress`
    told (pages done, pages in all) after each step; return the copy's pages."""
    part = part_of(dest)
    _require_folder(dest.parent)
    with _claimed(part, dest):
        with closing(_reader(source)) as conn:
            # VACUUM INTO reads from one snapshot of its own, and refuses to run inside another.
            with contextlib.nullcontext() if compact else _snapshot(conn):
                pages = pages_of(conn)
                need = pages.used_bytes if compact else pages.bytes
                _require_room(dest.parent, need)
                with _written(part, dest, need):
                    if compact:
                        conn.execute("vacuum into ?", [str(part)])
                    else:
                        _copy_pages(conn, part, step=step, total=pages.total, progress=progress)
        with _written(part, dest, need):
            copied = quick_check(part)
            # SQLite syncs a backup's commit, but VACUUM INTO may not (its versions differ).
            _sync(part)
            os.replace(part, dest)
    _sync(dest.parent)
    return copied


def quick_check(path: Path) -> Pages:
    """Run `PRAGMA quick_check` on a finished copy; return its pages, raise BackupError if bad."""
    # Read-write, though it only reads: a read-only connection to a copy in WAL mode (as the
    # archive is) would leave its -wal and -shm behind, orphaned by the rename. Not rwc: a copy
    # gone from under it must fail, not become an empty database that passes and takes DEST.
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"the copy cannot be checked ({exc}); not kept") from exc
    with closing(conn):
        found = [row[0] for row in conn.execute("pragma quick_check")]
        if found != ["ok"]:
            raise BackupError(f"the copy failed its check ({'; '.join(found[:3])}); not kept")
        return pages_of(conn)


def require_archive(path: Path) -> None:
    """Refuse, in one line, an archive not made yet."""
    if not path.is_file():
        raise BackupError(f"no archive at {path} yet: `presswatch once` or `run` makes it")


def _reader(source: Path) -> sqlite3.Connection:
    """Open the archive to read it (a backup writes no row of it)."""
    require_archive(source)
    try:
        # Not mode=ro: with the service stopped, a read-only connection would leave the -wal
        # and -shm it made beside the archive; a read-write one, closing last, checkpoints and
        # removes them as the service's own close does. rw opens a file this user may only read
        # read-only.
        return sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: cannot read the archive ({exc})") from exc


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Hold one read transaction, so every step copies the same state of the archive."""
    try:
        conn.execute("begin")
        conn.execute("select count(*) from sqlite_master").fetchone()  # takes the snapshot
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the archive ({exc})") from exc
    try:
        yield
    finally:
        conn.rollback()


def _copy_pages(
    conn: sqlite3.Connection,
    part: Path,
    *,
    step: int,
    total: int,
    progress: Callable[[int, int], None],
) -> None:
    """Copy `conn`'s database into the empty file `part`, `step` pages at a time."""
    with closing(sqlite3.connect(part)) as target:
        conn.backup(
            target,
            pages=step,
            progress=lambda status, remaining, count: progress(count - remaining, count or total),
        )


@contextmanager
def _claimed(part: Path, dest: Path) -> Iterator[None]:
    """Create `part`, empty, and hold it locked until the block ends (removed unless renamed):
    a second backup to DEST is refused rather than let remove the file the first one writes,
    whose check and rename would then find the second's half-written copy, or none."""
    try:  # by us, not SQLite: its "unable to open database file" would not say why
        fd = os.open(part, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc.strerror or exc}; nothing written") from exc
    try:
        _lock(fd, part, dest)  # refused: the other backup's file stays as it is
        try:
            _remove(part, keep=True)  # a copy a killed run left, and its journal: never resumed
            yield
        except BaseException:
            _remove(part)
            raise
    finally:
        os.close(fd)  # only now: closing it sooner would release the lock


def _lock(fd: int, part: Path, dest: Path) -> None:
    """Lock `part` through `fd`, or refuse when another backup holds it (or renamed it since)."""
    busy = BackupError(f"another backup-archive is writing {dest} ({part}); let it end")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Opened just before the other backup renamed it to DEST: it is DEST now, not ours.
        if os.fstat(fd).st_ino != part.stat().st_ino:
            raise busy
    except (BlockingIOError, FileNotFoundError):
        raise busy from None


@contextmanager
def _written(part: Path, dest: Path, need: int) -> Iterator[None]:
    """Remove `part` and its journal unless the block ends well; say a failure to write as one
    line naming DEST."""
    try:
        yield
    except OSError as exc:
        _remove(part)
        raise BackupError(f"cannot write {dest}: {exc.strerror or exc}; nothing written") from exc
    except sqlite3.Error as exc:
        _remove(part)
        free = shutil.disk_usage(dest.parent).free
        room = f" ({size_text(free)} free in {dest.parent}, {size_text(need)} needed)"
        full = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_FULL
        raise BackupError(
            f"cannot write {dest}: {exc}{room if full else ''}; nothing written"
        ) from exc
    except BaseException:  # Ctrl-C, a failed check: a half-written copy never stays
        _remove(part)
        raise


def _require_folder(folder: Path) -> None:
    """Refuse before writing when `folder` is no folder."""
    if not folder.is_dir():
        why = "not a folder" if folder.exists() else "no such folder"
        raise BackupError(f"cannot write in {folder}: {why}")


def _require_room(folder: Path, need: int) -> None:
    """Refuse before writing when `folder` lacks `need` bytes free."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise BackupError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    if free < need:
        raise BackupError(
            f"not enough room in {folder}: the copy needs {size_text(need)}, {size_text(free)} free"
        )


def _remove(part: Path, *, keep: bool = False) -> None:
    """Remove a copy cut short (or, to `keep` its locked file, empty it) and what SQLite kept
    beside it."""
    if keep:
        os.truncate(part, 0)
    else:
        part.unlink(missing_ok=True)
    for path in (Path(f"{part}{suffix}") for suffix in SIDECARS):
        path.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    """Make a file's bytes, or a folder's names, durable: a power cut after the rename must
    neither bring the old name back nor leave DEST's name on pages never written."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def size_text(n: int) -> str:
    """Return a byte count as people read it (MiB from 1 MiB up)."""
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n / 1024:,.0f} KiB"
