"""Reload: SIGHUP and `presswatch reload` re-read the config of a real `presswatch run`.

Added sources are polled, removed ones are dropped, unchanged ones keep their next poll time,
nothing in the outbox is lost or sent twice, and a bad config is refused with the old one kept.
"""

from __future__ import annotations

import re
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.config import Config
from bot.service.reload import compare
from scrapers import Source
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import presswatch
from tests.support.service import RunningService, free_port
from tests.support.world import World, write_config

IA, TASS = "interaffairs-en", "tass-com"


def without_source(text: str, key: str) -> str:
    """Return the config text without the [[sources]] block of `key` (and its sub-tables)."""
    block = re.compile(
        rf'(?ms)^\[\[sources\]\]\nkey = "{re.escape(key)}".*?(?=^\[(?!sources\.)|^# ---|\Z)'
    )
    assert block.search(text), key
    return block.sub("", text)


def children(pid: int) -> set[int]:
    """Return the process ids of a process's children (its parsing sandbox's fork server)."""
    tasks = Path(f"/proc/{pid}/task")
    return {int(c) for task in tasks.iterdir() for c in (task / "children").read_text().split()}


@pytest.fixture
def setup(tmp_path):
    with World() as world:
        config = write_config(tmp_path, world, backfill=1)
        port = free_port()
        full = config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n'
        yield config, port, full


def test_reload_adds_and_removes_sources_and_keeps_the_rest(setup, tmp_path) -> None:
    config, port, full = setup
    config.write_text(without_source(full, TASS))
    with RunningService(config, port=port) as service:
        first = service.wait_for_health(lambda b: b["sources"][IA]["state"] == "ok")
        ia_next = first["sources"][IA]["next_poll_at"]
        assert TASS not in first["sources"] and ia_next
        parsers = children(service.proc.pid)  # the parsing sandbox's fork server, started by now
        assert len(parsers) == 1

        config.write_text(full)
        result = presswatch("reload", "--config", str(config))
        assert result.returncode == 0 and "asked the service (pid" in result.stdout
        service.wait_for_line(f"config reloaded from {config}: added {TASS}")
        # As the config writes the interval (every = "10m"), and "next": not the service's first.
        service.wait_for_line(f"{TASS}: every 10m, next poll at ")
        both = service.wait_for_health(lambda b: b["sources"].get(TASS, {}).get("state") == "ok")
        assert both["sources"][IA]["next_poll_at"] == ia_next  # unchanged: not rescheduled
        assert children(service.proc.pid) == parsers  # the new source parsed in the same sandbox

        config.write_text(without_source(full, IA))
        service.proc.send_signal(signal.SIGHUP)
        service.wait_for_line(f"config reloaded from {config}: removed {IA}")
        assert IA not in service.wait_for_health(lambda b: IA not in b["sources"])["sources"]
        assert service.stop() == 0
    posts = [line for line in service.out if line.startswith("--- post to @presswatch_test")]
    assert len(posts) == 2  # one backfilled post per source: none lost, none sent again
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert conn.execute("select state, count(*) from outbox group by 1").fetchall() == [("sent", 2)]


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        (
            lambda text: text.replace('every = "10m"', 'every = "soon"', 1),
            "sources[0] (interaffairs-en).every",
        ),
        (lambda text: text + "\n[[sources\n", "not valid TOML"),
        (  # two problems: both on the one log line (a journal shows a second line unprefixed)
            lambda text: "chanels = []\n" + text.replace('every = "10m"', 'every = "soon"', 1),
            "sources[0] (interaffairs-en).every: expected a duration such as '10m', '1h' or '30s', got 'soon'; "
            "chanels: unknown key",
        ),
    ],
)
def test_a_bad_config_is_refused_and_the_old_one_kept(setup, breakage, error) -> None:
    config, port, full = setup
    config.write_text(full)
    with RunningService(config, port=port) as service:
        service.wait_for_health(lambda b: b["sources"][TASS]["state"] == "ok")
        config.write_text(breakage(full))
        assert presswatch("reload", "--config", str(config)).returncode == 2  # refused up front
        service.proc.send_signal(signal.SIGHUP)  # ...and by the service itself
        line = service.log[service.wait_for_line("reload refused, the running config stays:")]
        assert error in line
        status, body = service.healthz()
        assert status == 200 and set(body["sources"]) == {IA, TASS}
        assert service.stop() == 0


def test_reload_without_a_service_says_so(tmp_path) -> None:
    config = Path(tmp_path / "presswatch.toml")
    config.write_text(f'[storage]\npath = "{tmp_path / "archive.db"}"\n')
    result = presswatch("reload", "--config", str(config))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"presswatch: no presswatch service is running on {tmp_path / 'archive.db'}"
    )


def test_the_chat_answers_from_the_reloaded_config(tmp_path) -> None:
    reader = 2002
    with World() as world, FakeTelegram() as fake:
        config = write_config(
            tmp_path, world, telegram_url=fake.base_url, extra_telegram="commands = true\n"
        )
        port = free_port()
        full = config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n'
        config.write_text(without_source(full, TASS))

        def ask(text: str) -> str:
            seen = len(fake.messages_for(reader))
            fake.push_message(chat_id=reader, user_id=reader, text=text)
            assert fake.wait_for(lambda: len(fake.messages_for(reader)) > seen, timeout=20)
            return fake.messages_for(reader)[-1].plain

        with RunningService(config, port=port, token=DEFAULT_TOKEN) as service:
            service.wait_for_line("chat commands on as")
            assert TASS not in ask("/sources")
            config.write_text(full)
            service.proc.send_signal(signal.SIGHUP)
            service.wait_for_line(f"config reloaded from {config}: added {TASS}")
            # The chat built at start kept the old config: no new source to list or follow.
            assert TASS in ask("/sources")
            assert ask(f"/subscribe {TASS}").startswith("Subscribed")
            assert service.stop() == 0


def test_after_a_reload_another_sqlite_reader_leaves_the_services_wal_alone(setup, tmp_path):
    config, port, full = setup
    config.write_text(full)
    archive = tmp_path / "archive.db"
    wal = Path(f"{archive}-wal")
    with RunningService(config, port=port) as service:
        service.wait_for_health(lambda b: b["sources"][TASS]["state"] == "ok")
        service.proc.send_signal(signal.SIGHUP)
        service.wait_for_line(f"config reloaded from {config}")
        assert wal.exists()
        # An analyst's sqlite3 on the live archive. The reload's check of the config used to
        # open and close the archive file in the service, which dropped the service's SQLite
        # locks: this connection's close then checkpointed and deleted the -wal and -shm the
        # service went on writing to, and what it wrote next was lost at its restart.
        reader = sqlite3.connect(archive)
        reader.execute("select count(*) from articles").fetchone()
        reader.close()
        assert wal.exists() and Path(f"{archive}-shm").exists()
        assert service.healthz()[1]["database"]["ok"]
        assert service.stop() == 0


def test_the_reload_line_names_the_keys_a_changed_source_changed() -> None:
    wire = Source(key="wire", url="https://wire.example/feed", kind="feed", lang="en")
    gone = Source(key="gone", url="https://gone.example/")
    old = Config(path=Path("p.toml"), storage_path=Path("a.db"), sources=(wire, gone))
    moved = Source(key="wire", url="https://wire.example/rss", kind="feed", every_seconds=120)
    new = Config(path=Path("p.toml"), storage_path=Path("a.db"), sources=(moved,))
    assert compare(old, new).describe() == "removed gone; changed wire (url, lang, every)"
