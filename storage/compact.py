"""Compaction of an SQLite archive with the service stopped: `VACUUM` gives the free pages of
deleted rows (the runs upkeep's) back to the disk, after checking there is room to do it.

Where the room goes: VACUUM builds the compacted database in a temporary file in SQLite's
temporary folder, then writes it back through the archive's `-wal` (WAL mode), so it needs about
the size of the pages in use twice, once in each place (both, when they are one file system).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .backup import BackupError, Pages, pages_of, require_archive, size_text
from .lock import StorageError

# SQLite's own order for its temporary files on Unix (os_unix.c, unixTempFileDir): the first
# of these that is a folder it may write.
_TEMP_VARIABLES = ("SQLITE_TMPDIR", "TMPDIR")
_TEMP_FOLDERS = ("/var/tmp", "/usr/tmp", "/tmp")


class CompactError(BackupError):
    """The archive cannot be compacted (no room, unreadable); it is left as it was."""


@dataclass(frozen=True, slots=True)
class Compacted:
    """An archive's files' bytes (the database and its -wal) before and after, and whether the
    file is already its new size (a reader holding an old snapshot delays the last step)."""

    before: int
    after: int
    settled: bool


def files_size(path: Path) -> int:
    """Return the bytes of the archive and its -wal on disk."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def temp_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the folder SQLite writes its temporary files in, as it chooses it."""
    for candidate in [*(environ.get(v, "") for v in _TEMP_VARIABLES), *_TEMP_FOLDERS, "."]:
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return Path(".")


def shortfalls(needs: Mapping[Path, int], free: Mapping[Path, int]) -> list[str]:
    """Return one phrase per folder that lacks the bytes it needs (folders on one file system
    share its free bytes: `free` is keyed by the file system's first folder)."""
    return [
        f"{folder} needs {size_text(need)}, has {size_text(free[folder])} free"
        for folder, need in needs.items()
        if free[folder] < need
    ]


def compact(path: Path, *, environ: Mapping[str, str] = os.environ) -> Compacted:
    """VACUUM the archive at `path` (its writers' lock held by the caller) after checking the
    room it needs; then move the -wal's pages into the file and empty the -wal."""
    require_archive(path)
    before = files_size(path)
    try:
        with closing(sqlite3.connect(path, timeout=10)) as conn:
            _require_room(path, pages_of(conn), temp_folder(environ))
            conn.execute("vacuum")
            busy, _, _ = conn.execute("pragma wal_checkpoint(truncate)").fetchone()
    except sqlite3.Error as exc:
        raise CompactError(f"{path}: not compacted ({exc}); the archive is as it was") from exc
    return Compacted(before, files_size(path), settled=not busy)


def _require_room(path: Path, pages: Pages, temp: Path) -> None:
    """Refuse when the archive's folder or the temporary folder lacks room for a compacted copy."""
    folder = path.resolve().parent
    needs: dict[Path, int] = {}
    for where in (temp.resolve(), folder):
        # One file system, one pool of free bytes: add up what it must hold.
        same = next((f for f in needs if _device(f) == _device(where)), where)
        needs[same] = needs.get(same, 0) + pages.used_bytes
    free = {where: shutil.disk_usage(where).free for where in needs}
    short = shortfalls(needs, free)
    if short:
        raise CompactError(
            f"{path}: not enough room to compact it ({'; '.join(short)}): free some, or set "
            "SQLITE_TMPDIR to a folder with room; the archive is as it was"
        )


def _device(folder: Path) -> int:
    """Return the file system `folder` is on."""
    try:
        return folder.stat().st_dev
    except OSError as exc:
        raise StorageError(f"cannot read {folder}: {exc.strerror or exc}") from exc
