"""The service's runs upkeep (bot/service/upkeep.py): old polls deleted off the poll path."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config
from bot.service.upkeep import keep_history, prune_runs
from storage import RunRecord, RunStatus, Store
from storage.history import pruning_alone
from tests.support.inprocess import serve
from tests.support.world import World, write_config

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
IA = "interaffairs-en"


def _polls(store: Store, key: str, n: int, *, status: RunStatus = RunStatus.NOT_MODIFIED) -> None:
    """Record n polls of `key`, a day apart, the newest a day before NOW."""
    for i in range(n, 0, -1):
        at = NOW - timedelta(days=i)
        store.sources.record_run(RunRecord(key, at, at, status))


def _count(store: Store) -> int:
    """Return the runs rows kept."""
    return store.db.execute("select count(*) from runs").fetchone()[0]


class _Said(logging.Handler):
    """Set an event when the upkeep logs its pass (what the test waits on)."""

    def __init__(self) -> None:
        super().__init__()
        self.passes = asyncio.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.passes.set()


def test_a_pass_deletes_the_old_polls_and_says_how_many_once(store, caplog) -> None:
    """Polls older than the days kept go; the pass logs one line with the count."""
    _polls(store, "s", 45)
    caplog.set_level(logging.INFO, logger="bot.service.upkeep")
    deleted = asyncio.run(prune_runs(store, asyncio.Event(), now=NOW))
    assert deleted == 15 and _count(store) == 30
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.service.upkeep"]
    assert len(lines) == 1 and lines[0].startswith("runs upkeep: 15 polls older than 30 days")


def test_one_day_kept_is_said_in_the_singular(store, caplog) -> None:
    """The line says "1 day", not "1 days"."""
    _polls(store, "s", 3)
    caplog.set_level(logging.INFO, logger="bot.service.upkeep")
    assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW, kept=timedelta(days=1))) == 2
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.service.upkeep"]
    assert line.startswith("runs upkeep: 2 polls older than 1 day deleted")


def test_a_stop_ends_the_pass_between_batches(store, caplog) -> None:
    """A stop asked during a pass ends it after the batch under way: the service stops at once,
    and the pass's line says it stopped."""
    _polls(store, "s", 2100 + 30)
    stopping = asyncio.Event()
    stopping.set()
    caplog.set_level(logging.INFO, logger="bot.service.upkeep")
    deleted = asyncio.run(prune_runs(store, stopping, now=NOW))
    assert deleted == 2000 and _count(store) == 130
    assert [r.getMessage() for r in caplog.records if "stopped before the end" in r.getMessage()]


def test_a_pass_with_nothing_to_delete_is_said_at_debug_only(store, caplog) -> None:
    """An hourly "0 polls deleted" says nothing at INFO."""
    _polls(store, "s", 10)
    caplog.set_level(logging.DEBUG, logger="bot.service.upkeep")
    assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW)) == 0
    assert [r.levelno for r in caplog.records if r.name == "bot.service.upkeep"] == [logging.DEBUG]


def test_a_failed_pass_says_what_it_deleted_before_it_failed(store, caplog, monkeypatch) -> None:
    """A pass that fails midway logs one line with the count deleted so far, and returns it."""

    def failing(db, *, before):
        yield 5
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr("bot.service.upkeep.prune", failing)
    caplog.set_level(logging.INFO, logger="bot.service.upkeep")
    assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW, kept=timedelta(0))) == 5
    (said,) = [r for r in caplog.records if r.name == "bot.service.upkeep"]
    assert said.levelno == logging.ERROR and said.exc_info  # unexpected: its traceback
    assert said.getMessage().startswith("runs upkeep failed after 5 polls deleted: disk I/O")


def test_a_locked_sqlite_archive_fails_the_pass_in_one_line(tmp_path, caplog) -> None:
    """Another process holding the archive's write lock past the busy timeout fails the pass:
    one WARNING line, no traceback, nothing deleted, nothing raised (the next pass retries)."""
    store = Store.open(tmp_path / "archive.db")
    other = sqlite3.connect(tmp_path / "archive.db")
    try:
        _polls(store, "s", 40)
        store.db.conn.execute("pragma busy_timeout = 50")  # not the 10 s a service waits
        other.execute("begin immediate")
        caplog.set_level(logging.INFO, logger="bot.service.upkeep")
        assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW)) == 0
        other.rollback()
        assert _count(store) == 40
    finally:
        other.close()
        store.close()
    (said,) = [r for r in caplog.records if r.name == "bot.service.upkeep"]
    assert said.levelno == logging.WARNING and not said.exc_info
    assert "failed after 0 polls deleted: database is locked" in said.getMessage()


@pytest.mark.postgres
def test_one_worker_of_a_fleet_runs_the_pass_at_a_time(postgres_archive) -> None:
    """On PostgreSQL a pass runs under an advisory lock: while another worker's pass holds it,
    this one deletes nothing; once it is let go, this one deletes."""
    store, other = postgres_archive.open(), postgres_archive.open()
    try:
        _polls(store, "s", 40)
        with pruning_alone(other.db) as held:
            assert held
            assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW)) == 0
            assert _count(store) == 40
        assert asyncio.run(prune_runs(store, asyncio.Event(), now=NOW)) == 10
    finally:
        other.close()
        store.close()


def test_the_service_s_upkeep_runs_at_start_and_ends_with_the_stop(store, caplog) -> None:
    """keep_history's first pass runs at once; setting the stop ends it instead of an hour's wait."""
    _polls(store, "s", 40)
    said = _Said()
    logger = logging.getLogger("bot.service.upkeep")
    logger.addHandler(said)
    caplog.set_level(logging.INFO, logger="bot.service.upkeep")  # reset after the test

    async def serve() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(keep_history(store, stopping, clock=lambda: NOW))
        await said.passes.wait()
        stopping.set()
        await asyncio.wait_for(task, 10)  # the loop's hour-long wait ends with the stop

    try:
        asyncio.run(serve())
    finally:
        logger.removeHandler(said)
    assert _count(store) == 30 and len(said.lines) == 1


def test_service_run_starts_the_upkeep(tmp_path, caplog) -> None:
    """`presswatch run`'s Service starts the upkeep beside its polls: its first pass deletes the
    polls older than the days kept that the archive held as it started."""
    with World(keys=(IA,)) as world:
        path = write_config(tmp_path, world)
        store = Store.open(load_config(path, environ={}).storage_path)
        try:
            now = datetime.now(UTC)
            # A poll a day, the newest half a day old: none at exactly the days kept, which the
            # service's clock, read a moment later, found 11 older than 30 days now and then.
            for days in range(40, 0, -1):
                at = now - timedelta(days=days) + timedelta(hours=12)
                store.sources.record_run(RunRecord(IA, at, at, RunStatus.NOT_MODIFIED))
        finally:
            store.close()
        said = _Said()
        logger = logging.getLogger("bot.service.upkeep")
        logger.addHandler(said)
        caplog.set_level(logging.INFO, logger="bot.service.upkeep")

        async def scenario(service) -> list[str]:
            await asyncio.wait_for(said.passes.wait(), 10)
            return [task.get_name() for task in asyncio.all_tasks() if not task.done()]

        try:
            running = serve(path, scenario)
        finally:
            logger.removeHandler(said)
    assert "upkeep" in running
    assert said.lines[0].startswith("runs upkeep: 10 polls older than 30 days deleted")
