"""A 404 from a wrong `telegram.api_base_url` reads to python-telegram-bot as a refused token:
`once`'s error and `run`'s start line both name the address beside the token (one rule), and
neither names it when the address is Telegram's own."""

from __future__ import annotations

from bot.config import TelegramConfig
from bot.service.reachability import token_refused
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import presswatch
from tests.support.offline import offline_config
from tests.support.service import RunningService, free_port
from tests.support.world import World, write_config

ADDRESS = "or telegram.api_base_url, whose wrong path is refused alike"


def wrong_path(fake: FakeTelegram) -> str:
    """Return the fake's address with a path it answers 404 (as a proxy's wrong prefix would)."""
    return fake.base_url.removesuffix("/bot") + "/api/bot"


def test_run_s_start_line_names_the_address_a_404_may_come_from(tmp_path) -> None:
    port = free_port()
    with FakeTelegram() as fake, World(keys=("interaffairs-en",)) as world:
        config = write_config(tmp_path, world, telegram_url=wrong_path(fake))
        config.write_text(config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n')
        with RunningService(config, port=port, token=DEFAULT_TOKEN) as service:
            at = service.wait_for_line("Telegram refused the bot token")
            assert service.stop() == 0
    line = service.log[at]
    assert " ERROR " in line and ADDRESS in line, line
    assert line.endswith("; nothing can be posted: posts stay queued until a restart with it fixed")


def test_once_and_run_word_the_refusal_alike(tmp_path) -> None:
    with FakeTelegram() as fake:
        config = offline_config(tmp_path, telegram=wrong_path(fake))
        result = presswatch("once", "--config", str(config), token=DEFAULT_TOKEN)
        custom = TelegramConfig(token=DEFAULT_TOKEN, api_base_url=wrong_path(fake))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"presswatch: {token_refused(custom)}; nothing was polled or posted"
    )
    assert ADDRESS in token_refused(custom)
    # Telegram's own address has no wrong path to blame: only the token is named.
    assert "api_base_url" not in token_refused(TelegramConfig(token=DEFAULT_TOKEN))
