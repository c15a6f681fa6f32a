"""`presswatch once` under cron: a post cut mid-send that waits for the operator fails every
round (exit 1, the summary names the command) and `status` names it, until the operator acts;
a round that meets a `once` still running skips itself (exit 0, or 1 when that one looks hung)."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.app import not_due_until
from scrapers.models import Article, Source
from storage import AlreadyRunning, Delivery, InstanceLock, OutboxState, Store
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch as run_presswatch
from tests.support.service import start_child

NOW = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
HELD = "1 post held for you: presswatch outbox list --state uncertain"


def cron_config(
    tmp_path: Path, *, feed: str, telegram: str, extra: str = "", channel: str = ""
) -> Path:
    """Write a config with one loopback feed source, the fake Bot API, `extra` [telegram] keys
    and `channel` keys of its one channel."""
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "archive.db"}"\n\n'
        "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n\n"
        f'[telegram]\napi_base_url = "{telegram}"\n{extra}\n'
        f'[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n{channel}\n'
        f'[[sources]]\nkey = "wire-a"\nkind = "feed"\nurl = "{feed}"\nfetch_pages = false\n'
        "robots = false\n",
        encoding="utf-8",
    )
    return path


def queue_one(archive: Path) -> Store:
    """Archive one synthetic article queued for the main channel; return the open store."""
    store = Store.open(archive)
    store.add_article(
        Article(url="https://tass.com/1", canonical_url="https://tass.com/1", title="Cut"),
        source_key="wire-a",
        now=NOW,
        deliveries=[Delivery("main", "@presswatch_test")],
    )
    return store


def cut_mid_send(archive: Path) -> None:
    """Leave one post as a kill -9 inside its send does: claimed (`sending`), never marked."""
    store = queue_one(archive)
    store.db.execute("update outbox set state = ?", [OutboxState.SENDING])
    store.db.conn.commit()
    store.close()


@pytest.fixture
def feed():
    """A loopback site serving one small synthetic feed."""
    with FakeSites() as sites:
        body = atom_feed(sites.base_url, "wire-a", 2, random.Random(1))
        sites.add("/wire-a.xml", body, content_type="application/atom+xml")
        yield f"{sites.base_url}/wire-a.xml"


def test_a_post_cut_mid_send_fails_every_once_until_the_operator_acts(
    tmp_path, feed, telegram
) -> None:
    config = cron_config(tmp_path, feed=feed, telegram=telegram.base_url)
    presswatch("once", "--config", str(config))  # the first run only records (baseline)
    cut_mid_send(tmp_path / "archive.db")
    first = presswatch("once", "--config", str(config))
    later = presswatch("once", "--config", str(config))
    status = presswatch("status", "--config", str(config))
    for result in (first, later):
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines()[-1].endswith("; " + HELD)
    assert status.returncode == 1
    assert f"needs attention: {HELD}" in status.stdout
    # The operator settles it (it did arrive): the next round is quiet again.
    dropped = presswatch("outbox", "drop", "1", "--config", str(config))
    assert dropped.returncode == 0, dropped.stderr
    after = presswatch("once", "--config", str(config))
    assert after.returncode == 0, after.stderr
    assert "held for you" not in after.stderr
    assert presswatch("status", "--config", str(config)).returncode == 0


def test_under_resend_a_post_cut_mid_send_is_sent_again_and_fails_nothing(
    tmp_path, feed, telegram
) -> None:
    config = cron_config(
        tmp_path, feed=feed, telegram=telegram.base_url, extra='uncertain = "resend"\n'
    )
    presswatch("once", "--config", str(config))
    cut_mid_send(tmp_path / "archive.db")
    result = presswatch("once", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "held for you" not in result.stderr
    assert len(telegram.messages_for("@presswatch_test")) == 1


@pytest.mark.parametrize(("settlement", "named"), [("held", True), (None, False)])
def test_under_probe_status_names_a_post_the_probe_left_for_the_operator(
    tmp_path, feed, telegram, settlement, named
) -> None:
    # `once` said "held for you" of a row the probe could not settle; `status` said nothing.
    extra = 'uncertain = "probe"\nprobe_chat_id = "-1009999"\n'
    config = cron_config(tmp_path, feed=feed, telegram=telegram.base_url, extra=extra)
    presswatch("once", "--config", str(config))  # the first run only records (baseline)
    store = queue_one(tmp_path / "archive.db")
    store.db.execute(
        "update outbox set state = ?, settlement = ?", [OutboxState.UNCERTAIN, settlement]
    )
    store.db.conn.commit()
    store.close()
    status = presswatch("status", "--config", str(config))
    assert (status.returncode, f"needs attention: {HELD}" in status.stdout) == (int(named), named)


@pytest.mark.parametrize(
    ("ago", "code", "says"),
    [
        # Minutes only: the seconds grow with the child's start, which no test should time.
        (timedelta(minutes=3), 0, "has run for 3 min "),
        (timedelta(minutes=20), 1, "has run for 20 min "),
    ],
)
def test_a_once_that_meets_a_running_once_skips_the_round(tmp_path, feed, ago, code, says) -> None:
    config = cron_config(tmp_path, feed=feed, telegram="http://127.0.0.1:9/bot")
    started = datetime.now(UTC) - ago
    with InstanceLock(tmp_path / "archive.db", role="once", now=started):
        result = presswatch("once", "--config", str(config))
    assert result.returncode == code, result.stderr
    [line] = result.stderr.strip().splitlines()  # one line, and nothing polled
    assert line.startswith(
        f"presswatch once: skipped this round: `presswatch once` pid {os.getpid()} {says}"
    )
    assert ("it may hang" in line) == (code == 1)
    # The endings README quotes.
    assert line.endswith(
        f"it may hang (kill {os.getpid()} to stop it)" if code else "(still within 15 min 00 s)"
    )


def test_a_once_that_meets_the_service_still_refuses(tmp_path, feed) -> None:
    config = cron_config(tmp_path, feed=feed, telegram="http://127.0.0.1:9/bot")
    with InstanceLock(tmp_path / "archive.db", role="run"):
        result = presswatch("once", "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"presswatch: another presswatch process (pid {os.getpid()}) is using "
        f"{tmp_path / 'archive.db'}; stop it first"
    )


def poll_started(archive: Path, ago: timedelta) -> None:
    """Move the recorded start of every poll `ago` back from now, as if it ran then."""
    store = Store.open(archive)
    store.db.execute("update runs set started_at = ?", [(datetime.now(UTC) - ago).isoformat()])
    store.db.conn.commit()
    store.close()


def test_once_polls_a_source_only_when_its_interval_has_come(tmp_path, telegram) -> None:
    with FakeSites() as sites:
        body = atom_feed(sites.base_url, "wire-a", 2, random.Random(1))
        sites.add("/wire-a.xml", body, content_type="application/atom+xml")
        config = cron_config(
            tmp_path, feed=f"{sites.base_url}/wire-a.xml", telegram=telegram.base_url
        )
        archive = tmp_path / "archive.db"
        first = presswatch("once", "--config", str(config))
        again = presswatch("once", "--config", str(config))  # a */1 cron against every = "10m"
        hits_early = sites.hits("/wire-a.xml")
        forced = presswatch("once", "--all", "--config", str(config))
        poll_started(archive, timedelta(minutes=9, seconds=30))  # a */10 cron a little early
        on_time = presswatch("once", "--config", str(config))
        hits = sites.hits("/wire-a.xml")
    assert first.returncode == again.returncode == forced.returncode == on_time.returncode == 0
    assert hits_early == 1 and hits == 3
    line = again.stderr.strip().splitlines()[-1]
    assert line.startswith("0 of 1 sources polled fine (1 not due yet (next ")
    assert " UTC)); 0 new articles" in line
    for result in (forced, on_time):
        assert result.stderr.strip().splitlines()[-1].startswith("1 of 1 sources polled fine;")


def start_once(config: Path, *args: str) -> subprocess.Popen:
    """Start `presswatch once` as a child process (to signal it mid-round)."""
    return start_child("once", config, *args, token=DEFAULT_TOKEN)


def test_sigterm_stops_once_cleanly_with_its_summary(tmp_path, telegram) -> None:
    # `timeout` sends SIGTERM: the round used to die with no summary (and a send cut mid-way).
    with FakeSites() as sites:
        # A feed that drips a byte every half second holds its poll until the signal comes.
        sites.add("/wire-a.xml", "x" * 10_000, content_type="application/atom+xml", drip=0.5)
        config = cron_config(
            tmp_path, feed=f"{sites.base_url}/wire-a.xml", telegram=telegram.base_url
        )
        child = start_once(config)
        try:
            assert sites.wait_for_hit("/wire-a.xml", timeout=60)
            child.send_signal(signal.SIGTERM)
            _, err = child.communicate(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 1, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("0 of 1 sources polled fine (1 cut short); 0 new articles;"), line
    assert line.endswith("; stopped by SIGTERM")


def test_the_summary_counts_posts_held_for_quiet_hours(tmp_path, feed, telegram) -> None:
    now = datetime.now(UTC)
    hours = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    config = cron_config(
        tmp_path, feed=feed, telegram=telegram.base_url, channel=f'quiet_hours = "{hours}"\n'
    )
    presswatch("once", "--config", str(config))  # the first run only records (baseline)
    queue_one(tmp_path / "archive.db").close()
    result = presswatch("once", "--all", "--config", str(config))
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith(
        "; posted 0, retrying 0, uncertain 0, failed 0; 1 held for their time (digest, quiet hours)"
    )
    assert telegram.messages_for("@presswatch_test") == []


@pytest.mark.parametrize(
    ("every", "ago", "due"),
    [
        (600, 600 - 50, True),  # a */10 cron a few seconds early against every = "10m"
        (600, 600 - 70, False),
        (1800, 60, False),  # a */1 cron against every = "30m": 29 of 30 ticks poll nothing
        (1800, 1800 - 60, True),
        (30, 30 - 3, True),  # a tenth of a short interval, not a whole minute
        (30, 30 - 4, False),
    ],
)
def test_a_source_is_due_when_at_most_a_minute_or_a_tenth_of_every_remains(every, ago, due) -> None:
    source = Source(key="wire-a", url="http://127.0.0.1:9/feed", every_seconds=every)
    until = not_due_until(source, NOW - timedelta(seconds=ago), now=NOW)
    assert (until is None) == due
    assert not_due_until(source, None, now=NOW) is None  # never polled: due


def test_a_lock_file_from_an_older_presswatch_dates_its_holder_by_the_file(tmp_path) -> None:
    # Before "since=", the file said only "PID once": its write time is when that once began.
    path = tmp_path / "archive.db.lock"
    path.write_text(f"{os.getpid()} once")
    began = datetime.now(UTC) - timedelta(minutes=20)
    os.utime(path, (began.timestamp(), began.timestamp()))
    holder = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(tmp_path / "archive.db", role="once").acquire()
    finally:
        os.close(holder)
    assert (caught.value.pid, caught.value.role) == (os.getpid(), "once")
    assert abs(caught.value.since - began) < timedelta(seconds=1)


def test_sigterm_during_a_send_holds_that_post_for_the_next_round(tmp_path, feed, telegram) -> None:
    # A send Telegram never answers outlives the stop's deadline: the round is cancelled, its
    # summary still counts the poll that ended, and the next round names the post held for you.
    config = cron_config(tmp_path, feed=feed, telegram=telegram.base_url)
    presswatch("once", "--config", str(config))  # the first run only records (baseline)
    queue_one(tmp_path / "archive.db").close()
    telegram.hang_next(1, seconds=60)
    child = start_once(config, "--all")
    try:
        assert telegram.wait_for(lambda: telegram.held == 1, timeout=60)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 1, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("1 of 1 sources polled fine; 0 new articles;"), line
    assert line.endswith("; stopped by SIGTERM")
    after = presswatch("once", "--config", str(config))
    assert after.returncode == 1, after.stderr
    assert after.stderr.strip().splitlines()[-1].endswith("; " + HELD)
