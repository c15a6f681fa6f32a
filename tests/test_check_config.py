"""`presswatch check`: a config validated offline before the service is started on it; what it
sets up in a few lines, or each problem in one line naming its key, exit 2; nothing is written."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.main import main
from storage import Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import presswatch
from tests.support.offline import offline_config


def test_a_valid_config_is_summed_up_without_asking_anyone(tmp_path: Path) -> None:
    with FakeTelegram() as fake:
        config = offline_config(tmp_path, telegram=fake.base_url)
        config.write_text(config.read_text() + '[service]\nhttp = "[::1]:9108"\n')
        result = presswatch("check", "--config", str(config), token=DEFAULT_TOKEN)
        assert fake.requests == []  # the token's shape is checked, Telegram is not asked
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{config}: valid (nothing was fetched, sent or written)",
        "  sources: 2 (1 feed, 1 html), polled every 10m",
        "  channels: 1 (main)",
        f"  archive: {tmp_path / 'archive.db'} (created by the first `once` or `run`)",
        "  telegram: a token is set (PRESSWATCH_TELEGRAM_TOKEN); `presswatch once` asks Telegram "
        "whether it is accepted",
        "  health: /healthz and /metrics at [::1]:9108",
    ]
    assert not (tmp_path / "archive.db").exists()  # nothing written


def test_a_config_with_mistakes_names_each_key_on_one_line_and_exits_2(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    text = config.read_text().replace('kind = "feed"', 'kind = "rss"')
    config.write_text(text.replace("timeout = 5", 'timeout = "fast"'))
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    assert main(["check", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "presswatch: config error: sources[0] (alpha).kind: expected 'html' or 'feed', got 'rss'",
        "presswatch: config error: fetch.timeout: expected a number, got 'fast'",
    ]


def test_without_a_token_or_channels_it_says_what_that_means(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text('sources = []\n[storage]\nurl = "postgresql://pw@db.example:5432/pw"\n')
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "  sources: 0",
        "  channels: 0",
        "  archive: postgresql://pw@db.example:5432/pw (PostgreSQL; not contacted)",
        "  workers: the dispatcher looks for due sources every 2s; a killed worker's jobs move "
        "to the others within 14 s at most",
        "  telegram: no PRESSWATCH_TELEGRAM_TOKEN: posts are printed to the console instead",
        "  health: no [service] http",
        "warning: no [[channels]]: articles are archived but never posted; add a [[channels]] "
        "block, or write `channels = []` to say the archive alone is meant",
    ]


def test_an_archive_folder_this_user_cannot_write_exits_3_as_run_would(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    folder = tmp_path.resolve()
    real = os.access
    # A read-only mount, as os.access tells it (the tests run as root, whom modes do not stop).
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder and real(path, mode))
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    assert main(["check", "--config", str(config)]) == 3
    out, err = capsys.readouterr()
    # The first line says the problem, not "valid" above an exit 3.
    assert out.startswith(
        f"{config}: storage.path: this user cannot write in {folder} (nothing was fetched"
    )
    assert "valid" not in out
    assert err == (
        f"presswatch: storage.path: this user cannot write in {folder}; `run` and `once` would "
        "not start: point storage.path at a folder this user can write (systemd: "
        "/var/lib/presswatch)\n"
    )


def test_a_channel_naming_a_chat_that_became_a_supergroup_is_told_what_to_set(
    tmp_path: Path, capsys, restore_logging
) -> None:
    config = offline_config(tmp_path, telegram="http://127.0.0.1:9/bot")
    store = Store.open(tmp_path / "archive.db")
    try:  # what the relay recorded when Telegram answered "upgraded to a supergroup"
        store.outbox.channels.record_move("@presswatch_test", "-1004001", now=datetime.now(UTC))
    finally:
        store.close()
    assert main(["check", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "warning: channel main: chat @presswatch_test became the supergroup -1004001; its posts "
        "go there after the old id refuses the first of each start or reload; "
        'set chat_id = "-1004001" for this channel in the config'
    )
