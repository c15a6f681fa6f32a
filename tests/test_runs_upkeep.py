"""The service's runs upkeep (bot/service/upkeep.py): old polls deleted off the poll path."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.service.upkeep import keep_history, prune_runs
from storage import RunRecord, RunStatus, Store

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


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
    deleted = asyncio.run(prune_runs(store, asyncio.Event(), before=NOW - timedelta(days=30)))
    assert deleted == 15 and _count(store) == 30
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.service.upkeep"]
    assert len(lines) == 1 and lines[0].startswith("runs upkeep: 15 polls older than 30 days")


def test_a_stop_ends_the_pass_between_batches(store) -> None:
    """A stop asked during a pass ends it after the batch under way: the service stops at once."""
    _polls(store, "s", 2100 + 30)
    stopping = asyncio.Event()
    stopping.set()
    deleted = asyncio.run(prune_runs(store, stopping, before=NOW - timedelta(days=30)))
    assert deleted == 2000 and _count(store) == 130


def test_the_service_s_upkeep_runs_at_start_and_ends_with_the_stop(store) -> None:
    """keep_history's first pass runs at once; setting the stop ends it instead of an hour's wait."""
    _polls(store, "s", 40)
    said = _Said()
    logger = logging.getLogger("bot.service.upkeep")
    logger.addHandler(said)
    logger.setLevel(logging.INFO)

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
