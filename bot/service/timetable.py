"""When each source is polled and for how long, and what APScheduler's job events are counted as.

Pure decisions of time, apart from the service that acts on them (scheduler.py, polling.py) and from the
fleet's workers (fleet.py), which have no scheduler of their own but tell the same time due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.triggers.interval import IntervalTrigger

# The events counted (never silent), each under its counter's name.
EVENTS = {
    EVENT_JOB_MISSED: "jobs_missed",
    EVENT_JOB_MAX_INSTANCES: "jobs_skipped",
    EVENT_JOB_ERROR: "jobs_crashed",
}
EVENT_MASK = EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR


def falls_due(last: datetime | None, every: int, now: datetime) -> datetime:
    """Return when a source falls due: one interval after its last poll, never before now."""
    # A restart (or a crash loop) must not re-poll every site at once; an overdue source goes out
    # now, so "first poll KEY at" and next_poll_at never name a time already past.
    return max(now, last + timedelta(seconds=every)) if last else now


def interval_job(every: int) -> dict[str, Any]:
    """Return APScheduler's options for a source's job: every interval, spread by jitter."""
    return {
        "trigger": IntervalTrigger(seconds=every, jitter=min(every * 0.1, 60), timezone=UTC),
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": max(60, every // 2),
    }


def poll_deadline(every: int, timeout: float | None = None) -> float:
    """Return how long a poll may take: `timeout` if given, else most of its interval."""
    return timeout or max(30.0, every * 0.9)


def event_note(event: JobExecutionEvent) -> str:
    """Return what a missed or skipped job is logged as (a crash logs its exception instead)."""
    if event.code == EVENT_JOB_MISSED:
        return "missed its time (the loop was busy)"
    return "skipped: the previous one is still running"
