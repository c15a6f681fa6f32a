"""The service's poll jobs: each source on its interval, skipped while paused or backing off.

What APScheduler runs for a source (scheduler.py's Service mixes this in; fleet.py's workers run
the same poll from their jobs): the poll under a deadline shorter than its interval, a skip said
once per reason, a poll stopped at its deadline recorded as a failed run, and a job APScheduler
missed or saw crash counted. When a source falls due is bot/service/timetable.py's to say.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.config.fields import span
from bot.ingest.poll import poll_source, record_failure
from bot.service import timetable
from bot.service.counters import Counters
from bot.service.journal import Journal
from scrapers.errors import DeadlineExceeded
from scrapers.models import Source
from storage import RunRecord, RunStatus, SourceState

# The service's logger, as before this code left scheduler.py: a log line's `logger` (in JSON,
# and in the text format) is what an operator filters the service's lines by.
log = logging.getLogger("bot.service.scheduler")


class PollJobs:
    """Schedule each source's poll job and run it: polled, skipped, or stopped at its deadline."""

    # The service's own, set in its __init__ (scheduler.py).
    app: App
    scheduler: AsyncIOScheduler
    counters: Counters
    journal: Journal
    _stop: asyncio.Event
    _wake_relay: asyncio.Event
    _inflight: set[asyncio.Task]
    _skipping: dict[str, str]  # source -> why its polls are skipped, as last logged
    _poll_timeout: float | None

    def next_polls(self) -> dict[str, datetime]:
        """Return when each scheduled source is polled next (before its backoff is considered)."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time}

    def _schedule(self, source: Source) -> datetime:
        """Add the source's interval job, first run one interval after its last poll (or now).
        Return when it first runs."""
        every = source.every_seconds
        last = self.app.store.sources.state(source.key).last_poll_at
        first = timetable.falls_due(last, every, datetime.now(UTC))
        self.scheduler.add_job(
            self._poll_job,
            args=[source],
            id=source.key,
            name=source.key,
            next_run_time=first,
            **timetable.interval_job(every),
        )
        # The interval as a config writes it ("30m", not "1800s"); "next": a reload logs it too.
        log.info(
            "%s: every %s, next poll at %s",
            source.key,
            span(every),
            first.isoformat(timespec="seconds"),
        )
        return first

    async def _poll_job(self, source: Source, *, state: SourceState | None = None) -> None:
        """Poll one source under a deadline shorter than its interval, then wake the relay."""
        if self._stop.is_set():
            return
        state = state or self.app.store.sources.state(source.key)
        if self._skip(source, state):
            self.counters.inc("polls", source=source.key, status=RunStatus.SKIPPED)
            now = datetime.now(UTC)
            self.journal.ran(RunRecord(source.key, now, now, RunStatus.SKIPPED))
            return
        task = asyncio.current_task()
        task.set_name(f"poll {source.key}")  # names the task in the shutdown log
        self._inflight.add(task)
        deadline = timetable.poll_deadline(source.every_seconds, self._poll_timeout)
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                run = await poll_source(source, self.app.poll, state=state)
            self.counters.inc("polls", source=source.key, status=run.status)
            self.counters.inc("new_articles", run.new_articles, source=source.key)
        except TimeoutError:
            run = self._record_timeout(source, deadline)
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
            # Cancelled by our own shutdown: nothing crashed; the next start polls it again.
            log.warning("poll %s %s: cancelled at shutdown", source.key, source.url)
            return
        finally:
            self._inflight.discard(task)
        self.counters.observe("poll_duration", time.monotonic() - started, source=source.key)
        self.journal.ran(run)
        self._wake_relay.set()

    def _skip(self, source: Source, state: SourceState) -> bool:
        """Return True when the source is paused or backing off, saying why once per reason."""
        reason = self.app.skip_reason(source.key, datetime.now(UTC), state=state)
        # A source backing off for hours is asked every interval: one line per change, not each.
        if reason and self._skipping.get(source.key) != reason:
            fields = {"event": "skip", "source": source.key, "url": source.url}
            log.info("poll %s %s: skipped (%s)", source.key, source.url, reason, extra=fields)
        if reason:
            self._skipping[source.key] = reason
        else:
            self._skipping.pop(source.key, None)
        return reason is not None

    def _record_timeout(self, source: Source, deadline: float) -> RunRecord:
        """Count a poll stopped at its deadline and record it as a failed run."""
        self.counters.inc("poll_timeouts", source=source.key)
        self.counters.inc("polls", source=source.key, status=RunStatus.ERROR)
        now = datetime.now(UTC)
        error = DeadlineExceeded(
            f"{source.url}: poll took longer than {deadline:g}s and was stopped"
        )
        # The same path as any failed poll: a runs row, backoff, and source health (alerts).
        return record_failure(
            source, self.app.poll, started=now - timedelta(seconds=deadline), exc=error
        )

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        """Count jobs APScheduler missed, skipped or saw crash, so they are never silent."""
        self.counters.inc(timetable.EVENTS[event.code], source=event.job_id)
        if event.code == EVENT_JOB_ERROR:  # APScheduler logs the traceback itself
            log.error("poll %s: crashed: %r", event.job_id, event.exception)
        else:
            log.warning("poll %s: %s", event.job_id, timetable.event_note(event))
