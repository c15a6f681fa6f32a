"""The config loader: the shipped example loads, and every mistake names its key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_duration
from scrapers.fetch import FetchPolicy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None):
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=environ or {})


def test_example_config_loads_with_the_documented_values(tmp_path: Path) -> None:
    config = _load(tmp_path, EXAMPLE)
    assert config.storage_path == tmp_path / "presswatch.db"
    assert config.fetch.timeout == 20 and config.fetch.min_delay_per_host == 1.0
    assert config.fetch.allow_private_addresses is False
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.telegram.token == ""
    assert [c.chat_id for c in config.channels] == ["@my_channel"]
    source = config.source("interaffairs-en")
    assert (source.kind, source.timezone, source.every_seconds, source.backfill) == (
        "html",
        "Europe/Moscow",
        600,
        0,
    )


def test_example_fetch_defaults_match_the_code(tmp_path: Path) -> None:
    config, default = _load(tmp_path, EXAMPLE).fetch, FetchPolicy()
    assert (config.max_bytes, config.retries) == (default.max_bytes, default.retries)


def test_token_comes_from_the_environment(tmp_path: Path) -> None:
    config = _load(tmp_path, EXAMPLE, environ={"PRESSWATCH_TELEGRAM_TOKEN": "123:abc"})
    assert config.telegram.token == "123:abc"
    assert "123:abc" not in repr(config.telegram)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[fetch]\n", "[fetch]\ntimeot = 5\n"), "fetch.timeot: unknown key"),
        (("timeout = 20 ", 'timeout = "fast" '), "fetch.timeout: expected a number"),
        (
            ("link_pattern = '^https://tass", "link_pattern = '^(https://tass"),
            "sources[1] (tass-com).link_pattern: not a valid regular expression",
        ),
        (
            (
                'timezone = "Europe/Moscow"\nevery = "10m"\nbackfill = 0\nfetch_pages',
                'timezone = "Mars/Olympus"\nevery = "10m"\nbackfill = 0\nfetch_pages',
            ),
            "sources[1] (tass-com).timezone: unknown time zone",
        ),
        (
            ('every = "10m"                          # poll', 'every = "often"   # poll'),
            "sources[0] (interaffairs-en).every: expected a duration",
        ),
        (('chat_id = "@my_channel"', 'chat_id = "my channel"'), "channels[0].chat_id"),
        (
            ("[telegram]\n", '[telegram]\ntoken = "123:abc"\n'),
            "telegram.token: put the bot token in the environment",
        ),
        (
            ('key = "tass-com"', 'key = "interaffairs-en"'),
            "sources[1] (interaffairs-en).key: duplicate key",
        ),
        (
            ("link_pattern = '^https://en", "# link_pattern = '^https://en"),
            "sources[0] (interaffairs-en).link_pattern: required",
        ),
        (
            ('kind = "feed"\nurl', 'kind = "rss"\nurl'),
            "sources[1] (tass-com).kind: expected .html. or .feed., got .rss.",
        ),
    ],
)
def test_errors_name_the_key_path(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in EXAMPLE
    with pytest.raises(ConfigError, match=re.sub(r"([][()])", r"\\\1", message)):
        _load(tmp_path, EXAMPLE.replace(change[0], change[1], 1))


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        _load(tmp_path, "[storage\npath = 1")


@pytest.mark.parametrize(
    ("text", "seconds"), [("10m", 600), ("1h30m", 5400), ("45s", 45), ("2d", 172800), (90, 90)]
)
def test_parse_duration(text, seconds: int) -> None:
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize("bad", ["0s", "ten minutes", "", -5, True])
def test_parse_duration_rejects(bad) -> None:
    with pytest.raises(ConfigError):
        parse_duration(bad, "x")


def test_admin_user_ids_are_numbers(tmp_path: Path) -> None:
    config = _load(
        tmp_path, EXAMPLE.replace("[telegram]\n", "[telegram]\nadmin_user_ids = [123, 456]\n")
    )
    assert config.telegram.admin_user_ids == (123, 456)
    with pytest.raises(ConfigError, match="telegram.admin_user_ids: expected a list of numbers"):
        _load(tmp_path, EXAMPLE.replace("[telegram]\n", '[telegram]\nadmin_user_ids = ["me"]\n'))


def test_list_items_are_type_checked(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"sources\[0\] \(interaffairs-en\).drop_lines: expected a list of strings",
    ):
        _load(
            tmp_path,
            EXAMPLE.replace(
                'trailers = ["read more', 'drop_lines = [5]\ntrailers = ["read more', 1
            ),
        )


def test_css_selectors_are_checked(tmp_path: Path) -> None:
    bad = EXAMPLE.replace(
        'trailers = ["read more', '[sources.selectors]\nbody = "div[[bad"\n\n#', 1
    )
    with pytest.raises(
        ConfigError,
        match=r"sources\[0\] \(interaffairs-en\).selectors.body: not a valid CSS selector",
    ):
        _load(tmp_path, bad)
