"""Health and metrics: what `/healthz` and `/metrics` answer, composed from the archive and the service.

The archive is read through a Snapshot (storage/status.py) in the monitor's own small thread pool,
under a deadline: a scrape never starves the pool that parses pages. The text of `/metrics` comes
from bot/service/metrics.py; bot/service/endpoint.py serves both on a local port.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from bot.config import Config
from bot.service.metrics import Counters, LagHistogram, render_metrics
from storage.records import iso
from storage.status import READ_DEADLINE, Snapshot, SourceRow, read_snapshot, read_sources


class Monitor:
    """Answer health and metrics questions from the archive, the scheduler and the counters."""

    def __init__(
        self, config: Config, counters: Counters, *, scheduler_state: Callable[[], str]
    ) -> None:
        self.config, self.counters, self._scheduler_state = config, counters, scheduler_state
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")
        self._lag = LagHistogram()

    async def snapshot(self, *, full: bool = True) -> Snapshot:
        """Read the archive in the monitor's own threads, under a deadline."""
        return await self._read(partial(read_snapshot, self.config.storage_path, full=full))

    async def _read(self, read: Callable):
        """Run a read in the monitor's threads; give up waiting past the deadline."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, read)
        return await asyncio.wait_for(future, READ_DEADLINE + 1.0)

    async def healthz(self) -> tuple[int, dict]:
        """Return (200 or 503, body): up when the scheduler runs and the database answers."""
        scheduler = self._scheduler_state()
        body: dict = {"status": "ok", "scheduler": scheduler, "database": {"ok": True}}
        try:
            rows = await self._read(partial(read_sources, self.config.storage_path))
        except (sqlite3.Error, TimeoutError, OSError) as exc:
            rows = {}
            body["database"] = {"ok": False, "error": str(exc) or type(exc).__name__}
        body["sources"] = {
            s.key: _source_health(rows.get(s.key) or SourceRow(s.key), self.counters, s.key)
            for s in self.config.sources
        }
        reasons = ([] if scheduler == "running" else [f"scheduler is {scheduler}"]) + (
            [] if body["database"]["ok"] else ["database does not answer"]
        )
        if reasons:
            body |= {"status": "down", "reasons": reasons}
        elif Snapshot(sources=rows).failing(s.key for s in self.config.sources):
            # A site's outage is no reason to restart presswatch: report it, stay 200.
            body["status"] = "degraded"
        return (503 if reasons else 200), body

    async def metrics(self) -> str:
        """Return the Prometheus text exposition."""
        read = partial(read_snapshot, self.config.storage_path, lags_after=self._lag.settled)
        try:
            snapshot, db_ok = await self._read(read), True
        except (sqlite3.Error, TimeoutError, OSError):
            snapshot, db_ok = Snapshot(), False
        return render_metrics(
            self.config,
            snapshot,
            self.counters,
            scheduler_running=self._scheduler_state() == "running",
            db_ok=db_ok,
            lag=self._lag.update(snapshot.lags),
        )

    def close(self) -> None:
        """Release the reader threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _source_health(row: SourceRow, counters: Counters, key: str) -> dict:
    """Return one source's health summary for /healthz."""
    return {
        "state": row.condition,
        "last_success_at": iso(row.last_success_at),
        "consecutive_failures": row.consecutive_failures,
        "last_error": row.last_error if row.consecutive_failures else None,
        "next_poll_at": iso(row.next_poll_at),
        **{
            name: int(counters.value(name, source=key))
            for name in ("jobs_missed", "jobs_skipped", "poll_timeouts")
        },
    }
