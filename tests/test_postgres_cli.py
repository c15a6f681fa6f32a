"""presswatch on PostgreSQL as a user runs it: `once`, `search` and the reports end to end on
loopback sites and a fake Telegram, and `migrate-archive` from an SQLite archive."""

from __future__ import annotations

import json
import os
import re
import signal
from functools import partial

import psycopg
import pytest

from bot.cli.main import main
from bot.cli.progress import Progress
from bot.config import load_config
from storage import Store
from storage.postgres.backend import PostgresBackend
from storage.postgres.copy import copy_archive, counts
from tests.fakes.telegram import DEFAULT_TOKEN, RateLimit
from tests.support.cli import presswatch as run_presswatch
from tests.support.postgres import new_database, point_at
from tests.support.world import write_config

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.telegram(rate_limit=RateLimit(per_chat_per_minute=60, global_per_second=30)),
]
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
CHANNEL = "@presswatch_test"
REPORTS = {
    "export": ("export", "--format", "jsonl"),
    "stats": ("stats", "--format", "json"),
    "sources": ("sources",),
}


def test_once_and_search_work_on_postgresql(world, telegram, tmp_path, postgres) -> None:
    url = new_database(postgres, "presswatch_once")
    config = point_at(
        write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10), url
    )
    first = presswatch("once", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert len(telegram.messages_for(CHANNEL)) == 6
    # --all: polled again at once, not when `every` comes.
    assert presswatch("once", "--all", "--config", str(config)).returncode == 0
    assert len(telegram.messages_for(CHANNEL)) == 6  # nothing posted twice
    # Without it, nothing is due yet: the last polls' starts are read from PostgreSQL too.
    early = presswatch("once", "--config", str(config))
    assert early.returncode == 0, early.stderr
    assert early.stderr.strip().splitlines()[-1].startswith("0 of ")
    assert " not due yet (next " in early.stderr.strip().splitlines()[-1]
    found = presswatch("search", "Stanislav Zas", "--format", "json", "--config", str(config))
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "Briefing by CSTO Secretary General Stanislav Zas"
    assert "[Zas]" in hits[0]["snippet"] or "[Stanislav]" in hits[0]["snippet"]
    # minus ts_rank, lower for the more relevant as bm25 on SQLite: the best scores 100.
    assert [(h["rank"], h["score"]) for h in hits[:1]] == [(1, 100)]
    assert all(0 < h["score"] <= 100 for h in hits), hits
    stats = json.loads(presswatch("stats", "--format", "json", "--config", str(config)).stdout)
    assert sum(r["articles"] for r in stats["sources"]) == 6
    status = presswatch("status", "--config", str(config))
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"archive: {url}" in status.stdout
    export = presswatch("export", "--format", "jsonl", "--config", str(config))
    assert len(export.stdout.splitlines()) == 6
    assert not (tmp_path / "archive.db").exists()  # nothing went to SQLite


def test_migrate_archive_copies_everything_and_compares_counts(world, tmp_path, postgres) -> None:
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0  # posts to the console
    url = new_database(postgres, "presswatch_moved")
    moved = presswatch("migrate-archive", "--to", url, "--config", str(config))
    assert moved.returncode == 0, moved.stderr
    assert re.search(r"(?m)^articles\s+6\s+6$", moved.stdout)
    assert "all 19 tables match" in moved.stdout
    assert re.search(r"(?m)^listing_links\s+(\d+)\s+\1$", moved.stdout)  # a 304's re-reads
    assert re.search(r"(?m)^chat_marks\s+(\d+)\s+\1$", moved.stdout)  # the probe's marks too
    with psycopg.connect(url) as conn:  # analysed: a worker's first plans know the table sizes
        assert (
            conn.execute("select reltuples from pg_class where relname = 'articles'").fetchone()[0]
            == 6
        )
    again = presswatch("migrate-archive", "--to", url, "--config", str(config))
    assert again.returncode == 0, again.stderr  # a finished copy resumes into nothing new
    before = {
        name: presswatch(*command, "--config", str(config)).stdout
        for name, command in REPORTS.items()
    }
    point_at(config, url)
    after = {
        name: presswatch(*command, "--config", str(config)).stdout
        for name, command in REPORTS.items()
    }
    assert after == before  # the same rows, timestamps and topics, read from either archive
    found = presswatch("search", "Stanislav Zas", "--format", "json", "--config", str(config))
    assert json.loads(found.stdout)[0]["title"].startswith("Briefing by CSTO")


def test_a_stopped_copy_resumes_without_doubling_rows(world, tmp_path, postgres) -> None:
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0  # posts to the console
    sqlite = Store.open(load_config(config).storage_path)
    backend = PostgresBackend(new_database(postgres, "presswatch_resumed"))
    target = backend.open()

    def stop_after_two_articles(table: str, rows: int) -> None:
        if table == "articles":
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            copy_archive(sqlite.db, target.db, batch=2, progress=stop_after_two_articles)
        assert target.db["articles"].count == 2
        copy_archive(sqlite.db, target.db, batch=2)
        assert all(c.equal for c in counts(sqlite.db, target.db))
        runs = target.db["runs"].insert(
            {"source_key": "x", "started_at": "2026-01-01T00:00:00+00:00", "status": "ok"}
        )
        assert runs.last_pk > sqlite.db["runs"].count  # new ids continue after the copied ones
    finally:
        sqlite.close()
        target.close()
        backend.close()


def test_different_counts_after_the_copy_exit_1_naming_the_table(world, tmp_path, postgres) -> None:
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0  # posts to the console
    url = new_database(postgres, "presswatch_busy")
    backend = PostgresBackend(url)
    store = backend.open()
    store.db["channels"].insert({"name": "elsewhere", "chat_id": "-100"})  # not from this archive
    store.close()
    backend.close()
    moved = presswatch("migrate-archive", "--to", url, "--config", str(config))
    assert moved.returncode == 1
    assert "counts differ after the copy: channels 0 in SQLite, 1 in PostgreSQL" in moved.stderr


def test_a_copy_into_a_database_a_service_wrote_to_is_refused(world, tmp_path, postgres) -> None:
    # Seen by an operator: migrate, run on PostgreSQL a while, go back to SQLite, migrate again.
    # The copy resumed after PostgreSQL's own newest article and said "all 15 tables match":
    # the counts were equal, while both archives held different articles under the same ids.
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0
    url = new_database(postgres, "presswatch_written")
    assert presswatch("migrate-archive", "--to", url, "--config", str(config)).returncode == 0
    with psycopg.connect(url) as conn:  # what a service on PostgreSQL stored under that id
        conn.execute(
            "update articles set url = 'https://elsewhere.example/1' "
            "where id = (select max(id) from articles)"
        )
    again = presswatch("migrate-archive", "--to", url, "--config", str(config))
    assert again.returncode == 1
    [line] = again.stderr.strip().splitlines()
    assert line.startswith("presswatch: ") and "https://elsewhere.example/1" in line
    assert "copy into an empty database" in line and "tables match" not in again.stdout


def test_a_copy_finds_articles_that_differ_under_equal_counts(world, tmp_path, postgres) -> None:
    # What the operator's second copy had left: ids below the newest held other articles.
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0
    url = new_database(postgres, "presswatch_mixed")
    assert presswatch("migrate-archive", "--to", url, "--config", str(config)).returncode == 0
    with psycopg.connect(url) as conn:
        conn.execute("update articles set url = 'https://elsewhere.example/2' where id = 2")
    again = presswatch("migrate-archive", "--to", url, "--config", str(config))
    assert again.returncode == 1 and re.search(r"(?m)^articles\s+6\s+6$", again.stdout)
    [line] = again.stderr.strip().splitlines()[-1:]
    assert "1 article differs between the archives (ids 2:" in line, line
    assert "tables match" not in again.stdout


def test_migrate_archive_refuses_a_password_in_the_url(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    result = presswatch(
        "migrate-archive", "--to", "postgresql://u:s3cret@localhost/db", "--config", str(config)
    )
    assert result.returncode == 2 and "never put the database password on the command line" in (
        result.stderr
    )
    assert "s3cret" not in result.stderr
    assert "example:" in presswatch("migrate-archive", "--help").stdout


def test_migrate_archive_takes_the_password_from_the_environment(
    world, tmp_path, monkeypatch
) -> None:
    # Seen by an operator following README's steps 3 and 4: the config is still SQLite's, so
    # PRESSWATCH_DATABASE_PASSWORD was dropped and the server said "no password supplied".
    from bot.cli.main import main
    from storage import StorageError

    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0  # an archive to copy
    given = []

    def refuse(self, url: str, *, password: str = "", **_) -> None:
        given.append(password)
        raise StorageError("stopped here: the password is all this test needs")

    monkeypatch.setattr(PostgresBackend, "__init__", refuse)
    monkeypatch.setenv("PRESSWATCH_DATABASE_PASSWORD", "s3cret")
    to = "postgresql://presswatch@db.example.org:5432/presswatch"
    assert main(["migrate-archive", "--to", to, "--config", str(config)]) == 1
    assert given == ["s3cret"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_migration_stopped_by_a_signal_says_how_far_and_the_rerun_where_it_resumes(
    world, tmp_path, postgres, monkeypatch, capsys, signum
) -> None:
    config = write_config(tmp_path, world)
    assert run_presswatch("once", "--config", str(config)).returncode == 0  # posts to the console
    url = new_database(postgres, f"presswatch_stopped_{signum}")
    advance = Progress.advance

    def stop_after_two_articles(self, n: int = 1, *, note: str = "") -> None:
        advance(self, n, note=note)
        if note == "articles":
            if signum == signal.SIGTERM:
                os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` or systemd would
            else:
                raise KeyboardInterrupt  # Ctrl-C, without signalling the test runner itself

    migrate = ["migrate-archive", "--to", url, "--batch", "2", "--config", str(config)]
    with monkeypatch.context() as patched:
        patched.setattr("bot.cli.migrate.Progress.advance", stop_after_two_articles)
        assert main(migrate) == 128 + signum
    stopped = capsys.readouterr().err
    done = re.search(
        r"stopped after (\d+) of (\d+) rows; rerun the same command to continue", stopped
    )
    assert done, stopped
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the default is back
    assert main(migrate) == 0
    rerun = capsys.readouterr().err
    assert f"resuming: {done[1]} of {done[2]} rows already copied" in rerun, rerun
    assert "running ANALYZE" in rerun
