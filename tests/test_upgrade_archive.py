"""Upgrading an archive an older presswatch wrote: `presswatch upgrade-archive` applies its schema
updates and nothing else (no poll, no post), a line per update, on both backends; the reports'
refusal names it; `check` says how many updates wait; `extract`, which only reads, still works."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlite_utils import Database

from bot.cli.main import main
from storage.lock import InstanceLock
from storage.migrations import migrations
from tests.support.cli import channel_only_config
from tests.support.postgres import new_database, rows

# The first migration the session that added `status`' due column made; two follow it on main.
OUTBOX_DUE_AT = "m016_outbox_due_at"
ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests/fixtures/interaffairs-en/article-zas-briefing.html"
PAGE_URL = "https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/"


@pytest.fixture
def old_sqlite(tmp_path: Path, monkeypatch) -> Path:
    """Return a config whose SQLite archive stops before m016 (an older presswatch's)."""
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    old = Database(tmp_path / "archive.db")
    migrations.apply(old, stop_before=OUTBOX_DUE_AT)
    old.close()
    return channel_only_config(tmp_path, f'path = "{tmp_path / "archive.db"}"')


def _pending(path: Path) -> list[str]:
    """Return the SQLite migrations the archive at `path` lacks."""
    db = Database(path)
    try:
        return [m.name for m in migrations.pending(db)]
    finally:
        db.close()


def test_upgrade_archive_applies_each_update_saying_so_then_the_reports_read(
    old_sqlite: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    behind = _pending(tmp_path / "archive.db")
    assert behind[0] == OUTBOX_DUE_AT and len(behind) >= 2
    assert main(["upgrade-archive", "--config", str(old_sqlite)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"{tmp_path / 'archive.db'}: upgraded ({len(behind)} updates applied: "
        f"{', '.join(behind)}); the reports read it again"
    ]
    steps = [line.split("storage.upgrade: ", 1)[1] for line in out.err.splitlines()]
    assert steps[0].startswith(
        f"{tmp_path / 'archive.db'}: upgrading the archive an older presswatch wrote: "
        f"{len(behind)} updates to apply ({', '.join(behind)})"
    )
    assert [s.split(" in ")[0] for s in steps[1:]] == [
        f"{tmp_path / 'archive.db'}: applied {name} ({n} of {len(behind)})"
        for n, name in enumerate(behind, start=1)
    ]
    assert _pending(tmp_path / "archive.db") == []
    assert main(["status", "--config", str(old_sqlite)]) == 0
    capsys.readouterr()
    assert main(["upgrade-archive", "--config", str(old_sqlite)]) == 0
    assert (
        capsys.readouterr().out == f"{tmp_path / 'archive.db'}: already up to date; nothing to do\n"
    )


def test_upgrade_archive_waits_for_the_service_to_stop(
    old_sqlite: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    with InstanceLock(tmp_path / "archive.db", role="run"):
        assert main(["upgrade-archive", "--config", str(old_sqlite)]) == 1
    assert capsys.readouterr().err.endswith(f"is using {tmp_path / 'archive.db'}; stop it first\n")
    assert _pending(tmp_path / "archive.db")[0] == OUTBOX_DUE_AT


def test_check_says_how_many_updates_the_archive_waits_for(
    old_sqlite: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    behind = len(_pending(tmp_path / "archive.db"))
    assert main(["check", "--config", str(old_sqlite)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if "archive:" in line]
    assert line.strip() == (
        f"archive: {tmp_path / 'archive.db'} (exists; from an older presswatch: {behind} updates "
        "to apply, by `presswatch upgrade-archive` or the service's next start; until then the "
        "reports refuse it)"
    )
    assert _pending(tmp_path / "archive.db")[0] == OUTBOX_DUE_AT  # check wrote nothing


def test_extract_reads_a_page_beside_an_outdated_archive_and_says_what_its_plan_lacks(
    old_sqlite: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    code = main(["extract", str(PAGE), "--url", PAGE_URL, "--config", str(old_sqlite)])
    out = capsys.readouterr()
    assert code == 0
    assert '"title": "Briefing by CSTO Secretary General Stanislav Zas"' in out.out
    assert "run `presswatch upgrade-archive`" in out.err
    assert "extract planned as against an empty archive" in out.err
    assert _pending(tmp_path / "archive.db")[0] == OUTBOX_DUE_AT  # extract wrote nothing


@pytest.mark.postgres
def test_upgrade_archive_on_postgresql_applies_the_missing_update(
    postgres, tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    url = new_database(postgres, "presswatch_upgrade")
    # Undo p014 as if this archive were from before it: its column and its record.
    with psycopg.connect(url) as conn:
        conn.execute("alter table workers drop column http")
        conn.execute("delete from presswatch_migrations where name = 'p014_worker_http_address'")
    config = channel_only_config(tmp_path, f'url = "{url}"')
    assert main(["status", "--config", str(config)]) == 1
    said = capsys.readouterr()
    # status says it on stderr and prints no table
    assert "run `presswatch upgrade-archive`" in said.err and said.out == ""
    assert main(["upgrade-archive", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert out.out == (
        f"{url}: upgraded (1 update applied: p014_worker_http_address); the reports read it again\n"
    )
    assert f"{url}: applied p014_worker_http_address (1 of 1) in " in out.err
    assert rows(url, "select count(*) from information_schema.columns where column_name = 'http'")
    assert main(["status", "--config", str(config)]) == 0


def test_once_on_an_outdated_archive_logs_each_update_before_polling(
    old_sqlite: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    behind = _pending(tmp_path / "archive.db")
    main(["once", "--config", str(old_sqlite)])  # no sources: its exit status is not the point
    err = capsys.readouterr().err
    assert f"upgrading the archive an older presswatch wrote: {len(behind)} updates" in err
    assert f"applied {behind[-1]} ({len(behind)} of {len(behind)}) in " in err
    assert _pending(tmp_path / "archive.db") == []
