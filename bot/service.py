"""The long-running service: APScheduler polls each source, a relay task delivers posts."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scrapers.models import Source

from .app import App
from .pipeline import poll_source

log = logging.getLogger(__name__)

_RELAY_IDLE = 5.0  # seconds between outbox checks when nothing wakes the relay sooner
_STOP_DEADLINE = 8.0  # seconds in-flight work may take to finish after SIGTERM


@dataclass(slots=True)
class ServiceStats:
    """Counters an operator can read: jobs APScheduler missed or skipped."""

    missed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)


class Service:
    """Run polls on their schedules and deliver posts until asked to stop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.stats = ServiceStats()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._stop = asyncio.Event()
        self._wake_relay = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop gracefully."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        for source in self.app.config.sources:
            self._schedule(source)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        log.info("service started: %d source(s), %d channel(s)", len(self.app.config.sources),
                 len(self.app.config.channels))
        relay = asyncio.create_task(self._relay_loop(), name="relay")
        await self._stop.wait()
        await self._shutdown(relay)

    def stop(self) -> None:
        """Ask the service to stop (safe to call from a signal handler)."""
        if not self._stop.is_set():
            log.info("stop requested; finishing in-flight work")
        self._stop.set()

    def _schedule(self, source: Source) -> None:
        """Add the source's interval job, first run now, spread by jitter."""
        every = source.every_seconds
        self.scheduler.add_job(
            self._poll_job, IntervalTrigger(seconds=every, jitter=min(every * 0.1, 60), timezone=UTC),
            args=[source], id=source.key, name=source.key, next_run_time=datetime.now(UTC),
            coalesce=True, max_instances=1, misfire_grace_time=max(60, every // 2),
        )

    async def _poll_job(self, source: Source) -> None:
        """Poll one source under a deadline shorter than its interval, then wake the relay."""
        state = self.app.store.source_state(source.key)
        if state.next_poll_at and state.next_poll_at > datetime.now(UTC):
            return  # Backing off after failures.
        task = asyncio.current_task()
        if task:
            self._inflight.add(task)
        try:
            async with asyncio.timeout(max(30.0, source.every_seconds * 0.9)):
                await poll_source(source, self.app.poll_context)
        except TimeoutError:
            self.stats.timeouts[source.key] = self.stats.timeouts.get(source.key, 0) + 1
            log.error("%s: poll took longer than its deadline and was stopped", source.key)
        finally:
            if task:
                self._inflight.discard(task)
        self._wake_relay.set()

    async def _relay_loop(self) -> None:
        """Deliver due posts whenever a poll finishes, and every few seconds for retries."""
        while not self._stop.is_set():
            try:
                await self.app.relay.deliver_due()
            except Exception:  # noqa: BLE001 - the relay must outlive a bad round
                log.exception("relay round failed")
            self._wake_relay.clear()
            try:
                async with asyncio.timeout(_RELAY_IDLE):
                    await self._wake_relay.wait()
            except TimeoutError:
                pass

    async def _shutdown(self, relay: asyncio.Task) -> None:
        """Stop scheduling, let in-flight work finish within a deadline, then cancel the rest."""
        self.scheduler.pause()
        self.app.relay.stop()
        pending = [*self._inflight, relay]
        self._wake_relay.set()
        done, still = await asyncio.wait(pending, timeout=_STOP_DEADLINE)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=2.0)
            log.warning("stopped %d task(s) that did not finish in time", len(still))
        self.scheduler.shutdown(wait=False)
        log.info("service stopped")

    def _on_job_event(self, event: JobEvent) -> None:
        """Count jobs APScheduler missed or skipped, so they are never silent."""
        counter = self.stats.missed if event.code == EVENT_JOB_MISSED else self.stats.skipped
        counter[event.job_id] = counter.get(event.job_id, 0) + 1
        log.warning("%s: poll %s", event.job_id,
                    "missed its time" if event.code == EVENT_JOB_MISSED else
                    "skipped: the previous one is still running")
