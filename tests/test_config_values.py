"""Values a sweep of mutated configs (conf15) found accepted, or refused without saying what is
expected: each is now one line naming its key and what it wants, exit 2, at load."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.support.cli import presswatch
from tests.support.configs import config_text, run_sources


def _message(lines: list[str]) -> list[str]:
    """Return each config error line without its prefix and key path."""
    return [line.removeprefix("presswatch: config error: ").split(": ", 1)[1] for line in lines]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            r'user_agent = "bot/1\r\nX-Evil: 1"',
            "expected printable ASCII on one line, as an HTTP header holds (no line breaks, "
            "control or non-ASCII characters), got 'bot/1\\r\\nX-Evil: 1'",
        ),
        (
            'user_agent = "бот/1"',
            "expected printable ASCII on one line, as an HTTP header holds (no line breaks, "
            "control or non-ASCII characters), got 'бот/1'",
        ),
        (f'user_agent = "{"x" * 513}"', "expected at most 512 characters, got 513"),
        # h11 refuses such a value on every request, which read as "connection failed".
        ('user_agent = "x "', "expected no space or tab at either end, got 'x '"),
        (r'user_agent = "\tx"', "expected no space or tab at either end, got '\\tx'"),
        (
            'user_agent = ""',
            "expected a name and a contact such as 'presswatch/0.1 (+https://example.org/contact)', "
            "got ''",
        ),
    ],
)
def test_a_header_value_is_printable_ascii_on_one_line(
    tmp_path, capsys, restore_logging, line, message
) -> None:
    # A CR/LF in the User-Agent passed `check`, then every poll failed as "connection failed".
    status, lines = run_sources(tmp_path, config_text({"fetch": line}), capsys)
    assert (status, [x.split(": ")[2] for x in lines], _message(lines)) == (
        2,
        ["fetch.user_agent"],
        [message],
    )


def test_a_user_agent_of_512_characters_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text({"fetch": f'user_agent = "{"x" * 512}"'}), encoding="utf-8")
    assert load_config(path, environ={}).fetch.user_agent == "x" * 512


@pytest.mark.parametrize(
    ("value", "shown"),
    [("5", "5"), ("true", "true"), ("2.5", "2.5"), ('"x"', "'x'"), ("{ a = 1 }", "a table {…}")],
)
def test_sources_that_are_no_array_of_tables_give_one_line(
    tmp_path, capsys, restore_logging, value, shown
) -> None:
    # A number was a TypeError traceback; a string added "channels[0].sources: unknown source".
    text = config_text({"channels[0]": 'sources = ["alpha"]'}, top=f"sources = {value}\n")
    text = text.split("\n\n[[sources]]")[0] + "\n"
    status, lines = run_sources(tmp_path, text, capsys)
    assert (status, lines) == (
        2,
        [f"presswatch: config error: sources: expected [[sources]] entries, got {shown}"],
    )


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        (
            "storage",
            'path = ""',
            "expected the archive's file name such as 'presswatch.db', got ''",
        ),
        (
            "channels[0]",
            'template = ""',
            "expected a Jinja2 template such as '<b>{{ title }}</b>', got ''",
        ),
        (
            "channels[0]",
            'template_file = " "',
            "expected a template file's path such as 'post.j2', got ' '",
        ),
        ("sources[0]", 'name = ""', "expected the name posts show, such as 'TASS', got ''"),
        (
            "channels[0]",
            'quiet_hours = "7:00-07:00"',
            "starts and ends at 07:00, so it would never be quiet: expected two different times "
            "such as '23:00-07:00', got '7:00-07:00'",
        ),
        (
            "service",
            'http = "::1:9108"',
            "expected an IPv6 address in brackets such as '[::1]:9108', got '::1:9108'",
        ),
        (
            "sources[0]",
            'pages = "https://{page}.alpha.example/feed"',
            "expected {page} in the path or query after the site's host, such as "
            "'https://example.org/news?page={page}', got 'https://{page}.alpha.example/feed'",
        ),
        (
            "telegram",
            'uncertain = "probe"\nprobe_chat_id = 0',  # not also '"probe" needs probe_chat_id'
            "not a Telegram chat id: 0",
        ),
    ],
)
def test_a_refusal_says_what_is_expected(
    tmp_path, capsys, restore_logging, block, line, message
) -> None:
    status, lines = run_sources(tmp_path, config_text({block: line}), capsys)
    assert (status, _message(lines)) == (2, [message])


def test_a_database_port_out_of_range_is_refused_at_load(tmp_path, capsys, restore_logging) -> None:
    # It passed `check`, and `once` failed with libpq's "invalid port number".
    url = 'url = "postgresql://pw@db.example:99999/pw"'
    status, lines = run_sources(
        tmp_path, config_text([("storage", "path"), ("storage", url)]), capsys
    )
    assert (status, lines) == (
        2,
        [
            "presswatch: config error: storage.url: expected a port from 1 to 65535, "
            "got 'pw@db.example:99999'"
        ],
    )


def test_a_test_server_on_this_machine_may_be_polled_every_second(tmp_path: Path) -> None:
    loopback = [
        ("sources[0]", 'url = "http://127.0.0.1:8080/feed"'),
        ("sources[0]", 'every = "1s"'),
        ("sources[1]", 'url = "http://localhost:8080/"'),
        ("sources[1]", 'every = "2s"'),
        ("sources[2]", 'url = "http://[::1]:8080/"'),
        ("sources[2]", "every = 1"),
    ]
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text(loopback), encoding="utf-8")
    assert [s.every_seconds for s in load_config(path, environ={}).sources] == [1, 2, 1]
    path.write_text(config_text({"sources[0]": 'every = "1m"'}), encoding="utf-8")
    assert load_config(path, environ={}).sources[0].every_seconds == 60


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'label = "Mine"\nphrases = ["x", "y"]\nthreshold = 5.91',
            "topics.mine.threshold: expected a number above 0 and at most 5.90, the most its 2 "
            "rules can earn (a rule at most 2.95: 6 hits, each in the title), got 5.91",
        ),
        (
            'label = "Mine"\nphrases = ["x"]\nthreshold = inf',
            "topics.mine.threshold: expected a number above 0 and at most 2.95, the most its 1 "
            "rule can earn (a rule at most 2.95: 6 hits, each in the title), got inf",
        ),
        (
            'label = ""\nphrases = ["x"]',
            "topics.mine.label: expected the name readers see, such as 'Economy', got ''",
        ),
    ],
)
def test_an_own_topic_s_threshold_must_be_reachable_and_its_label_named(
    tmp_path, capsys, restore_logging, table, message
) -> None:
    status, lines = run_sources(tmp_path, config_text() + f"\n[topics.mine]\n{table}\n", capsys)
    assert (status, lines) == (2, [f"presswatch: config error: {message}"])


def test_a_threshold_a_title_can_reach_is_accepted(tmp_path: Path) -> None:
    # Weights count: two rules of weight 2 reach 4 x 2.953.
    path = tmp_path / "presswatch.toml"
    table = 'label = "Mine"\nphrases = ["x", "y"]\nweights = { x = 2, y = 2 }\nthreshold = 11.8'
    path.write_text(config_text() + f"\n[topics.mine]\n{table}\n", encoding="utf-8")
    assert load_config(path, environ={}).taxonomy.topics[0].threshold == 11.8


def test_a_label_left_blank_in_an_entity_is_refused(tmp_path, capsys, restore_logging) -> None:
    text = config_text() + '\n[topics.mine]\nphrases = ["x"]\n[entities.them]\nlabel = " "\n'
    status, lines = run_sources(tmp_path, text + 'phrases = ["y"]\n', capsys)
    assert (status, _message(lines)) == (
        2,
        ["expected the name readers see, such as 'Economy', got ' '"],
    )


def test_a_config_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # Notepad's UTF-8 writes one; it read as "not valid TOML at line 1: Invalid statement".
    path = tmp_path / "presswatch.toml"
    path.write_bytes(b"\xef\xbb\xbf" + config_text().encode())
    assert [s.key for s in load_config(path, environ={}).sources] == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_template_file_that_is_no_regular_file_is_refused_without_reading_it(
    tmp_path: Path, kind: str
) -> None:
    # /dev/zero hung check, once and run for ever, as a FIFO without a writer does on open.
    target = {"device": Path("/dev/zero"), "fifo": tmp_path / "post.fifo", "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    what = {"device": "a device", "fifo": "a pipe", "folder": "a folder"}[kind]
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text({"channels[0]": f'template_file = "{target}"'}), encoding="utf-8")
    try:
        result = presswatch("check", "--config", str(path), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"check hung on a template_file that is {what}")
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [
            f"presswatch: config error: channels[0].template_file: {target} is {what}: "
            "expected a regular text file"
        ],
    )


@pytest.mark.parametrize("kind", ["device", "folder"])
def test_a_config_file_that_is_no_regular_file_is_refused_without_reading_it(
    tmp_path: Path, kind: str
) -> None:
    # A pipe is read (tests/test_config_upgrade.py); /dev/zero would be read for ever.
    target = {"device": Path("/dev/zero"), "folder": tmp_path}[kind]
    what = {"device": "a device", "folder": "a folder"}[kind]
    try:
        result = presswatch("check", "--config", str(target), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"check hung on a config that is {what}")
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [f"presswatch: config error: {target} is {what}: expected a TOML file"],
    )


def test_a_config_file_over_a_mebibyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text() + "#" * 2**20 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"presswatch.toml: over 1 MiB: expected a TOML file$"):
        load_config(path, environ={})


def test_a_config_and_a_template_file_are_read_with_one_wording(tmp_path: Path) -> None:
    # load_config and templates read a file each their own way, and said the same in two ways.
    big = tmp_path / "big.j2"
    big.write_text("x" * (64 * 1024 + 1), encoding="utf-8")
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text({"channels[0]": f'template_file = "{big}"'}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big.j2: over 64 KiB: expected a regular text file"):
        load_config(path, environ={})
    path.write_bytes("# Привет\n".encode("cp1251") + config_text().encode())
    with pytest.raises(ConfigError, match=r"presswatch.toml: not UTF-8 text \(.+ at byte 2\): "):
        load_config(path, environ={})
