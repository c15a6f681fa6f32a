"""Commits synced off the event loop: nothing is reported, sent or answered before it is on disk.

Real archive files; the fsync is the real one behind a gate the test holds, so a test can see
what waits for the disk while it is held (storage/walsync.py). The relay and the chat talk
through python-telegram-bot to the loopback fake Bot API; a poll reads a loopback site.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.delivery.publish import Relay
from bot.delivery.telegram import TelegramSender
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import OutboxState, StorageError, Store
from storage.walsync import WalSync
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.chat import ADMIN, talk
from tests.support.ministry import one_source_config
from tests.support.relay import add, channel, make_config

CHAT = "-1001000000001"
MAIN = ("main", CHAT)
_HELD = 10.0  # seconds a test waits for the gate to be reached: a bound, never a pause


class Gate:
    """An fsync that holds its first call until released, and records what each call synced."""

    def __init__(self, *, fail: OSError | None = None) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.synced: list[tuple[str, int]] = []  # (path, size) at each fsync
        self.fail = fail

    def __call__(self, fd: int) -> None:
        if self.fail is not None:
            raise self.fail
        first = not self.entered.is_set()
        self.entered.set()
        if first:
            self.release.wait(_HELD)
        os.fsync(fd)
        self.synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))

    def wal_syncs(self) -> list[int]:
        """Return the WAL file's size at each of its fsyncs."""
        return [size for path, size in self.synced if path.endswith("-wal")]


def gated(path: Path, gate: Gate) -> Store:
    """Open an archive whose commits are synced in a thread through `gate`."""
    store = Store.open(path, sync_in_thread=True)
    assert store.wal is not None
    store.wal.close()  # the one Store.open made: nothing to sync yet
    store.wal = WalSync(store.db.conn, path, fsync=gate)
    return store


async def reached(gate: Gate) -> bool:
    """Wait (off the loop) until the gated fsync has been called."""
    return await asyncio.to_thread(gate.entered.wait, _HELD)


def test_commits_skip_their_own_sync_only_where_asked(tmp_path) -> None:
    threaded = Store.open(tmp_path / "a.db", sync_in_thread=True)
    plain = Store.open(tmp_path / "b.db")
    try:
        assert threaded.db.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL
        assert threaded.wal is not None
        assert plain.db.execute("pragma synchronous").fetchone()[0] == 2  # FULL
        assert plain.wal is None
    finally:
        threaded.close()
        plain.close()


def test_durable_returns_only_once_the_wal_holding_the_commit_is_synced(tmp_path) -> None:
    gate = Gate()
    store = gated(tmp_path / "archive.db", gate)

    async def go() -> tuple[bool, bool, bool]:
        add(store, 1, MAIN)
        waiting = asyncio.create_task(store.durable())
        held = await reached(gate)
        pending = not waiting.done() and store.wal.behind
        gate.release.set()
        await waiting
        return held, pending, store.wal.behind

    try:
        held, pending, behind = asyncio.run(go())
        committed = (tmp_path / "archive.db-wal").stat().st_size
        assert (held, pending, behind) == (True, True, False)
        assert gate.wal_syncs() == [committed]  # the sync saw the whole commit
    finally:
        store.close()


def test_commits_made_while_a_sync_runs_share_the_next_one(tmp_path) -> None:
    gate = Gate()
    store = gated(tmp_path / "archive.db", gate)

    async def go() -> None:
        add(store, 1, MAIN)
        first = asyncio.create_task(store.durable())
        await reached(gate)
        add(store, 2, MAIN)
        add(store, 3, MAIN)
        later = [asyncio.create_task(store.durable()) for _ in range(3)]
        gate.release.set()
        await asyncio.gather(first, *later)
        await store.durable()  # nothing new: no sync
        store.db.execute("select count(*) from articles").fetchone()

    try:
        asyncio.run(go())
        assert store.wal.syncs == 2  # one for the first commit, one for the two after it
        assert not store.wal.behind
    finally:
        store.close()


def test_a_failed_sync_is_an_error_naming_the_archive_and_stays_one(tmp_path) -> None:
    store = gated(tmp_path / "archive.db", Gate(fail=OSError(errno.EIO, "Input/output error")))

    async def twice() -> list[str]:
        add(store, 1, MAIN)
        errors = []
        for _ in range(2):
            with pytest.raises(StorageError) as caught:
                await store.durable()
            errors.append(str(caught.value))
        return errors

    try:
        errors = asyncio.run(twice())
        assert errors[0] == errors[1]
        assert "archive.db-wal: syncing the archive to disk failed" in errors[0]
        assert "Input/output error" in errors[0]
    finally:
        store.wal = None
        store.close()


def test_closing_syncs_what_nobody_waited_for(tmp_path) -> None:
    gate = Gate()
    gate.release.set()
    store = gated(tmp_path / "archive.db", gate)
    add(store, 1, MAIN)
    store.close()
    assert len(gate.wal_syncs()) == 1


_CHILD = """
import asyncio, sys
from storage import Store
from tests.support.relay import add
store = Store.open(sys.argv[1], sync_in_thread=True)
add(store, 1, ("main", "-1001000000001"))
asyncio.run(store.durable())
print("durable", store.wal.syncs, flush=True)
sys.stdin.read()
"""


def test_a_commit_reported_durable_survives_sigkill(tmp_path) -> None:
    path = tmp_path / "archive.db"
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
        text=True,
    ) as child:
        try:
            said = child.stdout.readline().split()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
    assert said == ["durable", "1"]
    store = Store.open(path)
    try:
        rows = store.db.execute("select state from outbox").fetchall()
        assert rows == [(OutboxState.PENDING,)]
    finally:
        store.close()


def test_the_relay_sends_nothing_before_the_rows_it_acts_on_are_on_disk(tmp_path) -> None:
    gate = Gate()
    with FakeTelegram() as fake:
        config = make_config(tmp_path, channels=[channel(*MAIN)], api_base_url=fake.base_url)
        store = gated(config.storage_path, gate)

        async def go() -> tuple:
            sender = TelegramSender.create(
                token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5.0
            )
            await sender.start()
            try:
                relay = Relay(store=store, sender=sender, config=config.delivery)
                delivering = asyncio.create_task(relay.deliver_due())
                held = await reached(gate)
                while_held = (
                    len(fake.messages_for(int(CHAT))),
                    store.db["outbox"].get(1)["state"],
                    delivering.done(),
                )
                gate.release.set()
                report = await delivering
            finally:
                await sender.close()
            return held, while_held, report.sent

        try:
            add(store, 1, MAIN)
            held, while_held, sent = asyncio.run(go())
            assert held
            assert while_held == (0, OutboxState.SENDING, False)
            assert sent == 1 and len(fake.messages_for(int(CHAT))) == 1
            assert store.db["outbox"].get(1)["state"] == OutboxState.SENT
        finally:
            store.close()


def test_a_poll_is_reported_only_once_its_commits_are_on_disk(tmp_path) -> None:
    gate = Gate()
    db = tmp_path / "archive.db"
    with FakeSites() as sites:
        items = "".join(
            f"<item><title>Release {n}</title><link>{sites.base_url}/news/{n}</link>"
            f"<description>Release {n} says {n}.</description></item>"
            for n in (2, 1)
        )
        sites.add(
            "/rss",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>M</title>{items}'
            "</channel></rss>",
            content_type="application/rss+xml",
        )
        url = f"{sites.base_url}/rss"
        source = {"key": "m", "kind": "feed", "url": url, "robots": False, "fetch_pages": False}
        config = one_source_config(db, source)
        store = gated(db, gate)

        async def go() -> tuple:
            async with make_client(config.fetch) as client:
                ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
                polling = asyncio.create_task(poll_source(config.sources[0], ctx))
                held = await reached(gate)
                stored = store.db.execute("select count(*) from articles").fetchone()[0]
                while_held = (polling.done(), stored)
                gate.release.set()
                return held, while_held, await polling

        try:
            held, while_held, run = asyncio.run(go())
            assert held and while_held == (False, 2)  # committed, not yet reported
            assert (run.status, run.new_articles) == ("ok", 2)
            assert not store.wal.behind
        finally:
            store.close()


def test_a_chat_command_answers_only_once_its_change_is_on_disk(tmp_path) -> None:
    gate = Gate()
    store = gated(tmp_path / "archive.db", gate)

    async def script(session) -> tuple:
        session.fake.push_message(chat_id=ADMIN, user_id=ADMIN, text="/pause alpha")
        held = await reached(gate)
        paused = store.db.execute("select paused from sources where key = 'alpha'").fetchone()
        while_held = (len(session.fake.messages_for(ADMIN)), paused)
        gate.release.set()
        answered = await asyncio.to_thread(
            session.fake.wait_for, lambda: session.fake.messages_for(ADMIN), _HELD
        )
        return held, while_held, answered and session.fake.messages_for(ADMIN)[0].text

    try:
        with FakeTelegram() as fake:
            (held, while_held, answer), _ = talk(fake, store, tmp_path, script)
        assert held and while_held == (0, (1,))
        assert answer and answer.startswith("Paused alpha")
    finally:
        store.close()


def test_an_archive_reached_through_a_symbolic_link_syncs_the_wal_beside_the_real_file(
    tmp_path,
) -> None:
    real = tmp_path / "disk" / "archive.db"
    real.parent.mkdir()
    Store.open(real).close()
    link = tmp_path / "archive.db"
    link.symlink_to(real)
    store = Store.open(link, sync_in_thread=True)
    try:
        add(store, 1, MAIN)
        asyncio.run(store.durable())
        assert store.wal.syncs == 1 and not store.wal.behind
        assert (real.parent / "archive.db-wal").exists()
        assert not (tmp_path / "archive.db-wal").exists()
    finally:
        store.close()
