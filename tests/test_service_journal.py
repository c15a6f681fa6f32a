"""What `run` tells: the first round in one line, a heartbeat after it, the next poll of every source."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace

from bot.config import UncertainPolicy
from bot.service import scheduler
from bot.service.counters import Counters
from bot.service.journal import stop_line
from storage import Store
from storage.status import Snapshot
from tests.support.inprocess import serve
from tests.support.offline import offline_config
from tests.support.world import World, write_config

IA = "interaffairs-en"


async def logged(caplog, text: str, *, after: str | None = None, timeout: float = 20) -> str:
    """Wait until a log line containing `text` appears (after one containing `after`); return it."""
    async with asyncio.timeout(timeout):
        while True:
            lines = [r.getMessage() for r in caplog.records]
            start = next((i for i, line in enumerate(lines) if after in line), None) if after else 0
            found = [line for line in lines[start:] if text in line] if start is not None else []
            if found:
                return found[0]
            await asyncio.sleep(0.02)


def test_an_offline_first_round_is_one_warning_then_heartbeats_follow(tmp_path, caplog) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")

    async def scenario(service):
        first = await logged(caplog, "first round:")
        # A heartbeat whose snapshot was read while the last poll was being recorded can be
        # logged just after the first round's line and name one source only; the next names both.
        beat = await logged(caplog, "sources ok (failing: alpha, beta)", after="first round:")
        return first, beat

    with caplog.at_level(logging.INFO):
        first, beat = serve(config, scenario, heartbeat=0.05)
    assert first == (
        "first round: 0 of 2 sources polled fine (2 gave no answer); 0 new articles; "
        "Telegram: off (no PRESSWATCH_TELEGRAM_TOKEN: posts go to the console)"
    )
    [record] = [r for r in caplog.records if r.getMessage() == first]
    assert record.levelno == logging.WARNING
    assert beat.startswith("heartbeat: ")
    assert "0 of 2 sources ok (failing: alpha, beta)" in beat
    assert "outbox: nothing pending" in beat and "next poll " in beat


def test_a_healthy_first_round_is_info_and_every_source_has_its_next_poll(tmp_path, caplog) -> None:
    with World(keys=(IA,)) as world:
        config = write_config(tmp_path, world)

        async def scenario(service):
            await logged(caplog, "first round:")
            return await service.monitor.healthz()

        with caplog.at_level(logging.INFO):
            status, body = serve(config, scenario)
    [record] = [r for r in caplog.records if r.getMessage().startswith("first round:")]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("first round: 1 of 1 sources polled fine; 3 new articles")
    assert status == 200 and body["sources"][IA]["state"] == "ok"
    assert body["sources"][IA]["next_poll_at"] is not None  # healthy sources have one too


def test_a_stop_sums_up_what_the_service_did_and_what_it_leaves_pending(tmp_path, caplog) -> None:
    # A daily digest channel holds the first run's post until midnight: pending at the stop.
    digest = '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\ndigest = "1d"\n'
    with World(keys=(IA,)) as world:
        config = write_config(tmp_path, world, backfill=1, channels=digest)

        async def scenario(service):
            await logged(caplog, "first round:")

        with caplog.at_level(logging.INFO):
            serve(config, scenario)
    [line] = [r.getMessage() for r in caplog.records if "service stopped" in r.getMessage()]
    assert line.startswith("service stopped; since ")
    assert line.endswith(
        ": 1 poll (0 failed), 3 new articles, 0 posts; "
        "left in the outbox: 1 held for their time (digest, quiet hours)"
    )


def test_the_stop_line_counts_in_words_and_says_who_sends_what_is_left() -> None:
    counters = Counters()
    for status in ("ok", "ok", "error", "skipped"):  # a skipped poll is no poll
        counters.inc("polls", source="alpha", status=status)
    counters.inc("new_articles", 1, source="alpha")
    counters.inc("posts_sent", 1, channel="main")
    since = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
    line = partial(stop_line, counters, since=since)
    did = "since 2026-05-16 12:00 UTC: 3 polls (1 failed), 1 new article, 1 post; "
    two_due = Snapshot(outbox={("main", "pending"): 2, ("main", "sent"): 5})
    assert line(outbox=two_due, shared=False) == (
        did + "left in the outbox: 2 posts due, sent at the next start"
    )
    one_each = Snapshot(outbox={("main", "pending"): 1, ("daily", "pending"): 1}, held={"daily": 1})
    assert line(outbox=one_each, shared=True) == (
        "this worker " + did + "left in the shared outbox: 1 post due, the other workers or the "
        "next start send them; 1 held for their time (digest, quiet hours)"
    )
    held = Snapshot(outbox={("daily", "pending"): 3}, held={"daily": 3})
    assert line(outbox=held, shared=False) == (
        did + "left in the outbox: 3 held for their time (digest, quiet hours)"
    )
    sent = Snapshot(outbox={("main", "sent"): 4})
    assert line(outbox=sent, shared=False) == did + "nothing left pending in the outbox"
    assert line(outbox=None, shared=False) == did + "the outbox could not be read"


def test_the_first_round_tells_paused_sources_from_failing_ones(tmp_path, caplog) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    store = Store.open(tmp_path / "archive.db")
    store.sources.set_paused("alpha", paused=True)
    store.sources.set_paused("beta", paused=True)
    store.close()

    async def scenario(service):
        return await logged(caplog, "first round:")

    with caplog.at_level(logging.INFO):
        first = serve(config, scenario)
    assert first.startswith(
        "first round: 0 of 2 sources polled fine (2 not polled: 2 paused: alpha, beta (/resume KEY)); "
    )


def test_a_stop_does_not_wait_on_an_archive_that_never_answers(monkeypatch, caplog) -> None:
    # The monitor's read never returns: the stop's summary gives up after STOP_READ.
    async def never(*, full: bool) -> Snapshot:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(scheduler, "STOP_READ", 0.05)
    service = SimpleNamespace(monitor=SimpleNamespace(snapshot=never))
    with caplog.at_level(logging.WARNING):
        # The outer bound only turns a hang into a failure, should the stop's own bound go.
        left = asyncio.wait_for(scheduler.Service._left_pending(service), 30)
        assert asyncio.run(left) is None
    assert "the outbox could not be read at stop: TimeoutError" in caplog.text


def test_the_stop_line_names_the_posts_held_for_the_operator_as_once_does() -> None:
    # A kill -9 left 5 posts uncertain: the stop line says so, in once's words, not "nothing left".
    since = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
    line = partial(stop_line, Counters(), since=since, shared=False)
    did = "since 2026-05-16 12:00 UTC: 0 polls (0 failed), 0 new articles, 0 posts; "
    five = Snapshot(outbox={("main", "uncertain"): 5, ("main", "sent"): 4}, undecided=2)
    assert line(outbox=five) == (
        did + "left in the outbox: 5 posts held for you: presswatch outbox list --state uncertain"
    )
    # Under "probe" only those a probe could not settle wait for the operator; under "resend" none.
    assert line(outbox=five, policy=UncertainPolicy.PROBE) == (
        did + "left in the outbox: 2 posts held for you: presswatch outbox list --state uncertain"
    )
    assert line(outbox=five, policy=UncertainPolicy.RESEND) == (
        did + "nothing left pending in the outbox"
    )


def test_run_names_the_posts_held_for_the_operator_at_its_first_round_and_stop(
    tmp_path, caplog
) -> None:
    # A kill -9 left the posts uncertain; run's log said only "nothing left pending".
    with World(keys=(IA,)) as world:
        config = write_config(tmp_path, world, backfill=1)

        async def first_round(service):
            return await logged(caplog, "first round:")

        with caplog.at_level(logging.INFO):
            serve(config, first_round)
            with sqlite3.connect(tmp_path / "archive.db") as db:
                kept = db.execute("update outbox set state = 'uncertain'").rowcount
                db.execute("update sources set last_poll_at = null")  # due again at the start
            assert kept == 1
            caplog.clear()
            line = serve(config, first_round)
    held = "1 post held for you: presswatch outbox list --state uncertain"
    assert line.endswith(f"; {held}")
    [stop] = [r.getMessage() for r in caplog.records if "service stopped" in r.getMessage()]
    assert stop.endswith(f"; left in the outbox: {held}")
