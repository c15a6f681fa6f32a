"""The truth about failures: a wrong token, an unreachable world, a kicked bot, a robots.txt 503.

Each case is what an operator met following the README: presswatch must say what is wrong, in
one line where one line is enough, and never report "ok" when it is not.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import error as tg

from bot.config import HealthConfig, TelegramConfig
from bot.delivery.telegram import Delivered, Message, RetryLater, classify_error
from bot.ingest.health import advice, assess, record_health
from bot.secrets import token_flaw
from bot.service.counters import Counters, MeteredSender
from bot.service.reachability import TelegramCheck, TelegramState, check_telegram
from scrapers.models import Source
from storage import Delivery, Health, RunRecord, Store
from storage.alerts import HealthState
from storage.status import TOKEN_REFUSED
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import presswatch
from tests.support.monitor import T0, article, make_config, monitor
from tests.support.offline import closed_port, offline_config
from tests.support.relay import InTurn
from tests.support.service import RunningService, free_port
from tests.support.world import World, write_config

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
WRONG = "999:WRONG"


def test_once_with_a_wrong_token_exits_1_with_one_clear_line(tmp_path) -> None:
    with FakeTelegram() as fake:
        config = offline_config(tmp_path, telegram=fake.base_url)
        result = presswatch("once", "--config", str(config), token=WRONG)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "presswatch: Telegram refused the bot token in PRESSWATCH_TELEGRAM_TOKEN: fix it "
        "(BotFather's /token shows it), or telegram.api_base_url, whose wrong path is refused "
        "alike; nothing was polled or posted"
    ]
    assert not (tmp_path / "archive.db").exists()  # nothing polled, nothing stored


def test_a_first_run_that_reaches_nothing_says_so_in_one_line_and_fails(tmp_path) -> None:
    telegram = f"http://127.0.0.1:{closed_port()}/bot"
    config = offline_config(tmp_path, telegram=telegram)
    result = presswatch("once", "--config", str(config), token=DEFAULT_TOKEN)
    assert result.returncode == 1
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith(
        "0 of 2 sources polled fine (2 gave no answer); 0 new articles; Telegram: unreachable ("
    )
    assert summary.endswith("posted 0, retrying 0, uncertain 0, failed 0")
    assert DEFAULT_TOKEN not in result.stderr

    # Sources that never worked are not "ok … failed 1x in a row".
    sources = presswatch("sources", "--config", str(config)).stdout
    assert "[never worked (1 poll so far)]" in sources and "1x" not in sources
    status = presswatch("status", "--config", str(config))
    alpha = next(line for line in status.stdout.splitlines() if line.startswith("alpha"))
    assert alpha.split()[1] == "failing" and "never worked (1 poll so far)" in alpha
    assert status.returncode == 1 and "needs attention: alpha, beta" in status.stdout


def test_once_names_each_failing_source_and_its_reason_on_one_line(tmp_path) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    result = presswatch("once", "--config", str(config), token=None)
    told = [line for line in result.stderr.splitlines() if "connection failed" in line]
    # One line each, the log's, not a second copy printed before the summary.
    assert len(told) == 2, told
    named = sorted(line.split(" poll ")[1].split()[0] for line in told)
    assert named == ["alpha", "beta"] and all(": failed: http://127.0.0.1:" in t for t in told)


def test_once_on_the_console_is_fine_without_telegram(tmp_path) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    result = presswatch("once", "--config", str(config), token=None)
    summary = result.stderr.strip().splitlines()[-1]
    assert "Telegram: off (no PRESSWATCH_TELEGRAM_TOKEN: posts go to the console)" in summary
    assert result.returncode == 1  # the sources failed, not Telegram


def test_the_check_tells_a_refused_token_from_an_unreachable_api() -> None:
    with FakeTelegram() as fake:
        ok = asyncio.run(
            check_telegram(TelegramConfig(api_base_url=fake.base_url, token=DEFAULT_TOKEN))
        )
        refused = asyncio.run(
            check_telegram(TelegramConfig(api_base_url=fake.base_url, token=WRONG))
        )
    gone = TelegramConfig(api_base_url=f"http://127.0.0.1:{closed_port()}/bot", token=DEFAULT_TOKEN)
    unreachable = asyncio.run(check_telegram(gone))
    assert ok.state == TelegramState.OK and ok.detail.startswith("bot @")
    assert refused == TelegramCheck(TelegramState.REFUSED)  # no detail: PTB's quotes the token
    assert unreachable.state == TelegramState.UNREACHABLE and not unreachable.healthy
    assert DEFAULT_TOKEN not in unreachable.detail


def test_a_refused_token_is_worded_as_the_archive_looks_for_it() -> None:
    outcome = classify_error(tg.InvalidToken("Unauthorized"))
    assert isinstance(outcome, RetryLater) and outcome.reason.startswith(TOKEN_REFUSED)


# -- /healthz -----------------------------------------------------------------------------------


def archive_with(tmp_path: Path, *, failed_post: bool = False, refused: bool = False):
    """Return a config whose two sources work, with a failed or token-refused post if asked."""
    config = make_config(tmp_path)
    store = Store.open(config.storage_path)
    for key in ("alpha", "beta"):
        store.sources.record_run(RunRecord(key, T0, T0, "ok", links_found=1))
    main = [Delivery("main", "@presswatch_test")]
    article_id = store.add_article(article(1, T0), source_key="alpha", now=T0, deliveries=main)
    if failed_post:
        store.db.execute(
            "update outbox set state = 'failed', last_error = 'Forbidden: bot was kicked'"
        )
    if refused:
        store.db.execute("update outbox set last_error = ?", [f"{TOKEN_REFUSED}: Unauthorized"])
    store.db.conn.commit()
    store.close()
    assert article_id
    return config


def test_healthz_is_ok_when_everything_works(tmp_path) -> None:
    status, body = asyncio.run(monitor(archive_with(tmp_path)).healthz())
    assert (status, body["status"]) == (200, "ok") and "reasons" not in body


def test_a_channel_that_failed_for_good_makes_healthz_degraded(tmp_path) -> None:
    mon = monitor(archive_with(tmp_path, failed_post=True))
    status, body = asyncio.run(mon.healthz())
    assert status == 200 and body["status"] == "degraded"
    assert body["reasons"] == ["channel main has failed posts"]
    assert body["channels"] == {"main": {"failed_posts": 1}}
    strict, _ = asyncio.run(mon.healthz(strict=True))
    assert strict == 503  # for monitors that read only the status code


def test_a_refused_token_makes_healthz_degraded(tmp_path) -> None:
    counters = Counters()
    counters.telegram.latest = TelegramCheck(TelegramState.REFUSED)
    status, body = asyncio.run(monitor(archive_with(tmp_path), counters).healthz())
    assert status == 200 and body["status"] == "degraded"
    assert body["telegram"]["state"] == "refused"
    assert body["reasons"] == [
        "Telegram: the bot token was refused (check PRESSWATCH_TELEGRAM_TOKEN)"
    ]
    # A restarted service that has not asked Telegram yet still sees the archive's word.
    _, body = asyncio.run(monitor(archive_with(tmp_path / "2", refused=True)).healthz())
    assert body["status"] == "degraded" and body["reasons"][0].startswith("Telegram: the bot token")


def test_sends_keep_the_word_on_telegram_and_the_console_is_not_telegram() -> None:
    counters = Counters()
    sender = MeteredSender(
        InTurn(
            RetryLater(600, f"{TOKEN_REFUSED}: Unauthorized"),
            RetryLater(30, "network: down"),
            Delivered(1),
        ),
        counters,
        channels={"@c": "main"},
    )
    states = []
    for _ in range(3):
        asyncio.run(sender.send(Message(chat_id="@c", text="x")))
        states.append(counters.telegram.latest.state)
    assert states == ["refused", "unreachable", "ok"]

    console = MeteredSender(
        InTurn(Delivered(None)), counters, channels={"@c": "main"}, console=True
    )
    asyncio.run(console.send(Message(chat_id="@c", text="x")))
    assert counters.value("posts_printed", channel="main") == 1
    assert counters.value("posts_sent", channel="main") == 1  # only the one Telegram took


# -- source health alerts -----------------------------------------------------------------------

FEED = Source(key="tass-com", name="TASS", kind="feed", url="https://tass.com/rss/v2.xml")
POLICY = HealthConfig(alert_after_failures=1, alert_after_empty_polls=3)
ROBOTS_503 = "https://tass.com/robots.txt: robots.txt unavailable (HTTP 503)"


def failed(error: str) -> RunRecord:
    return RunRecord("tass-com", NOW, NOW, "error", error=error, error_kind="FetchError")


def test_a_robots_txt_that_answers_503_is_no_reason_to_drop_robots() -> None:
    said = advice(ROBOTS_503)
    assert "robots = false" not in said and "server error" in said
    assert "robots = false" in advice(
        "https://x.org/a: disallowed by robots.txt for our user agent"
    )
    change = assess(
        FEED,
        failed(ROBOTS_503),
        HealthState("tass-com", consecutive_failures=1, failing_since=NOW),
        POLICY,
        now=NOW,
    )
    assert change.alert_kind == "source_failing"
    assert "is failing: 1 poll has failed since" in change.alert_text
    assert "robots = false" not in change.alert_text


def test_a_recovery_without_an_admin_chat_is_logged_at_info(tmp_path, caplog) -> None:
    store = Store.open(tmp_path / "archive.db")
    store.sources.record_run(failed(ROBOTS_503))
    store.health.save("tass-com", health=Health.FAILING, empty_polls=0, now=NOW)
    ok = RunRecord("tass-com", NOW, NOW + timedelta(minutes=10), "ok", links_found=3)
    store.sources.record_run(ok)
    with caplog.at_level(logging.INFO, logger="bot.ingest.health"):
        record_health(FEED, ok, store=store, policy=POLICY, admin_chat_id=None)
    store.close()
    [record] = [r for r in caplog.records if "has recovered" in r.getMessage()]
    assert record.levelno == logging.INFO


def test_a_health_update_that_fails_leaves_the_run_it_shares_a_commit_with(tmp_path) -> None:
    # A poll's run and its health are one transaction (one sync to disk); the health update is a
    # savepoint in it, so a failure half-way undoes only itself.
    store = Store.open(tmp_path / "archive.db")
    save = store.health.save

    def save_then_fail(key: str, **fields) -> None:
        save(key, **fields)  # written, then undone with its savepoint
        raise RuntimeError("disk trouble")

    store.health.save = save_then_fail
    ok = RunRecord("tass-com", NOW, NOW + timedelta(minutes=10), "ok", 3, new_articles=1)
    with store.transaction():
        store.sources.record_run(ok)
        record_health(FEED, ok, store=store, policy=POLICY, admin_chat_id="@admin")
    rows = list(store.db.query("select status, new_articles from runs"))
    [source] = store.db.query("select last_poll_at, last_new_at from sources")
    store.close()
    assert rows == [{"status": "ok", "new_articles": 1}]
    # The run's update of the source stays; the health update's (when articles last came) does not.
    assert source == {"last_poll_at": "2026-05-16T12:10:00+00:00", "last_new_at": None}


def test_run_with_a_wrong_token_is_not_ok_and_status_fails(tmp_path) -> None:
    port = free_port()
    with FakeTelegram() as fake, World(keys=("interaffairs-en",)) as world:
        config = write_config(tmp_path, world, telegram_url=fake.base_url, backfill=1)
        config.write_text(config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n')
        with RunningService(config, port=port, token=WRONG) as service:
            body = service.wait_for_health(lambda b: b["telegram"]["state"] == "refused")
            status = presswatch("status", "--config", str(config))
            assert service.stop() == 0
    assert body["status"] == "degraded" and body["reasons"] == [
        "Telegram: the bot token was refused (check PRESSWATCH_TELEGRAM_TOKEN)"
    ]
    assert status.returncode == 1
    assert "needs attention: Telegram (the bot token was refused" in status.stdout
    refused = [line for line in service.log if "Telegram refused the bot token" in line]
    assert refused and " ERROR " in refused[0] and WRONG not in "\n".join(service.log)


def test_an_archive_whose_lock_file_cannot_be_made_is_one_line_and_exit_3_as_run(
    tmp_path,
) -> None:
    # Seen by an operator: an archive in a folder the service user may not write gave a
    # PermissionError traceback. A directory where the lock file goes fails alike, even as root.
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    (tmp_path / "archive.db.lock").mkdir()
    result = presswatch("once", "--config", str(config), token=None)
    assert result.returncode == 3  # as `run` and `check`: no retry fixes it
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"presswatch: cannot lock the archive {tmp_path / 'archive.db'}: ")
    assert str(tmp_path / "archive.db.lock") in line and "Traceback" not in result.stderr
    assert line.endswith(
        "; nothing polled or posted: point storage.path at a folder this user can write "
        "(systemd: /var/lib/presswatch)"
    )


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ('"123456789:AAE-fake_Token"', "wrapped in quotes"),
        ("'123456789:AAE-fake_Token'", "wrapped in quotes"),
        ("bot123456789:AAE-fake_Token", "starts with 'bot'"),
        ("123456789:AAE fake", "holds a space"),
        ("AAE-fake_Token", "not shaped as BotFather gives one"),
        ('"', "not shaped as BotFather gives one"),  # one quote wraps nothing
        ("", "not shaped as BotFather gives one"),
        ("123456789:AAE-fake_Token", ""),
    ],
)
def test_a_token_that_cannot_be_one_is_told_why(token: str, said: str) -> None:
    told = token_flaw(token)
    assert (said in told) if said else told == ""
    bare = token.strip("'\"")
    assert not bare or bare not in told  # never the token itself


def test_once_with_a_quoted_token_says_what_is_wrong_with_it(tmp_path) -> None:
    # Seen by an operator: docker's --env-file passes quotes on, and Telegram's refusal alone
    # sent them to BotFather for a token that was right. Told before anything is asked.
    with FakeTelegram() as fake:
        config = offline_config(tmp_path, telegram=fake.base_url)
        result = presswatch("once", "--config", str(config), token=f'"{DEFAULT_TOKEN}"')
        assert fake.requests == []
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("presswatch: config error: PRESSWATCH_TELEGRAM_TOKEN: not a bot token")
    assert "it is wrapped in quotes" in line and DEFAULT_TOKEN not in line


def test_run_whose_http_address_is_taken_refuses_to_start_with_one_line_and_exit_3(
    tmp_path,
) -> None:
    config = offline_config(tmp_path, telegram=f"http://127.0.0.1:{closed_port()}/bot")
    with socket.socket() as other:  # another process's endpoint on the configured address
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        config.write_text(config.read_text() + f'[service]\nhttp = "127.0.0.1:{port}"\n')
        result = presswatch("run", "--config", str(config), timeout=60)
    assert result.returncode == 3
    told = [line for line in result.stderr.splitlines() if line.startswith("presswatch: ")]
    assert told == [
        f"presswatch: service.http: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "whatever answers /healthz there is not this service: stop the other process or choose "
        "another [service] http (another worker on this machine: presswatch run --http "
        "HOST:PORT); not started"
    ]
    assert " poll " not in result.stderr and "service started" not in result.stderr


def test_run_on_an_sqlite_archive_it_cannot_open_exits_3_not_1(tmp_path) -> None:
    config = offline_config(tmp_path, telegram=f"http://127.0.0.1:{closed_port()}/bot")
    # Synthetic: the lock file's name taken by a folder fails as an unwritable folder does
    # (these tests run as root, whom folder permissions do not stop).
    (tmp_path / "archive.db.lock").mkdir()
    result = presswatch("run", "--config", str(config), timeout=60)
    assert result.returncode == 3, result.stderr
    [told] = [line for line in result.stderr.splitlines() if line.startswith("presswatch: ")]
    assert told.startswith(f"presswatch: cannot lock the archive {tmp_path / 'archive.db'}: ")
    assert told.endswith(
        "; not started: point storage.path at a folder this user can write "
        "(systemd: /var/lib/presswatch)"
    )


def test_run_on_an_archive_another_process_is_writing_exits_1_to_be_restarted(tmp_path) -> None:
    config = offline_config(tmp_path, telegram=f"http://127.0.0.1:{closed_port()}/bot")
    Store.open(tmp_path / "archive.db").close()
    # Synthetic: a write held past SQLite's 10 s wait (an operator's sqlite3 shell mid-transaction).
    other = sqlite3.connect(tmp_path / "archive.db", isolation_level=None)
    other.execute("begin immediate")
    try:
        result = presswatch("run", "--config", str(config), timeout=60)
    finally:
        other.close()
    # It was 3 with "point storage.path at a folder this user can write", which systemd does
    # not restart: the service stayed down after the other process let go.
    assert result.returncode == 1, result.stderr
    assert "database is locked" in result.stderr and "not started" not in result.stderr
    assert "another process held a write on it" in result.stderr
    assert "must be writable" not in result.stderr
