"""An immutable read's cursor checks the archive's file on every way of taking a row."""

from __future__ import annotations

import os
import sqlite3

import pytest

from storage.lock import StorageError
from storage.readonly import _Immutable


@pytest.fixture
def reader(tmp_path):
    """An immutable connection to a small synthetic file, watched as the read-only path does."""
    path = tmp_path / "archive.db"
    with sqlite3.connect(path) as setup:
        setup.execute("create table t (n integer)")
        setup.executemany("insert into t values (?)", [(n,) for n in range(3)])
    setup.close()
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, factory=_Immutable)
    connection.watch(path)
    yield connection, path
    connection.close()


def _written(path) -> None:
    """Stand for a service writing the file: its modification time moves."""
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("take", ["fetchone", "next"])
def test_a_row_taken_after_the_file_was_written_is_refused(reader, take) -> None:
    connection, path = reader
    cursor = connection.execute("select n from t order by n")  # reads up to the first row
    assert cursor.fetchone() == (0,)
    _written(path)
    with pytest.raises(StorageError, match="was written while it was read"):
        cursor.fetchone() if take == "fetchone" else next(cursor)


def test_fetchone_reads_every_row_then_none_while_nothing_writes(reader) -> None:
    connection, _ = reader
    cursor = connection.execute("select n from t order by n")
    assert [cursor.fetchone() for _ in range(4)] == [(0,), (1,), (2,), None]
