"""The service's periodic upkeep, off the poll path: the poll history's old rows deleted.

Every poll adds a `runs` row (a 304 too): 2.5 million a year for 48 sources polled every 10
minutes. Once an hour (and at start) the rows older than storage/history.py's KEPT go, a batch
per transaction, the event loop free between batches for polls, /healthz and a stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.text.plural import counted
from storage import Store
from storage.history import KEPT, prune

log = logging.getLogger(__name__)

EVERY = 3600.0  # seconds between passes: an hour's polls are a few hundred rows


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
        try:
            await prune_runs(store, stopping, before=clock() - kept, kept=kept)
        except Exception:  # noqa: BLE001 - upkeep must never stop the service; next pass retries
            log.exception("runs upkeep failed; it is tried again in %gs", every)
        try:
            async with asyncio.timeout(every):
                await stopping.wait()
        except TimeoutError:
            pass


async def prune_runs(
    store: Store, stopping: asyncio.Event, *, before: datetime, kept: timedelta = KEPT
) -> int:
    """Delete the runs rows older than `before` a batch at a time (a stop ends the pass between
    batches); log the count once; return it."""
    deleted = 0
    for batch in prune(store.db, before=before):
        deleted += batch
        if stopping.is_set():
            break
        await asyncio.sleep(0)  # yield the loop between batches: polls and /healthz go on
    log.info(
        "runs upkeep: %s older than %s deleted (each source keeps its last poll that worked "
        "and the failed polls since)",
        counted(deleted, "poll"),
        f"{kept.days} days" if kept.days else f"{kept.total_seconds():g}s",
        extra={"event": "upkeep"},
    )
    return deleted
