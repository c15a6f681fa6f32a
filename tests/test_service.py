"""The service: scheduling, skipping, deadlines, shutdown, logs; and `presswatch run` end to end."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from prometheus_client.parser import text_string_to_metric_families
from telegram import Bot

from bot.cli.logs import RedactingFormatter, setup_logging
from bot.service.scheduler import Service
from storage import Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.inprocess import serve
from tests.support.postgres import new_database, point_at, rows
from tests.support.service import free_port, start_child
from tests.support.workers import wait_until
from tests.support.world import World, write_config

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = "@presswatch_test"
IA, TASS = "interaffairs-en", "tass-com"
READER = 5005


def set_source(path: Path, key: str, **columns) -> None:
    """Write columns of a source's row before the service starts."""
    conn = sqlite3.connect(path)
    names = ", ".join(columns)
    conn.execute(
        f"insert into sources (key, {names}) values (?, {', '.join('?' * len(columns))}) "
        f"on conflict(key) do update set " + ", ".join(f"{c} = excluded.{c}" for c in columns),
        [key, *columns.values()],
    )
    conn.commit()
    conn.close()


def events(service: Service, code: int, count: int = 1) -> asyncio.Event:
    """Return an event set once the scheduler has emitted `count` events of this kind."""
    seen, done = [], asyncio.Event()

    def listener(event) -> None:
        seen.append(event)
        if len(seen) >= count:
            done.set()

    service.scheduler.add_listener(listener, code)
    return done


def test_paused_and_backing_off_sources_are_not_polled(world, tmp_path, caplog) -> None:
    config = write_config(tmp_path, world)
    Store.open(tmp_path / "archive.db").close()  # migrated, so the rows can be written
    set_source(tmp_path / "archive.db", IA, paused=1)
    set_source(
        tmp_path / "archive.db",
        TASS,
        consecutive_failures=2,
        next_poll_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds"),
    )

    async def scenario(service):
        done = events(service, EVENT_JOB_EXECUTED, 2)
        await asyncio.wait_for(done.wait(), 10)

    with caplog.at_level(logging.INFO):
        serve(config, scenario)
    assert world.site(IA).hits("/") == 0 and world.site(TASS).hits("/rss/v2.xml") == 0
    assert f"poll {IA} " in caplog.text and "skipped (paused" in caplog.text
    assert "skipped (backing off after 2 failures" in caplog.text


def test_a_restart_waits_one_interval_after_the_last_poll(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    Store.open(tmp_path / "archive.db").close()
    last = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
    set_source(tmp_path / "archive.db", IA, last_poll_at=last.isoformat(timespec="seconds"))

    async def scenario(service):
        return {job.id: job.next_run_time for job in service.scheduler.get_jobs()}

    next_runs = serve(config, scenario)
    # One interval after the last poll: neither now nor a whole interval from now.
    assert last + timedelta(minutes=10) <= next_runs[IA] < datetime.now(UTC) + timedelta(minutes=9)


def test_a_hung_poll_is_stopped_at_its_deadline_and_recorded(tmp_path) -> None:
    with World(keys=(IA,)) as world:
        world.site(IA).routes["/"].drip = 0.05  # the listing trickles in for minutes
        config = write_config(tmp_path, world)

        async def scenario(service):
            done = events(service, EVENT_JOB_EXECUTED)
            await asyncio.wait_for(done.wait(), 10)
            return service.counters.value("poll_timeouts", source=IA)

        # The JSON log line of the stopped poll names its source, as the poll's own lines do.
        lines = io.StringIO()
        handler = logging.StreamHandler(lines)
        handler.setFormatter(RedactingFormatter(secrets=(), as_json=True))
        logging.getLogger("bot.ingest.poll").addHandler(handler)
        try:
            assert serve(config, scenario, poll_timeout=0.5) == 1
        finally:
            logging.getLogger("bot.ingest.poll").removeHandler(handler)
    [failed] = [json.loads(x) for x in lines.getvalue().splitlines() if "took longer" in x]
    assert failed["source"] == IA and failed["event"] == "poll"
    conn = sqlite3.connect(tmp_path / "archive.db")
    [(status, error)] = conn.execute(
        "select status, error from runs where source_key = ?", [IA]
    ).fetchall()
    assert status == "error" and error.endswith(": poll took longer than 0.5s and was stopped")
    assert conn.execute(
        "select consecutive_failures from sources where key = ?", [IA]
    ).fetchone() == (1,)


def test_an_overlapping_poll_is_skipped_and_counted_and_stop_cancels_it(tmp_path, caplog) -> None:
    with World(keys=(IA,)) as world:
        world.site(IA).routes["/"].drip = 0.05
        config = write_config(tmp_path, world)
        config.write_text(config.read_text().replace('every = "10m"', 'every = "1s"'))

        async def scenario(service):
            skipped = events(service, EVENT_JOB_MAX_INSTANCES)
            await asyncio.wait_for(skipped.wait(), 10)
            return service

        with caplog.at_level(logging.INFO):
            service = serve(config, scenario, stop_deadline=0.2)
    assert service.counters.value("jobs_skipped", source=IA) >= 1
    assert service.counters.value("jobs_crashed", source=IA) == 0  # a cancelled poll is no crash
    assert "skipped: the previous one is still running" in caplog.text
    assert f"poll {IA} " in caplog.text and ": cancelled at shutdown" in caplog.text
    assert "raised an exception" not in caplog.text and "service stopped" in caplog.text


def test_a_stop_during_a_relay_round_ends_the_relay_at_once(world, tmp_path, caplog) -> None:
    # Seen by an operator: SIGTERM while the relay paced a post left it in its 5 s idle wait, so
    # the stop waited out its whole deadline and warned "did not finish in time: relay".
    config = write_config(tmp_path, world)

    async def scenario(service):
        relay = service.app.relay
        deliver = relay.deliver_due

        async def deliver_then_stop(**kwargs):
            report = await deliver(**kwargs)
            service.stop()  # the signal arrives while the round is still under way
            return report

        relay.deliver_due = deliver_then_stop
        [loop] = [t for t in asyncio.all_tasks() if t.get_name() == "relay"]
        service._wake_relay.set()
        # Wait for the service to end the relay itself, before serve() calls stop() again.
        await asyncio.wait([loop], timeout=10)
        return loop.done() and not loop.cancelled()

    with caplog.at_level(logging.INFO):
        ended_by_itself = serve(config, scenario, stop_deadline=1.0)  # under the 5 s idle wait
    assert ended_by_itself
    assert "did not finish in time: relay" not in caplog.text


def test_missed_jobs_are_counted_not_silent(world, tmp_path, caplog) -> None:
    config = write_config(tmp_path, world)

    async def scenario(service):
        service.scheduler.pause()  # keep the real polls out of this
        service._on_job_event(JobExecutionEvent(EVENT_JOB_MISSED, IA, "default", datetime.now(UTC)))
        return service.counters.value("jobs_missed", source=IA), (await service.monitor.healthz())[
            1
        ]

    missed, health = serve(config, scenario)
    assert missed == 1 and health["sources"][IA]["jobs_missed"] == 1
    assert f"poll {IA}: missed its time" in caplog.text


# -- logs -------------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        sys.excepthook,
        threading.excepthook,
        {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "telegram")},
    )
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    sys.excepthook, threading.excepthook = saved[2], saved[3]
    for name, level in saved[4].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("as_json", [False, True])
def test_the_token_is_redacted_from_messages_and_tracebacks(as_json) -> None:
    formatter = RedactingFormatter(secrets=(DEFAULT_TOKEN,), as_json=as_json)
    try:
        raise RuntimeError(
            f"POST https://api.telegram.org/bot{DEFAULT_TOKEN}/sendMessage failed "
            f"(encoded: {DEFAULT_TOKEN.replace(':', '%3A')})"
        )
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "token %s", (DEFAULT_TOKEN,), sys.exc_info()
        )
    text = formatter.format(record)
    assert DEFAULT_TOKEN not in text and DEFAULT_TOKEN.replace(":", "%3A") not in text
    assert text.count("[redacted]") == 3 and "RuntimeError" in text
    if as_json:
        assert json.loads(text)["message"] == "token [redacted]"


def test_httpx_request_urls_are_redacted_at_debug(capsys, restore_logging) -> None:
    setup_logging(verbose=2, secrets=(DEFAULT_TOKEN,))

    async def main(base_url):
        async with Bot(DEFAULT_TOKEN, base_url=base_url) as bot:
            await bot.get_me()

    with FakeTelegram() as fake:
        asyncio.run(main(fake.base_url))
    err = capsys.readouterr().err
    assert "HTTP Request: POST http://127.0.0.1:" in err and "/bot[redacted]/getMe" in err
    assert DEFAULT_TOKEN not in err


def test_uncaught_exceptions_are_logged_redacted(capsys, restore_logging) -> None:
    setup_logging(secrets=(DEFAULT_TOKEN,))
    try:
        raise ValueError(f"bad {DEFAULT_TOKEN}")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert "uncaught exception" in err and "ValueError: bad [redacted]" in err
    assert DEFAULT_TOKEN not in err


# -- end to end: `presswatch run` as a user starts it -----------------------------------------------


def get(url: str) -> tuple[int, str, str]:
    """GET a local URL; return (status, content type, body) for any status."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def start_service(config: Path) -> subprocess.Popen:
    """Start `presswatch run` as a child process."""
    return start_child("run", config, token=DEFAULT_TOKEN)


def ask(fake: FakeTelegram, text: str) -> str:
    """Send a private message to the bot and return its reply."""
    before = len(fake.messages_for(READER))
    fake.push_message(chat_id=READER, user_id=READER, text=text)
    assert fake.wait_for(lambda: len(fake.messages_for(READER)) > before, 20), f"no reply to {text}"
    return fake.messages_for(READER)[before].text


def metric_samples(port: int) -> tuple[dict, dict]:
    """Read /metrics: its families by name and each sample's value by (name, sorted labels)."""
    status, ctype, metrics = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    return families, samples


@pytest.mark.parametrize(
    "archive", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_run_serves_health_metrics_and_chat_and_stops_on_sigterm(
    world, tmp_path, request, archive
) -> None:
    port = free_port()
    with FakeTelegram(rate_limit=RateLimit(per_chat_per_minute=60, global_per_second=30)) as fake:
        config = write_config(
            tmp_path,
            world,
            telegram_url=fake.base_url,
            backfill=10,
            extra_telegram="commands = true\n",
        )
        if archive == "postgres":
            url = new_database(request.getfixturevalue("postgres"), "presswatch_run")
            point_at(config, url)
        config.write_text(config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n')
        proc = start_service(config)
        try:
            # Ready: the six backfilled posts are out and the bot is long-polling for commands.
            ready = fake.wait_for(
                lambda: len(fake.messages_for(CHANNEL)) == 6 and fake.polling > 0, 60
            )
            assert ready and proc.poll() is None, (
                proc.stderr.read() if proc.poll() is not None else ""
            )

            status, ctype, body = get(f"http://127.0.0.1:{port}/healthz")
            health = json.loads(body)
            assert (status, ctype) == (200, "application/json")
            assert health["status"] == "ok" and health["scheduler"] == "running"
            assert health["database"] == {"ok": True}
            assert {k: v["state"] for k, v in health["sources"].items()} == {IA: "ok", TASS: "ok"}

            # The fake holds a message before the service counts its send: read until counted.
            sent = ("presswatch_posts_sent_total", (("channel", "main"),))
            wait_until(
                lambda: metric_samples(port)[1].get(sent) == 6, timeout=30, what="six sends counted"
            )
            families, samples = metric_samples(port)
            for name, labels, value in (
                ("presswatch_polls_total", {"source": TASS, "status": "ok"}, 1),
                ("presswatch_articles_stored_total", {"source": IA}, 3),
                ("presswatch_posts_sent_total", {"channel": "main"}, 6),
                ("presswatch_outbox_posts", {"channel": "main", "state": "failed"}, 0),
                ("presswatch_telegram_sends_total", {"channel": "main", "outcome": "delivered"}, 6),
                ("presswatch_post_lag_seconds_count", {"source": IA}, 3),
                ("presswatch_scheduler_running", {}, 1),
            ):
                assert samples[(name, tuple(sorted(labels.items())))] == value, name
            assert families["presswatch_post_lag_seconds"].type == "histogram"

            found = ask(fake, "/search Zas briefing")
            assert (
                "Briefing by CSTO Secretary General Stanislav Zas" in found and "<a href=" in found
            )
            assert "Subscribed to the source TASS" in ask(fake, "/subscribe tass-com")
            assert "source «TASS» — <code>/unsubscribe tass-com</code>" in ask(fake, "/mysubs")
            assert {c["command"] for c in fake.commands} >= {"search", "subscribe"}

            status_cli = subprocess.run(
                [sys.executable, "-m", "bot", "status", "--config", str(config)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert status_cli.returncode == 0, status_cli.stdout + status_cli.stderr
            assert "service: ok, scheduler running" in status_cli.stdout
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
            stdout, stderr = proc.communicate()
    assert code == 0, stderr
    assert "service stopped" in stderr and "chat commands off" in stderr
    assert DEFAULT_TOKEN not in stderr + stdout
    subscriptions = "select user_id, kind, value from subscriptions"
    if archive == "postgres":
        assert rows(url, subscriptions) == [(READER, "source", TASS)]
    else:
        conn = sqlite3.connect(tmp_path / "archive.db")
        assert conn.execute(subscriptions).fetchall() == [(READER, "source", TASS)]
