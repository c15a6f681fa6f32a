"""A config file that is not TOML, as an operator mistypes it: one line naming the line and its key
(never the value, which may be a secret pasted in the wrong place), exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main

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
