"""A read-only command on an archive an older presswatch wrote (the package upgraded, the service
not yet restarted) says so in one line, on both backends, rather than failing on a column its
queries name and the archive lacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool
from sqlite_utils import Database

from bot.cli.main import main
from storage.migrations import migrations
from storage.postgres.migrations import MIGRATIONS, TABLE
from tests.support.cli import channel_only_config
from tests.support.postgres import new_database, rows

# The first migration this session added: status reads the column it adds (outbox.due_at).
OUTBOX_DUE_AT = "m016_outbox_due_at"
NEWEST_SQLITE = migrations._migrations[-1].name
NEWEST_POSTGRES = MIGRATIONS[-1].__name__


def _run(command: str, config: Path, capsys) -> tuple[int, str]:
    """Run a read-only command; return its exit status and the one line it printed."""
    words = ["news"] if command == "search" else []
    code = main([command, *words, "--config", str(config)])
    out = capsys.readouterr()
    [line] = (out.out + out.err).splitlines()
    return code, line


def test_status_on_an_sqlite_archive_from_before_the_newest_migration_says_so(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    old = Database(tmp_path / "archive.db")
    migrations.apply(old, stop_before=OUTBOX_DUE_AT)
    old.close()
    config = channel_only_config(tmp_path, f'path = "{tmp_path / "archive.db"}"')
    behind = len(migrations._migrations) - [m.name for m in migrations._migrations].index(
        OUTBOX_DUE_AT
    )
    for command in ("status", "stats", "search"):
        code, line = _run(command, config, capsys)
        assert code == 1, command
        assert line.endswith(
            f"{tmp_path / 'archive.db'}: the archive is from an older presswatch "
            f"({behind} updates to apply, from {OUTBOX_DUE_AT}): run `presswatch "
            "upgrade-archive`, or restart the service, to bring it up to date"
        ), (command, line)


@pytest.mark.postgres
def test_status_on_a_postgresql_archive_missing_a_migration_says_so(
    postgres, tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    url = new_database(postgres, "presswatch_outdated")
    rows(url, f"delete from {TABLE} where name = %s returning name", NEWEST_POSTGRES)
    code, line = _run("status", channel_only_config(tmp_path, f'url = "{url}"'), capsys)
    assert code == 1
    assert line.endswith(
        f"the archive is from an older presswatch (1 update to apply, from {NEWEST_POSTGRES}): "
        "run `presswatch upgrade-archive`, or restart the service, to bring it up to date"
    ), line


@pytest.mark.postgres
def test_the_check_gives_its_connection_back_to_the_pool(postgres_archive) -> None:
    """Each read-only open checks the migrations on a pooled connection and returns it."""
    for _ in range(postgres_archive.pool.max_size + 2):
        postgres_archive.require_current()
        postgres_archive.open_read_only().close()
    assert postgres_archive.pool.get_stats()["requests_waiting"] == 0


def test_status_opens_an_sqlite_archive_once(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    path = tmp_path / "archive.db"
    fresh = Database(path)
    migrations.apply(fresh)
    fresh.close()
    opened: list[str] = []
    connect = sqlite3.connect

    def spy(target, *args, **kwargs):
        opened.append(str(target))
        return connect(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    assert main(["status", "--config", str(channel_only_config(tmp_path, f'path = "{path}"'))]) == 0
    assert [t for t in opened if path.name in t] == [f"{path.as_uri()}?mode=ro"]
    assert "archive: " in capsys.readouterr().out


@pytest.mark.postgres
def test_status_reads_a_postgresql_archive_on_one_connection(
    postgres_archive, tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    url = postgres_archive.url  # current: every migration applied
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    borrowed: list[object] = []
    getconn = ConnectionPool.getconn

    def spy(pool, *args, **kwargs):
        borrowed.append(pool)
        return getconn(pool, *args, **kwargs)

    monkeypatch.setattr(ConnectionPool, "getconn", spy)
    assert main(["status", "--config", str(channel_only_config(tmp_path, f'url = "{url}"'))]) == 0
    # One to ask whether the archive exists, one to check its migrations and read it.
    assert len(borrowed) == 2
    assert f"archive: {url}" in capsys.readouterr().out
