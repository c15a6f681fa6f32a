"""Health and metrics: what `/healthz` and `/metrics` answer, composed from the archive and the service.

The archive is read through a Snapshot (storage/status.py) in the monitor's own small thread pool,
under a deadline: a scrape never starves the pool that parses pages. bot/service/metrics.py turns
the Snapshot and the counters into Prometheus metrics; bot/service/endpoint.py serves both on a
local port.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from bot.service.counters import Counters, LagHistogram
from bot.service.metrics import ArchiveCollector, metrics_registry
from storage import SourceState, StorageError
from storage.records import iso
from storage.status import READ_DEADLINE, Snapshot, read_snapshot, read_sources

_COUNTED = ("jobs_missed", "jobs_skipped", "poll_timeouts")


class Monitor:
    """Answer health and metrics questions from the archive, the scheduler and the counters."""

    def __init__(
        self,
        archive: Path | Any,  # the SQLite file, or any archive backend (storage/backends.py)
        counters: Counters,
        *,
        sources: Sequence[str],
        channels: Sequence[str],
        scheduler_state: Callable[[], str],
    ) -> None:
        self.counters, self._archive, self._sources = counters, archive, tuple(sources)
        self._scheduler_state = scheduler_state
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")
        self._lag = LagHistogram()
        self._collector = ArchiveCollector(
            counters,
            self._lag,
            sources=sources,
            channels=channels,
            scheduler_running=lambda: scheduler_state() == "running",
        )
        self.registry = metrics_registry(self._collector)

    async def snapshot(self, *, full: bool = True) -> Snapshot:
        """Read the archive in the monitor's own threads, under a deadline."""
        return await self._read(partial(read_snapshot, self._archive, full=full))

    async def _read(self, read: Callable):
        """Run a read in the monitor's threads; give up waiting past the deadline."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, read)
        return await asyncio.wait_for(future, READ_DEADLINE + 1.0)

    async def healthz(self) -> tuple[int, dict]:
        """Return (200 or 503, body): up when the scheduler runs and the database answers."""
        scheduler = self._scheduler_state()
        body: dict = {"status": "ok", "scheduler": scheduler, "database": {"ok": True}}
        try:
            rows = await self._read(partial(read_sources, self._archive))
        except (sqlite3.Error, StorageError, TimeoutError, OSError) as exc:
            rows = {}
            body["database"] = {"ok": False, "error": str(exc) or type(exc).__name__}
        body["sources"] = {
            key: _source_health(rows.get(key) or SourceState(key), self.counters)
            for key in self._sources
        }
        reasons = ([] if scheduler == "running" else [f"scheduler is {scheduler}"]) + (
            [] if body["database"]["ok"] else ["database does not answer"]
        )
        if reasons:
            body |= {"status": "down", "reasons": reasons}
        elif Snapshot(sources=rows).failing(self._sources):
            # A site's outage is no reason to restart presswatch: report it, stay 200.
            body["status"] = "degraded"
        return (503 if reasons else 200), body

    async def metrics(self) -> bytes:
        """Return the Prometheus text exposition of the process's registry."""
        read = partial(read_snapshot, self._archive, lags_after=self._lag.settled)
        try:
            snapshot, db_ok = await self._read(read), True
        except (sqlite3.Error, StorageError, TimeoutError, OSError):
            snapshot, db_ok = Snapshot(), False
        # No await between the two: a concurrent scrape cannot swap the snapshot in between.
        self._collector.observe(snapshot, db_ok=db_ok)
        return generate_latest(self.registry)

    def close(self) -> None:
        """Release the reader threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _source_health(row: SourceState, counters: Counters) -> dict:
    """Return one source's health summary for /healthz."""
    return {
        "state": row.condition,
        "last_success_at": iso(row.last_success_at),
        "consecutive_failures": row.consecutive_failures,
        "last_error": row.last_error if row.consecutive_failures else None,
        "next_poll_at": iso(row.next_poll_at),
        **{name: int(counters.value(name, source=row.key)) for name in _COUNTED},
    }
