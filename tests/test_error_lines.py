"""An error the command line prints is one line, whatever the library's text: libpq ends its
"connection refused" with a hint on a line of its own, which a journal would show as another;
and every command tells it the same way."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from bot.cli.main import main
from storage.migrations import migrations
from tests.support.offline import closed_port


def test_an_unreachable_postgresql_is_told_on_one_line(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    url = f"postgresql://presswatch@127.0.0.1:{closed_port()}/presswatch"
    config = tmp_path / "presswatch.toml"
    config.write_text(f'channels = []\nsources = []\n[storage]\nurl = "{url}"\n')
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    assert main(["status", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    [line] = err.splitlines()
    assert line.startswith(f"presswatch: {url}: cannot connect: "), err
    # libpq's hint is kept, after the reason, on the same line.
    assert "Connection refused; Is the server running on that host" in line, err


def test_an_outdated_archive_is_told_alike_by_status_and_the_other_readers(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    old = Database(tmp_path / "archive.db")
    migrations.apply(old, stop_before="m016_outbox_due_at")
    old.close()
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f'channels = []\nsources = []\n[storage]\npath = "{tmp_path / "archive.db"}"\n'
    )
    said = {}
    for command in (["status"], ["stats"], ["search", "news"]):
        assert main([*command, "--config", str(config)]) == 1, command
        out = capsys.readouterr()
        assert out.out == "", command
        said[command[0]] = out.err
    # One line, on standard error, with the prefix every command's error has.
    assert said["status"] == said["stats"] == said["search"], said
    [line] = said["status"].splitlines()
    assert line.startswith(f"presswatch: {tmp_path / 'archive.db'}: the archive is from an older")
