"""When a source falls due, and how long its poll may take (bot/service/timetable.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.service.timetable import falls_due, interval_job, poll_deadline

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_source_never_polled_falls_due_now() -> None:
    assert falls_due(None, 600, NOW) == NOW


def test_a_source_polled_lately_falls_due_one_interval_after_its_last_poll() -> None:
    assert falls_due(NOW - timedelta(seconds=100), 600, NOW) == NOW + timedelta(seconds=500)


def test_an_overdue_source_falls_due_now_not_at_a_time_already_past() -> None:
    assert falls_due(NOW - timedelta(hours=5), 600, NOW) == NOW


def test_a_poll_may_take_most_of_its_interval_but_never_less_than_30_seconds() -> None:
    assert poll_deadline(600) == 540.0
    assert poll_deadline(20) == 30.0
    assert poll_deadline(600, 2.5) == 2.5  # `run`'s own timeout wins


def test_the_interval_job_spreads_by_at_most_a_minute_and_runs_one_at_a_time() -> None:
    job = interval_job(3600)
    assert job["trigger"].jitter == 60 and job["trigger"].interval == timedelta(hours=1)
    assert job["max_instances"] == 1 and job["coalesce"] is True
    assert job["misfire_grace_time"] == 1800
    assert interval_job(300)["trigger"].jitter == 30.0
