"""An error the command line prints is one line, whatever the library's text: libpq ends its
"connection refused" with a hint on a line of its own, which a journal would show as another."""

from __future__ import annotations

from pathlib import Path

from bot.cli.main import main
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
