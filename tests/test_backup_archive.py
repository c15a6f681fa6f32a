"""`presswatch backup-archive`: a consistent copy of the live SQLite archive (the backup API from
one read snapshot, or VACUUM INTO), written beside DEST and renamed only once checked.

Every archive here is a real SQLite file the real Store wrote; the articles are synthetic."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli.main import main
from storage import Store
from storage.backup import BackupError, back_up, part_of, quick_check
from tests.support.archive import add, sqlite_config
from tests.support.nobody import run_as_nobody

BODY = "Synthetic body of a press release about the talks. " * 40  # ~2 KB: many pages


def _archive(folder: Path, n: int = 120) -> Path:
    """Write an archive of `n` synthetic articles in `folder`; return its path."""
    path = folder / "archive.db"
    store = Store.open(path)
    for i in range(n):
        add(store, f"Release {i}", BODY)
    store.close()
    return path


def _titles(path: Path) -> set[str]:
    """Return the titles the archive at `path` holds, after checking its integrity."""
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
        return {row[0] for row in conn.execute("select title from articles")}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return _archive(tmp_path)


def test_a_backup_with_the_service_writing_between_its_steps_is_the_archive_at_its_start(
    archive: Path, tmp_path: Path
) -> None:
    before = _titles(archive)
    service = Store.open(archive)  # a second connection writing, as `presswatch run` does
    steps: list[int] = []
    # Twice the steps the archive's pages take at 8 a step: a copy that restarts goes past it.
    most = 2 * archive.stat().st_size // 4096 // 8

    def write_between_steps(done: int, total: int) -> None:
        steps.append(done)
        # Without one read snapshot the backup API starts over after every commit of another
        # connection: a copy that never ends. The bound turns that into a failure.
        assert len(steps) <= most, f"the backup restarted: {steps[-5:]} pages done"
        add(service, f"Written during the backup {len(steps)}", BODY)

    dest = tmp_path / "copy.db"
    try:
        back_up(archive, dest, step=8, progress=write_between_steps)
        after = _titles(archive)
    finally:
        service.close()
    assert len(steps) >= 5 and steps == sorted(steps)  # several steps, a commit after each
    assert after == before | {f"Written during the backup {i}" for i in range(1, len(steps) + 1)}
    assert _titles(dest) == before  # every row committed before it began, none half-way
    assert not part_of(dest).exists()


def test_backup_archive_writes_a_checked_copy_and_says_so(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    dest = tmp_path / "backups" / "presswatch.db"
    dest.parent.mkdir()
    assert (
        main(["backup-archive", str(dest), "--config", str(sqlite_config(tmp_path, archive))]) == 0
    )
    err = capsys.readouterr().err
    assert err.startswith(f"{dest}: a copy of {archive} as of the copy's start, ")
    assert "checked (quick_check ok)" in err and err.count("\n") == 1  # no bar off a terminal
    assert _titles(dest) == _titles(archive)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["presswatch.db"]


def test_an_existing_dest_is_refused_and_kept_unless_forced(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    config = sqlite_config(tmp_path, archive)
    dest = tmp_path / "old.db"
    dest.write_bytes(b"yesterday's backup")
    assert main(["backup-archive", str(dest), "--config", str(config)]) == 1
    assert capsys.readouterr().err == f"presswatch: {dest} exists: give --force to replace it\n"
    assert dest.read_bytes() == b"yesterday's backup" and not part_of(dest).exists()
    assert main(["backup-archive", str(dest), "--force", "--config", str(config)]) == 0
    assert _titles(dest) == _titles(archive) and not part_of(dest).exists()


def test_force_never_replaces_a_file_with_a_wal_beside_it_or_the_archive_itself(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    config = sqlite_config(tmp_path, archive)
    dest = tmp_path / "open.db"
    dest.write_bytes(b"in use")
    Path(f"{dest}-wal").write_bytes(b"its log")  # SQLite would replay it onto the new copy
    assert main(["backup-archive", str(dest), "--force", "--config", str(config)]) == 1
    assert capsys.readouterr().err.startswith(f"presswatch: {dest}-wal is beside {dest}: ")
    assert dest.read_bytes() == b"in use"
    assert main(["backup-archive", str(archive), "--force", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"presswatch: {archive} is the archive itself: name another file\n"
    )
    assert len(_titles(archive)) == 120


@pytest.mark.parametrize("where", ["missing/copy.db", "a-file/copy.db"])
def test_an_unwritable_dest_is_one_line_and_leaves_nothing(
    archive: Path, tmp_path: Path, where: str, capsys, restore_logging
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    config, dest = sqlite_config(tmp_path, archive), tmp_path / where
    listed = sorted(tmp_path.rglob("*"))
    assert main(["backup-archive", str(dest), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("presswatch: cannot write in ") and err.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == listed


def test_a_compacted_copy_leaves_out_the_free_pages(
    tmp_path: Path, capsys, restore_logging
) -> None:
    archive = _archive(tmp_path, n=200)
    with sqlite3.connect(archive) as conn:  # synthetic: deleted rows leave free pages behind
        conn.execute("delete from articles where title like 'Release 1%'")
    kept = _titles(archive)
    dest = tmp_path / "small.db"
    config = sqlite_config(tmp_path, archive)
    argv = ["backup-archive", str(dest), "--compact", "--progress", "--config", str(config)]
    assert main(argv) == 0
    err = capsys.readouterr().err  # one statement: no bar to draw, only the final line
    assert err.startswith(f"{dest}: a compacted copy of {archive}") and err.count("\n") == 1
    assert _titles(dest) == kept
    with closing(sqlite3.connect(dest)) as conn:
        assert conn.execute("pragma freelist_count").fetchone() == (0,)
    assert dest.stat().st_size < archive.stat().st_size


def test_a_postgresql_archive_is_pointed_to_pg_dump(tmp_path: Path, capsys, restore_logging):
    config = tmp_path / "presswatch.toml"
    config.write_text('[storage]\nurl = "postgresql://presswatch@db.example.org/pw"\n')
    assert main(["backup-archive", str(tmp_path / "x.db"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("presswatch: backup-archive: the archive is PostgreSQL ([storage] url)")
    assert "pg_dump --format=custom" in err and err.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


# -- a full disk: a small tmpfs (mounting needs root, as the suite runs here; skipped elsewhere) --


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Return a function that mounts a tmpfs of a size ("256k"); skip where this user may not."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk-{size}"
        disk.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], capture_output=True
        )
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_disk_too_small_for_the_copy_is_refused_before_writing(
    archive: Path, tmp_path: Path, small_disk: Callable[[str], Path], capsys, restore_logging
) -> None:
    disk = small_disk("256k")
    assert archive.stat().st_size > 256 * 1024
    dest = disk / "copy.db"
    assert (
        main(["backup-archive", str(dest), "--config", str(sqlite_config(tmp_path, archive))]) == 1
    )
    err = capsys.readouterr().err
    assert err.startswith(f"presswatch: not enough room in {disk}: the copy needs ")
    assert list(disk.iterdir()) == []


def test_a_disk_that_fills_up_mid_copy_leaves_nothing_behind(
    tmp_path: Path, small_disk: Callable[[str], Path]
) -> None:
    archive, disk = _archive(tmp_path, n=60), small_disk("1m")
    assert archive.stat().st_size < 1024 * 1024 - 64 * 1024  # room for it when the copy starts
    dest = disk / "copy.db"

    def fill_the_disk(done: int, total: int) -> None:
        # Another program takes the room left after the first step (no room is left to check).
        filler = disk / "filler"
        if not filler.exists():
            with filler.open("wb", buffering=0) as out:  # unbuffered: no write left at close
                try:
                    while True:
                        out.write(b"\0" * 4096)
                except OSError:
                    pass

    with pytest.raises(BackupError, match=r"^cannot write .*copy\.db: database or disk is full"):
        back_up(archive, dest, step=4, progress=fill_the_disk)
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_progress_draws_a_bar_before_the_final_line(
    archive: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    dest, config = tmp_path / "copy.db", sqlite_config(tmp_path, archive)
    assert main(["backup-archive", str(dest), "--progress", "--config", str(config)]) == 0
    bar, final = capsys.readouterr().err.rsplit("\n", 2)[:2]
    pages = archive.stat().st_size // 4096
    assert bar.startswith("\rbackup-archive [") and f" {pages}/{pages} 100% " in bar
    assert final.startswith(f"{dest}: a copy of {archive}")


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Path]:
    """Return a folder in /tmp anyone may write (pytest's own tmp_path is root's alone)."""
    made = Path(tempfile.mkdtemp(prefix="presswatch-backup-", dir="/tmp"))
    made.chmod(0o777)
    try:
        yield made
    finally:
        shutil.rmtree(made)


def test_a_folder_this_user_may_not_write_is_one_line_and_left_empty(
    shared: Path, capsys, restore_logging
) -> None:
    archive = _archive(shared, n=10)
    for path in shared.iterdir():
        path.chmod(0o644)
    config = sqlite_config(shared, archive)
    backups = shared / "backups"
    backups.mkdir()
    # Run it once as ourselves, so every module it needs is imported before the fork.
    assert main(["backup-archive", str(backups / "warm.db"), "--config", str(config)]) == 0
    (backups / "warm.db").unlink()
    capsys.readouterr()
    backups.chmod(0o755)  # root's: `nobody` may not write it
    try:
        code, err = run_as_nobody(
            backups, ["backup-archive", str(backups / "copy.db"), "--config", str(config)]
        )
    finally:
        backups.chmod(0o755)
    assert (code, err) == (
        1,
        f"presswatch: cannot write {backups / 'copy.db'}: Permission denied; nothing written\n",
    )
    assert list(backups.iterdir()) == []


def test_a_second_backup_to_the_same_dest_is_refused_while_the_first_writes_it(
    archive: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "copy.db"
    refused: list[str] = []

    def start_another(done: int, total: int) -> None:
        # Cron's run and an operator's, at once: the second must not take the first's DEST.part.
        if not refused:
            with pytest.raises(BackupError) as second:
                back_up(archive, dest)
            refused.append(str(second.value))

    back_up(archive, dest, step=8, progress=start_another)
    assert refused == [f"another backup-archive is writing {dest} ({part_of(dest)}); let it end"]
    assert _titles(dest) == _titles(archive)  # the first's copy, whole and checked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.db", "copy.db"]


def test_the_check_of_a_copy_gone_from_under_it_fails_and_makes_no_empty_one(tmp_path: Path):
    gone = tmp_path / "copy.db.part"  # removed by hand, say, between the copy and its check
    with pytest.raises(BackupError, match=r"^the copy cannot be checked \(unable to open"):
        quick_check(gone)
    assert list(tmp_path.iterdir()) == []  # not an empty database passing as the backup


@pytest.mark.parametrize("compact", [False, True])
def test_the_copy_reaches_the_disk_before_it_takes_dests_name(
    archive: Path, tmp_path: Path, compact: bool, monkeypatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:  # what each fsync makes durable, by the name it has then
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    dest = tmp_path / "copy.db"
    back_up(archive, dest, compact=compact)
    # After a power cut the name must not survive without the pages (VACUUM INTO may not sync).
    assert synced == [str(part_of(dest)), str(tmp_path)]
