"""On PostgreSQL a `once` that meets a `once` still running skips its round as on SQLite (exit 0,
the same line), because the lock's session names its holder (command, pid, machine) and its
start; meeting the service it still refuses (exit 1), naming the holder. A real PostgreSQL."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from functools import partial

import psycopg
import pytest

from bot.cli.rounds import overlap
from storage import AlreadyRunning
from storage.postgres import holder
from storage.postgres.backend import PostgresBackend
from storage.postgres.holder import application_name
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch as run_presswatch
from tests.support.cron import cron_config, feed_site
from tests.support.postgres import new_database, point_at

pytestmark = pytest.mark.postgres
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
NO_TELEGRAM = "http://127.0.0.1:9/bot"  # unreachable, not refused: `once` goes on to the archive
HOST = application_name("once").split(" on ", 1)[1]  # this machine, as the lock's session says it


@pytest.fixture
def feed():
    """A loopback site serving one small synthetic feed."""
    with feed_site() as address:
        yield address


@pytest.fixture
def pg_url(postgres, request) -> str:
    """A fresh migrated database of its own for each test."""
    return new_database(postgres, "pw_" + re.sub(r"\W", "_", request.node.name)[-40:].lower())


def test_a_once_meeting_a_once_on_postgresql_skips_its_round_as_on_sqlite(
    tmp_path, feed, pg_url
) -> None:
    config = point_at(cron_config(tmp_path, feed=feed, telegram=NO_TELEGRAM), pg_url)
    backend = PostgresBackend(pg_url)
    try:
        with backend.lock(role="once"):
            result = presswatch("once", "--config", str(config))
    finally:
        backend.close()
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()  # one line, and nothing polled
    assert line.startswith(
        f"presswatch once: skipped this round: `presswatch once` pid {os.getpid()} on {HOST} "
        "has run for "
    )
    assert line.endswith(" s (still within 15 min 00 s)")


def test_the_holder_s_start_is_its_lock_session_s(pg_url) -> None:
    backend = PostgresBackend(pg_url)
    try:
        before = datetime.now(UTC).replace(microsecond=0)
        with backend.lock(role="once"):
            after = datetime.now(UTC)
            with pytest.raises(AlreadyRunning) as caught:
                backend.lock(role="once").acquire()
    finally:
        backend.close()
    held = caught.value
    assert (held.pid, held.role, held.host) == (os.getpid(), "once", HOST)
    assert held.since is not None and before <= held.since <= after


def test_a_once_meeting_the_service_on_postgresql_still_refuses_naming_it(
    tmp_path, feed, pg_url
) -> None:
    config = point_at(cron_config(tmp_path, feed=feed, telegram=NO_TELEGRAM), pg_url)
    backend = PostgresBackend(pg_url)
    try:
        with backend.lock(role="run"):
            result = presswatch("once", "--config", str(config))
    finally:
        backend.close()
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"presswatch: another presswatch process (pid {os.getpid()} on {HOST}; server pid "
    )
    assert line.endswith(f"is using {pg_url}; stop it first")


def test_a_long_host_name_is_clipped_to_what_postgresql_keeps() -> None:
    name = application_name("backfill", pid=4242, host="h" * 80)
    assert name.startswith("presswatch backfill pid 4242 on hhh") and len(name.encode()) == 63


def test_a_once_of_an_older_presswatch_is_met_by_its_start_with_no_pid(pg_url) -> None:
    # Before 2026-12-07 the lock's session was named "presswatch once", with no pid or machine.
    older = psycopg.connect(pg_url, autocommit=True, application_name="presswatch once")
    backend = PostgresBackend(pg_url)
    try:
        assert older.execute("select pg_try_advisory_lock(%s, %s)", (0x7077, 1)).fetchone()[0]
        with pytest.raises(AlreadyRunning) as caught:
            backend.lock(role="once").acquire()
    finally:
        backend.close()
        older.close()
    held = caught.value
    assert (held.pid, held.role, held.host) == (None, "once", "")
    assert held.since is not None
    assert overlap(held, now=held.since) == 0  # within 15 minutes: the round is skipped


def test_the_holder_s_age_is_measured_by_the_server_s_clock(pg_url, monkeypatch) -> None:
    # This machine's clock runs an hour ahead of the server's: the holder has still run seconds.
    ahead = timedelta(hours=1)

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + ahead

    monkeypatch.setattr(holder, "datetime", Ahead)
    backend = PostgresBackend(pg_url)
    try:
        with backend.lock(role="once"):
            with pytest.raises(AlreadyRunning) as caught:
                backend.lock(role="once").acquire()
    finally:
        backend.close()
    ran = datetime.now(UTC) + ahead - caught.value.since
    assert timedelta(0) <= ran < timedelta(minutes=1)
