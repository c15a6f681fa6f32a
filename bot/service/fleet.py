"""One worker among many on a PostgreSQL archive: the service with procrastinate's jobs in place
of the in-process scheduler and relay loop.

Everything else is the single service's (scheduler.py): /healthz and /metrics (with this
worker's id), the journal, SIGHUP, and the SIGTERM drain, in which procrastinate lets the jobs
under way finish. Which job runs where, and their locks, are in jobs.py; the shared rows (live
workers, Telegram's pace) in storage/postgres/fleet.py. A worker SIGKILLed, or whose machine is
lost, stops its heartbeat; its jobs are run again by the others (jobs.take_over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.config.fields import span
from bot.service import fleet_timing, jobs, timetable
from bot.service.scheduler import ChatFactory, Service
from scrapers.models import Source
from storage import SourceState

log = logging.getLogger(__name__)

CONCURRENCY = 8  # jobs a worker runs at once: polls wait on sites, deliveries on Telegram
_BEAT = 5.0  # seconds between this worker's heartbeats in the archive (`presswatch status`)
# After a look for due chats, polls finishing within this many seconds wait for the next look:
# a busy worker finishes dozens of polls a second, and each look is two queries.
GATHER = 0.5
LIVE = 30.0  # a worker heard from within this many seconds is listed as live


def worker_id() -> str:
    """Return this process's name among the workers: its host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class FleetService(Service):
    """Run this worker's share of polls and deliveries until asked to stop."""

    def __init__(self, app: App, *, chat: ChatFactory | None = None, **options) -> None:
        self.worker = worker_id()
        super().__init__(app, chat=chat, **options)
        self.monitor.name_worker(self.worker)
        backend = app.backend
        # The dispatcher's cron is made with the job app, once: a reload keeps the period until a
        # restart (bot/service/reload.py), so the running config always has the one in use.
        every = app.config.workers.dispatch_every
        self.jobs = jobs.job_app(backend.url, backend.connection_kwargs, every=every)
        if (bound := fleet_timing.failover_bound(every)) > fleet_timing.FAILOVER_GOAL:
            log.warning(
                "workers.dispatch_every = %ds: a killed worker's jobs may wait %g s to move",
                every,
                bound,
            )
        self._engine: asyncio.Task | None = None

    # -- what the jobs call -----------------------------------------------------------------

    async def dispatch(self) -> None:
        """Queue the due sources' polls in batches and a delivery for every chat with due work."""
        every = {s.key: s.every_seconds for s in self.app.config.sources}
        # A batch for each job slot of the live workers: the polls spread over all of them.
        slots = CONCURRENCY * max(1, len(self.app.fleet.live(within=LIVE)))
        await jobs.queue_polls(self.jobs, lambda: self.app.fleet.due_sources(every), slots=slots)
        await self._defer_deliveries()

    async def polls(self, keys: list[str]) -> None:
        """Poll a batch of sources at once; one that fails never stops the others or the batch."""
        # The batch's rows in one query, not one round trip a source: each poll read its own
        # at its start, and all of them start together.
        try:
            states = self.app.store.sources.states(keys)
        except Exception:  # noqa: BLE001 - each poll reads its own row, and fails on its own
            log.exception("polls %s: could not read the sources' rows together", keys)
            states = {}
        try:
            # At once, not in turn: the batch lasts as long as its slowest poll, whose deadline
            # bounds it as it bounds a poll of its own (and so the SIGTERM drain).
            polls = (self.poll(key, state=states.get(key)) for key in keys)
            outcomes = await asyncio.gather(*polls, return_exceptions=True)
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
            return  # cut at the stop's deadline: each poll says so; the next dispatch requeues
        for key, outcome in zip(keys, outcomes):
            if isinstance(outcome, BaseException):
                log.error("poll %s: failed", key, exc_info=outcome)

    async def poll(self, key: str, *, state: SourceState | None = None) -> None:
        """Poll one source, unless it is not ours to know or another worker just polled it
        (`state`: its row, when the batch read it)."""
        source = next((s for s in self.app.config.sources if s.key == key), None)
        if source is None:
            log.warning("poll %s: not in this worker's config; reload it to match the others", key)
            return
        # One read of the source's row serves this check, the pause and backoff check, and the
        # poll itself (its validators and baseline): each read is a round trip to the server.
        state = state or self.app.store.sources.state(key)
        half = datetime.now(UTC) - timedelta(seconds=source.every_seconds / 2)
        if state.polled_since(half):
            return  # a poll queued twice (a retry, a dispatcher's race) runs once
        await self._poll_job(source, state=state)

    async def deliver(self, chat: str) -> None:
        """Deliver one chat's due rows (this worker holds the chat's lock)."""
        if not self._stop.is_set():
            await self.app.relay.deliver_due(chat=chat)

    # -- the service's hooks ----------------------------------------------------------------

    def scheduler_state(self) -> str:
        """Return 'running' while this worker takes jobs, else 'stopped'."""
        engine = self._engine
        alive = engine is not None and not engine.done() and not self._stop.is_set()
        return "running" if alive else "stopped"

    def next_polls(self) -> dict[str, datetime]:
        """Return when each source falls due: its last poll (any worker's) plus its interval."""
        now, sources = datetime.now(UTC), self.app.config.sources
        states = self.app.store.sources.states(
            s.key for s in sources
        )  # one query, not one a source
        return {
            s.key: timetable.falls_due(states[s.key].last_poll_at, s.every_seconds, now)
            for s in sources
        }

    def _schedule(self, source: Source) -> datetime:
        """Leave the source to the dispatcher; no first round is this worker's alone."""
        log.info(
            "%s: every %s, polled by whichever worker is free",
            source.key,
            span(source.every_seconds),
        )
        return datetime.max.replace(tzinfo=UTC)

    async def _relay_loop(self) -> None:
        """Take jobs until the service stops, beating the heartbeat and queueing new posts."""
        options = jobs.worker_options(
            self,
            name=self.worker,
            concurrency=CONCURRENCY,
            # Within the service's own deadline, so this task still says goodbye after it.
            stop_deadline=self._stop_deadline * 0.7,
        )
        async with self.jobs.open_async():
            self._engine = asyncio.create_task(self.jobs.run_worker_async(**options), name="jobs")
            # An engine that stops on its own wakes the loop below at once, not at its next beat.
            self._engine.add_done_callback(lambda _: self._wake_relay.set())
            log.info("worker %s taking jobs (%d at once)", self.worker, CONCURRENCY)
            try:
                await self._serve()
            finally:
                self._engine.cancel()  # procrastinate lets the jobs under way finish
                await asyncio.gather(self._engine, return_exceptions=True)
                self.app.fleet.leave(self.worker)

    async def _serve(self) -> None:
        """Beat the heartbeat; queue deliveries as soon as a poll here queued a post or alert."""
        host, pid = socket.gethostname(), os.getpid()
        beaten, looked = -_BEAT, 0
        while not self._stop.is_set() and not self._engine.done():
            woken = False
            try:
                # On its own period, not on every wake: a busy worker wakes on every poll.
                if time.monotonic() - beaten >= _BEAT:
                    beaten = time.monotonic()  # a failed beat waits its period too
                    http = self.monitor.address  # where this worker's /healthz answers
                    self.app.fleet.beat(self.worker, host=host, pid=pid, http=http)
                async with asyncio.timeout(max(0.0, beaten + _BEAT - time.monotonic())):
                    woken = await self._wake_relay.wait()
            except TimeoutError:
                pass
            except Exception:  # noqa: BLE001 - a database hiccup: the next beat tries again
                log.exception("worker %s: heartbeat failed", self.worker)
            if woken and not self._stop.is_set() and not self._engine.done():
                self._wake_relay.clear()  # a poll that finishes from here on asks for a next look
                # Only rows this process queued since the last look can make a chat due now; the
                # rest (retries, quiet hours, digests, other workers' posts) the dispatcher finds.
                if self.app.store.tally.total == looked:
                    continue
                looked = self.app.store.tally.total
                await self._defer_deliveries()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(GATHER):
                        await self._stop.wait()
        if self._engine.done() and not self._stop.is_set():
            # procrastinate logged why (its connection, a failed side task): a worker that takes
            # no jobs must not look healthy, so it stops and its supervisor restarts it.
            log.error("worker %s: the job engine stopped; stopping", self.worker)
            self.failure = "the job engine stopped"
            self.stop()

    async def _defer_deliveries(self) -> None:
        """Queue a delivery for each chat with due rows or alerts (the dispatcher retries later)."""
        try:
            for chat in self._due_chats():
                await jobs.defer_delivery(self.jobs, chat)
        except Exception:  # noqa: BLE001 - logged; the next dispatcher run queues them
            log.exception("worker %s: queueing deliveries failed", self.worker)

    def _due_chats(self) -> list[str]:
        """Return the chats with rows or alerts due now (uncertain ones as the policy says)."""
        now = datetime.now(UTC)
        relay = self.app.relay
        items = self.app.store.outbox.due(now, **relay.due_options(now), per_chat=1, limit=1000)
        chats = dict.fromkeys(item.chat_id for item in items)
        chats.update(dict.fromkeys(alert.chat_id for alert in self.app.store.alerts.due(now)))
        return list(chats)
