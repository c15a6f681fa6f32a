"""`presswatch compact-archive`: VACUUM with the service stopped gives back the pages the runs
upkeep freed, after checking the room it needs. Real SQLite files; the polls are synthetic."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.main import main
from storage import InstanceLock, RunRecord, RunStatus, Store
from storage.compact import shortfalls, temp_folder
from storage.history import prune
from tests.support.archive import add, sqlite_config

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _pruned_archive(folder: Path) -> Path:
    """Write an archive whose runs upkeep deleted 30,000 old polls (synthetic); return it."""
    path = folder / "archive.db"
    store = Store.open(path)
    add(store, "Kept release", "Synthetic body.")
    old = (NOW - timedelta(days=90)).isoformat()
    with closing(sqlite3.connect(path)) as conn, conn:  # one transaction: fast
        conn.executemany(
            "insert into runs (source_key, started_at, finished_at, status, error) "
            "values ('tass-com', ?, ?, 'not_modified', ?)",
            [(old, old, f"synthetic poll {i} " + "x" * 60) for i in range(30_000)],
        )
    store.sources.record_run(RunRecord("tass-com", NOW, NOW, RunStatus.OK))  # its last good poll
    assert sum(prune(store.db, before=NOW - timedelta(days=30))) == 30_000  # the upkeep's own
    store.close()
    return path


def _state(path: Path) -> tuple[int, int, list[tuple]]:
    """Return the archive's free pages, its runs count and the integrity check's answer."""
    with closing(sqlite3.connect(path)) as conn:
        return (
            conn.execute("pragma freelist_count").fetchone()[0],
            conn.execute("select count(*) from runs").fetchone()[0],
            conn.execute("pragma integrity_check").fetchall(),
        )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return _pruned_archive(tmp_path)


def test_compact_archive_shrinks_the_file_after_the_upkeep_deleted_polls(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    free, runs, _ = _state(archive)
    before = archive.stat().st_size
    assert free * 4096 > before / 2  # the deleted polls' pages, kept by the file
    assert main(["compact-archive", "--config", str(sqlite_config(tmp_path, archive))]) == 0
    out = capsys.readouterr()
    assert out.err == f"{archive}: compacting (VACUUM); the service cannot start until it ends\n"
    assert out.out.startswith(f"{archive}: compacted from ") and "given back)" in out.out
    assert archive.stat().st_size < before / 2
    assert _state(archive) == (0, runs, [("ok",)])
    assert not Path(f"{archive}-wal").exists() or Path(f"{archive}-wal").stat().st_size == 0
    store = Store.open(archive)  # and the service opens it as before
    try:
        assert store.db.execute("select title from articles").fetchall() == [("Kept release",)]
    finally:
        store.close()


def test_compact_archive_refuses_while_the_service_holds_the_archive(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    before, state = archive.stat().st_size, _state(archive)
    with InstanceLock(archive, role="run"):
        assert main(["compact-archive", "--config", str(sqlite_config(tmp_path, archive))]) == 1
    assert capsys.readouterr().err.endswith(f"is using {archive}; stop it first\n")
    assert (archive.stat().st_size, _state(archive)) == (before, state)


def test_compact_archive_on_postgresql_says_what_to_use(tmp_path, capsys, restore_logging):
    config = tmp_path / "presswatch.toml"
    config.write_text('[storage]\nurl = "postgresql://presswatch@db.example.org/pw"\n')
    assert main(["compact-archive", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("presswatch: compact-archive: the archive is PostgreSQL")
    assert "VACUUM FULL" in err and err.count("\n") == 1


def test_sqlite_picks_its_temporary_folder_from_the_environment_first(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    second.mkdir()
    assert temp_folder({"SQLITE_TMPDIR": str(first), "TMPDIR": str(second)}) == second
    first.mkdir()
    assert temp_folder({"SQLITE_TMPDIR": str(first), "TMPDIR": str(second)}) == first


def test_a_folder_short_of_room_is_named_with_what_it_needs() -> None:
    a, b = Path("/srv/presswatch"), Path("/var/tmp")
    needs, free = {a: 3 * 2**20, b: 3 * 2**20}, {a: 10 * 2**20, b: 2 * 2**20}
    assert shortfalls(needs, free) == ["/var/tmp needs 3.0 MiB, has 2.0 MiB free"]
    assert shortfalls(needs, {a: 3 * 2**20, b: 3 * 2**20}) == []


@pytest.fixture
def small_temp(tmp_path: Path) -> Iterator[Path]:
    """Mount a 128 KiB tmpfs as SQLite's temporary folder; skip where this user may not mount."""
    disk = tmp_path / "tmp"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_compact_archive_checks_the_temporary_folder_has_room_first(
    archive: Path, tmp_path: Path, small_temp: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.setenv("SQLITE_TMPDIR", str(small_temp))
    before, state = archive.stat().st_size, _state(archive)
    assert main(["compact-archive", "--config", str(sqlite_config(tmp_path, archive))]) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"presswatch: {archive}: not enough room to compact it ({small_temp}")
    assert err.endswith("the archive is as it was")
    assert (archive.stat().st_size, _state(archive)) == (before, state)
    assert list(small_temp.iterdir()) == []


def test_compact_archive_without_an_archive_says_so_and_makes_nothing(
    tmp_path: Path, capsys, restore_logging
) -> None:
    missing = tmp_path / "not-yet" / "archive.db"
    assert main(["compact-archive", "--config", str(sqlite_config(tmp_path, missing))]) == 1
    assert capsys.readouterr().err == (
        f"presswatch: no archive at {missing} yet: `presswatch once` or `run` makes it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["presswatch.toml"]  # no lock, no folder
