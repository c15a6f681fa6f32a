"""A config file that is not TOML, and a bot token in the environment that is not one, as an
operator mistypes them: one line naming the line and its key, or the variable (never the value,
which may be a secret), exit 2, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent

BASE = '[storage]\npath = "archive.db"\n\n[[sources]]\nkey = "wire"\nkind = "feed"\n'


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (
            BASE + 'url = "https://wire.example/feed"\nkey = "wire2"\n',
            "not valid TOML at line 8 (key = …): Cannot overwrite a value",
        ),
        (  # a dotted key given twice, which tomllib finds only at the document's end
            "channels = []\nfetch.timeout = 5\nfetch.timeout = 6",
            "not valid TOML at line 3 (fetch.timeout = …): Cannot overwrite a value",
        ),
        (
            '[storage\npath = "archive.db"\n',
            "not valid TOML at line 1 ([storage): Expected ']' at the end of a table declaration",
        ),
        (
            '[storage]\npath = "a.db"\n[storage]\n',
            "not valid TOML at line 3 ([storage]): Cannot declare ('storage',) twice",
        ),
        (  # a secret written YAML-style: its line is named, its value is not shown
            'channels = []\n[telegram]\ntoken: "123456:SECRET"\n',
            "not valid TOML at line 3: Expected '=' after a key in a key/value pair",
        ),
        (
            BASE + 'url = "https://wire.example/feed\n',
            "not valid TOML at line 7 (url = …): Illegal character '\\n'",
        ),
        (
            BASE + 'trailers = """never closed\n',
            "not valid TOML at the end of the file: Unterminated string",
        ),
    ],
    ids=["key twice", "key twice at the end", "header", "table twice", "colon", "quote", "eof"],
)
def test_a_toml_mistake_is_one_line_naming_its_line_and_key(
    tmp_path: Path, capsys, restore_logging, text: str, told: str
) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    status = main(["sources", "--config", str(path)])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert err == [f"presswatch: config error: {path}: {told}"]
    assert "SECRET" not in "\n".join(err)


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ('"123456:SECRET-token"', "it is wrapped in quotes"),
        ("bot123456:SECRET-token", "it starts with 'bot'"),
        ("123456:SECRET token", "it holds a space or a line break"),
        ("123456:SECRET\ntoken", "it holds a space or a line break"),
        ("123456:SECRET/../getUpdates?x=", "it is not shaped as BotFather gives one"),
        (
            "123456789:replace-with-the-token-from-BotFather",
            "it is the placeholder of deploy/presswatch.env.example",
        ),
    ],
    ids=["quotes", "bot prefix", "space", "line break", "a path", "the example's placeholder"],
)
def test_a_malformed_token_in_the_environment_is_one_line_naming_the_variable(
    tmp_path: Path, capsys, restore_logging, monkeypatch, token: str, why: str
) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(BASE + 'url = "https://wire.example/feed"\n', encoding="utf-8")
    monkeypatch.setenv("PRESSWATCH_TELEGRAM_TOKEN", token)
    status = main(["sources", "--config", str(path)])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith(
        "presswatch: config error: PRESSWATCH_TELEGRAM_TOKEN: not a bot token as BotFather "
        f"gives it: {why}"
    ), err
    assert err[0].endswith("(the token is not shown)") and "SECRET" not in err[0]


def test_check_refuses_the_example_env_file_s_placeholder_token(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(BASE + 'url = "https://wire.example/feed"\n', encoding="utf-8")
    example = (ROOT / "deploy" / "presswatch.env.example").read_text(encoding="utf-8")
    [token] = re.findall(r"(?m)^PRESSWATCH_TELEGRAM_TOKEN=(.+)$", example)
    monkeypatch.setenv("PRESSWATCH_TELEGRAM_TOKEN", token)
    assert main(["check", "--config", str(path)]) == 2
    out = capsys.readouterr()
    assert "valid" not in out.out
    assert out.err.splitlines() == [
        "presswatch: config error: PRESSWATCH_TELEGRAM_TOKEN: not a bot token as BotFather gives "
        "it: it is the placeholder of deploy/presswatch.env.example; put the token BotFather "
        "gave your bot (the token is not shown)"
    ]


def test_a_token_as_botfather_gives_it_is_accepted_without_its_surrounding_blanks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(BASE + 'url = "https://wire.example/feed"\n', encoding="utf-8")
    token = "987654321:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
    config = load_config(path, environ={"PRESSWATCH_TELEGRAM_TOKEN": f" {token}\n"})
    assert config.telegram.token == token
    with pytest.raises(ConfigError, match="^PRESSWATCH_TELEGRAM_TOKEN: "):
        load_config(path, environ={"PRESSWATCH_TELEGRAM_TOKEN": "987654321"})
