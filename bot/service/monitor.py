"""Health and metrics: what `/healthz` and `/metrics` answer, composed from the archive and the service.

The archive is read through a Snapshot (storage/status.py) in the monitor's own small thread pool,
under a deadline: a scrape never starves the pool that parses pages. bot/service/metrics.py turns
the Snapshot and the counters into Prometheus metrics; bot/service/endpoint.py serves both on a
local port.

/healthz says `"ok"`; `"degraded"` with its `reasons` when a source is failing, a channel has
failed posts or Telegram refuses the token or does not answer (HTTP 200: restarting presswatch
fixes none of these, so a liveness probe must not restart it); or `"down"` (HTTP 503) when the
scheduler is not running or the archive does not answer. `?strict` answers 503 for
`"degraded"` too, for monitors that read only the status code.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from bot.secrets import Scrub
from bot.service.counters import Counters, LagHistogram
from bot.service.metrics import ArchiveCollector, metrics_registry
from bot.service.reachability import TelegramCheck, TelegramState
from storage import SourceState, StorageError
from storage.records import iso, unchanged
from storage.status import READ_DEADLINE, Snapshot, read_health, read_snapshot

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
        next_polls: Callable[[], dict[str, datetime]] = dict,
        scrub: Scrub = unchanged,
    ) -> None:
        self.counters, self._archive, self._sources = counters, archive, tuple(sources)
        self._scheduler_state, self._next_polls = scheduler_state, next_polls
        self._scrub = scrub
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")
        self._lag = LagHistogram()
        # The lag histogram starts with the process, like every counter beside it.
        self.started = datetime.now(UTC).replace(microsecond=0)
        self._collector = ArchiveCollector(
            counters,
            self._lag,
            sources=sources,
            channels=channels,
            scheduler_running=lambda: scheduler_state() == "running",
            next_polls=next_polls,
        )
        self.registry = metrics_registry(self._collector)
        self.address: str | None = None  # where /healthz is served, once it is (serve_at)

    def name_worker(self, worker: str) -> None:
        """Name this process's worker in /healthz and in /metrics' build info."""
        self._collector.worker = worker

    def serve_at(self, address: str) -> None:
        """Remember the `host:port` this process serves /healthz at (named in /healthz)."""
        self.address = address

    def reconfigure(self, *, sources: Sequence[str], channels: Sequence[str]) -> None:
        """Report on these sources and channels from now on (a reloaded config)."""
        self._sources = tuple(sources)
        self._collector.reconfigure(sources=sources, channels=channels)

    async def snapshot(self, *, full: bool = True) -> Snapshot:
        """Read the archive in the monitor's own threads, under a deadline."""
        return await self._read(partial(read_snapshot, self._archive, full=full))

    async def _read(self, read: Callable):
        """Run a read in the monitor's threads; give up waiting past the deadline."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, read)
        return await asyncio.wait_for(future, READ_DEADLINE + 1.0)

    async def healthz(self, *, strict: bool = False) -> tuple[int, dict]:
        """Return (status, body): 503 when down (or, with `strict`, degraded), else 200."""
        scheduler = self._scheduler_state()
        telegram = self.counters.telegram.latest
        body: dict = {
            "status": "ok",
            "scheduler": scheduler,
            "database": {"ok": True},
            "telegram": {"state": telegram.state, "detail": telegram.describe()},
        }
        if self._collector.worker:  # one worker among many: say which answered
            body["worker"] = self._collector.worker
            body["http"] = self.address  # as the workers' registry has it (`presswatch status`)
        try:
            facts = await self._read(partial(read_health, self._archive))
        except (sqlite3.Error, StorageError, TimeoutError, OSError) as exc:
            facts = Snapshot()
            body["database"] = {"ok": False, "error": str(exc) or type(exc).__name__}
        planned = self._next_polls()
        body["sources"] = {
            key: _source_health(facts.source(key), self.counters, planned.get(key))
            for key in self._sources
        }
        body["channels"] = {
            ch: {"failed_posts": n} for (ch, _), n in sorted(facts.outbox.items()) if n
        }
        down = ([] if scheduler == "running" else [f"scheduler is {scheduler}"]) + (
            [] if body["database"]["ok"] else ["database does not answer"]
        )
        if down:
            body |= {"status": "down", "reasons": down}
            return 503, _scrubbed(body, self._scrub)
        degraded = _degraded(facts, self._sources, telegram)
        if degraded:
            body |= {"status": "degraded", "reasons": degraded}
        # An archive written before the token was redacted may still hold it in an error text.
        return (503 if strict and degraded else 200), _scrubbed(body, self._scrub)

    async def metrics(self) -> bytes:
        """Return the Prometheus text exposition of the process's registry."""
        read = partial(
            read_snapshot, self._archive, lags_after=self._lag.settled, sent_since=self.started
        )
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


def _scrubbed(value, scrub: Scrub):
    """Return a JSON-like value with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item, scrub) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, scrub) for item in value]
    return value


def _degraded(facts: Snapshot, sources: Sequence[str], telegram: TelegramCheck) -> list[str]:
    """Return what does not work while the service itself runs (sources, channels, Telegram)."""
    reasons = [f"source {key} is failing" for key in facts.failing(sources)]
    reasons += [f"channel {ch} has failed posts" for ch in facts.failed_channels()]
    if not telegram.healthy:
        reasons.append(f"Telegram: {telegram.describe()}")
    elif facts.token_refused and telegram.state != TelegramState.OK:
        reasons.append(f"Telegram: {TelegramCheck(TelegramState.REFUSED).describe()}")
    return reasons


def _source_health(row: SourceState, counters: Counters, planned: datetime | None) -> dict:
    """Return one source's health summary for /healthz."""
    # The scheduler's next run, or the end of the source's backoff when that is later.
    upcoming = max(filter(None, (planned, row.next_poll_at)), default=None)
    return {
        "state": row.condition,
        "last_success_at": iso(row.last_success_at),
        "consecutive_failures": row.consecutive_failures,
        "last_error": row.last_error if row.consecutive_failures else None,
        "next_poll_at": iso(upcoming),
        **{name: int(counters.value(name, source=row.key)) for name in _COUNTED},
    }
