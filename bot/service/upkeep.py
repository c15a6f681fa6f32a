"""The service's periodic upkeep, off the poll path: the poll history's old rows deleted.

Every poll adds a `runs` row (a 304 too): 2.5 million a year for 48 sources polled every 10
minutes. Once an hour (and at start) the rows older than storage/history.py's KEPT go, a batch
per transaction, the event loop free between batches for polls, /healthz and a stop. On
PostgreSQL one worker of a fleet at a time does it (history.pruning_alone).

The archive is written from the event loop: an SQLite archive another process holds locked
blocks the loop for one busy timeout (10 s, storage/store.py) and then fails the pass, which ends
it until the next hour's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.text.plural import counted
from storage import Store
from storage.history import KEPT, prune, pruning_alone

log = logging.getLogger(__name__)

EVERY = 3600.0  # seconds between passes: an hour's polls are a few hundred rows
# A failure the next pass may well not meet: said in one line, without a traceback.
_PASSING = ("database is locked", "database is busy")
_EVENT = {"event": "upkeep"}


async def keep_history(
    store: Store,
    stopping: asyncio.Event,
    *,
    every: float = EVERY,
    kept: timedelta = KEPT,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run an upkeep pass at once and then every `every` seconds, until `stopping` is set."""
    while not stopping.is_set():
        await prune_runs(store, stopping, now=clock(), kept=kept, every=every)
        try:
            async with asyncio.timeout(every):
                await stopping.wait()
        except TimeoutError:
            pass


async def prune_runs(
    store: Store,
    stopping: asyncio.Event,
    *,
    now: datetime,
    kept: timedelta = KEPT,
    every: float = EVERY,
) -> int:
    """Delete the runs rows older than `kept` before `now` a batch at a time (a stop ends the pass
    between batches); log the count once, a failure too (the next pass retries); return it."""
    deleted, stopped = 0, False
    try:
        with pruning_alone(store.db) as mine:
            if not mine:
                log.debug("runs upkeep: another worker's pass is under way", extra=_EVENT)
                return 0
            for batch in prune(store.db, before=now - kept):
                deleted += batch
                if stopping.is_set():
                    stopped = True
                    break
                await asyncio.sleep(0)  # yield the loop between batches: polls and /healthz go on
    except Exception as exc:  # noqa: BLE001 - upkeep must never stop the service
        expected = any(text in str(exc) for text in _PASSING)
        log.log(
            logging.WARNING if expected else logging.ERROR,
            "runs upkeep failed after %s deleted: %s; tried again in %gs",
            counted(deleted, "poll"),
            exc,
            every,
            exc_info=None if expected else exc,
            extra=_EVENT,
        )
        return deleted
    log.log(
        logging.INFO if deleted else logging.DEBUG,  # an hourly "0 deleted" says nothing
        "runs upkeep: %s older than %s deleted%s (each source keeps its last poll that worked "
        "and the failed polls since)",
        counted(deleted, "poll"),
        counted(kept.days, "day")
        if kept == timedelta(days=kept.days)
        else f"{kept.total_seconds():g}s",
        "; stopped before the end by the service's stop" if stopped else "",
        extra=_EVENT,
    )
    return deleted
