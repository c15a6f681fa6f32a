"""A reader who may read the archive but not write its folder (`runuser -u nobody -- presswatch
status`): SQLite's WAL wants to create the `-shm` index beside the archive.

The reader runs in a forked child that drops to `nobody` when the tests run as root (root writes
any folder); otherwise the folder is made read-only. The folder is in /tmp, which `nobody` may
enter (pytest's own tmp_path is root's alone). A reader that opened the archive as immutable
while a service starts writing it must refuse rather than answer from the pages it cached.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from scrapers.models import Article
from storage import Store, readonly
from tests.support.nobody import become_nobody, run_as_nobody
from tests.support.offline import offline_config


@pytest.fixture
def folder() -> Iterator[Path]:
    """Return a folder in /tmp that others may enter and read."""
    made = Path(tempfile.mkdtemp(prefix="presswatch-reader-", dir="/tmp"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        made.chmod(0o755)
        shutil.rmtree(made)


def archive_in(folder: Path) -> Path:
    """Write a config and a closed archive holding one article; return the config."""
    config = offline_config(folder, telegram="https://api.telegram.org/bot")
    store = Store.open(folder / "archive.db")
    store.add_article(
        Article(
            url="https://tass.com/politics/1",
            canonical_url="https://tass.com/politics/1",
            title="Geneva talks resume",
            published=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            body="Synthetic body: the talks resume in Geneva.",
        ),
        source_key="alpha",
        now=datetime(2026, 12, 1, 9, 5, tzinfo=UTC),
    )
    store.close()
    for path in folder.iterdir():
        path.chmod(0o755 if path.is_dir() else 0o644)
    return config


def warm_up(folder: Path, argv: tuple[str, ...]) -> None:
    """Run the command as ourselves on a copy, so that every module it needs is imported before
    the fork (`nobody` may not read this interpreter's library) and the folder stays as it is."""
    copy = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        for path in folder.iterdir():
            shutil.copy(path, copy / path.name)
        config = copy / "presswatch.toml"
        config.write_text(config.read_text().replace(str(folder), str(copy)))
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            main([str(config) if arg.startswith(str(folder)) else arg for arg in argv])
    finally:
        shutil.rmtree(copy)


def as_reader(folder: Path, *argv: str) -> tuple[int, str]:
    """Run `presswatch ARGV` as a user who may not write `folder`; return its status and output."""
    warm_up(folder, argv)
    return run_as_nobody(folder, list(argv))


def test_status_and_search_read_a_closed_archive_whose_folder_they_cannot_write(folder) -> None:
    config = archive_in(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db", "presswatch.toml"]
    code, output = as_reader(folder, "status", "--config", str(config))
    assert "cannot read" not in output and "readonly" not in output, output
    assert f"archive: {folder / 'archive.db'}" in output
    assert code == 0 and "service: not running" in output, output
    code, output = as_reader(folder, "search", "Geneva", "--config", str(config))
    assert code == 0 and "Geneva talks resume" in output, output
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db", "presswatch.toml"]


def test_a_reader_of_an_archive_with_a_wal_to_recover_is_told_what_to_do(folder) -> None:
    config = archive_in(folder)
    # Synthetic: a writer's commit left in the -wal (as a killed service leaves it), no -shm.
    elsewhere = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        shutil.copy(folder / "archive.db", elsewhere / "archive.db")
        writer = sqlite3.connect(elsewhere / "archive.db")
        writer.execute("pragma wal_autocheckpoint = 0")
        writer.execute("update articles set title = 'Geneva talks end'")
        writer.commit()
        shutil.copy(elsewhere / "archive.db-wal", folder / "archive.db-wal")
        writer.close()
    finally:
        shutil.rmtree(elsewhere)
    (folder / "archive.db-wal").chmod(0o644)
    code, output = as_reader(folder, "search", "Geneva", "--config", str(config))
    assert code == 1
    assert output.strip() == (
        f"presswatch: {folder / 'archive.db'}: cannot read the archive (SQLite needs to create "
        f"archive.db-shm beside the archive (WAL mode) and this user may not write in {folder}: "
        f"run the command as the archive's owner (sudo -u {folder.owner()} presswatch …), or "
        "let this user write that folder)"
    )
    code, output = as_reader(folder, "status", "--config", str(config))
    assert code == 1 and output.startswith(f"cannot read {folder / 'archive.db'}: SQLite needs")


def read_twice(db: os.PathLike, between) -> str:
    """Read the title as a reader who may not write the folder, run `between`, read it again."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            become_nobody(Path(os.path.dirname(db)))
            conn = readonly.connect(db, timeout=1)
            said = [conn.execute("select title from articles").fetchone()[0]]
            os.write(ready_w, b".")
            os.read(go_r, 1)  # the parent has written meanwhile
            try:
                said.append(conn.execute("select title from articles").fetchone()[0])
            except Exception as exc:  # what the command would print
                said.append(f"{type(exc).__name__}: {exc}")
            os.write(out_w, "\n".join(said).encode())
        finally:
            os._exit(0)
    os.read(ready_r, 1)
    os.chmod(os.path.dirname(db), 0o755)
    between()
    os.write(go_w, b".")
    os.close(out_w)
    with os.fdopen(out_r, encoding="utf-8") as pipe:
        said = pipe.read()
    os.waitpid(pid, 0)
    return said


def test_an_immutable_reader_refuses_once_a_service_wrote_the_archive(folder) -> None:
    archive_in(folder)
    db = folder / "archive.db"

    def service_starts() -> None:
        writer = sqlite3.connect(db)
        writer.execute("update articles set title = 'Geneva talks end'")
        writer.commit()
        writer.execute("pragma wal_checkpoint(truncate)")  # into the main file, as it would
        writer.close()

    first, then = read_twice(db, service_starts).split("\n")
    assert first == "Geneva talks resume"
    # It was answering 'Geneva talks resume' still, from the page it cached (wrong counts, or
    # "database disk image is malformed", when the checkpoint moved pages it cached).
    assert then.startswith("StorageError: archive.db was written while it was read"), then


def test_an_immutable_reader_answers_while_nothing_writes(folder) -> None:
    archive_in(folder)
    db = folder / "archive.db"
    assert read_twice(db, lambda: None) == "Geneva talks resume\nGeneva talks resume"
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db", "presswatch.toml"]
