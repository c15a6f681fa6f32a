"""Source health in real polls: a loopback site into a SQLite file, alerts queued or logged."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.config import config_from_dict
from bot.ingest.failures import backoff_seconds
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import RunRecord, Store
from tests.support.clocks import HandClock

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)

LISTING = """<html><body><h1>News</h1>
<a href="/news/1001">Foreign ministers of the CSTO meet in Almaty on Friday</a>
<a href="/news/1002">Secretary General briefs the press on the results of the year</a>
</body></html>"""
ARTICLE = """<html lang="en"><head><title>{title}</title>
<meta property="article:published_time" content="2026-05-1{n}T09:00:00+03:00"></head>
<body><article><h1>{title}</h1><p>{title}. The meeting discussed regional security, the situation
on the borders and plans for joint exercises of the collective forces later this year.</p>
</article></body></html>"""


@pytest.fixture
def site(sites):
    sites.add("/news/", LISTING)
    sites.add(
        "/news/1001", ARTICLE.format(n=4, title="Foreign ministers of the CSTO meet in Almaty")
    )
    sites.add("/news/1002", ARTICLE.format(n=5, title="Secretary General briefs the press"))
    return sites


def make_config(
    tmp_path: Path,
    site,
    *,
    admin: str | None = "-1001234567890",
    max_silence: str | None = None,
    every: str = "10m",
    max_backoff: str = "6h",
):
    source = {
        "every": every,
        "key": "example-news",
        "name": "Example News",
        "url": f"{site.base_url}/news/",
        "link_pattern": r"^http://127\.0\.0\.1:\d+/news/\d+$",
    }
    if max_silence:
        source["max_silence"] = max_silence
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "fetch": {
                "allow_private_addresses": True,
                "min_delay_per_host": 0,
                "retries": 0,
                "timeout": 5,
            },
            "telegram": {"admin_chat_id": admin} if admin else {},
            "health": {"max_backoff": max_backoff},
            "sources": [source],
        },
        path=tmp_path / "presswatch.toml",
    )


def poll_times(
    config, clock: HandClock, times: int = 1, *, step: timedelta = timedelta(minutes=10)
) -> list[RunRecord]:
    """Poll the one source `times` times, the clock moving `step` before each poll."""

    async def go():
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(
                    config, fetcher=Fetcher(client, config.fetch), store=store, clock=clock
                )
                runs = []
                for _ in range(times):
                    clock.now += step
                    runs.append(await poll_source(config.sources[0], ctx))
                return runs
        finally:
            store.close()

    return asyncio.run(go())


def execute(config, sql: str) -> None:
    """Change the archive directly (a state that would take thousands of polls to reach)."""
    conn = sqlite3.connect(config.storage_path)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


def query(config, sql: str) -> list[dict]:
    store = Store.open(config.storage_path)
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


def test_backoff_after_ten_thousand_failures_at_the_longest_interval_is_the_cap(
    site, tmp_path
) -> None:
    # `every * 2**failures` overflowed timedelta after ~38 failures (OverflowError every poll).
    config, clock = make_config(tmp_path, site, every="31d", max_backoff="7d"), HandClock(NOW)
    site.add("/news/", "overloaded", status=503)
    poll_times(config, clock)
    execute(config, "update sources set consecutive_failures = 10000")
    [run] = poll_times(config, clock)
    assert run.status == "error" and "503" in run.error
    [state] = query(config, "select consecutive_failures, next_poll_at from sources")
    assert state["consecutive_failures"] == 10_001
    assert datetime.fromisoformat(state["next_poll_at"]) == run.finished_at + timedelta(days=7)


def test_backoff_doubles_from_the_interval_up_to_the_cap() -> None:
    assert [backoff_seconds(600, n, 6 * 3600) for n in range(7)] == [
        600,
        1200,
        2400,
        4800,
        9600,
        19200,
        21600,
    ]
    assert backoff_seconds(600, 10**9, 6 * 3600) == 6 * 3600
    assert backoff_seconds(31 * 86400, 10_000, 7 * 86400) == 7 * 86400


def test_a_failing_source_is_alerted_once_then_its_recovery(site, tmp_path) -> None:
    config, clock = make_config(tmp_path, site), HandClock(NOW)
    poll_times(config, clock)
    site.add("/news/", "overloaded", status=503)
    runs = poll_times(config, clock, 4)
    assert [r.status for r in runs] == ["error"] * 4
    [state] = query(config, "select health, empty_polls from sources")
    assert state == {"health": "failing", "empty_polls": 0}
    [alert] = query(config, "select chat_id, subject, kind, state, text from alerts")
    assert alert["chat_id"] == "-1001234567890" and alert["subject"] == "example-news"
    assert (alert["kind"], alert["state"]) == ("source_failing", "pending")
    assert "3 polls in a row have failed since 2026-05-16 12:20 UTC" in alert["text"]
    assert "HTTP 503" in alert["text"]
    site.add("/news/", LISTING)
    poll_times(config, clock)
    assert query(config, "select health from sources") == [{"health": "ok"}]
    assert [a["kind"] for a in query(config, "select kind from alerts order by id")] == [
        "source_failing",
        "source_recovered",
    ]


def test_a_redesigned_listing_makes_the_source_silent(site, tmp_path) -> None:
    config, clock = make_config(tmp_path, site), HandClock(NOW)
    poll_times(config, clock)
    site.add(
        "/news/", "<html><body><div id='app'></div><script src='/app.js'></script></body></html>"
    )
    poll_times(config, clock, 2)
    assert query(config, "select health, empty_polls from sources") == [
        {"health": "ok", "empty_polls": 2}
    ]
    assert query(config, "select * from alerts") == []
    poll_times(config, clock)
    assert query(config, "select health, empty_polls from sources") == [
        {"health": "silent", "empty_polls": 3}
    ]
    [alert] = query(config, "select kind, text from alerts")
    assert alert["kind"] == "source_silent" and "may have been redesigned" in alert["text"]


def test_a_source_with_nothing_new_beyond_max_silence_is_silent_once(site, tmp_path) -> None:
    config, clock = make_config(tmp_path, site, max_silence="1d"), HandClock(NOW)
    poll_times(config, clock)  # The first run stores two articles: the source has just yielded.
    assert query(config, "select health from sources") == [{"health": "ok"}]
    poll_times(config, clock, 3, step=timedelta(hours=12))
    assert query(config, "select health from sources") == [{"health": "silent"}]
    [alert] = query(config, "select kind, text from alerts")
    assert alert["kind"] == "source_silent"
    assert "no new article since 2026-05-16 12:10 UTC (1d; max_silence is 1d)" in alert["text"]
    site.add(
        "/news/",
        LISTING.replace(
            "</body>",
            '<a href="/news/1003">Leaders adopt a joint statement on the anniversary</a></body>',
        ),
    )
    site.add("/news/1003", ARTICLE.format(n=6, title="Leaders adopt a joint statement"))
    poll_times(config, clock)
    assert [a["kind"] for a in query(config, "select kind from alerts order by id")] == [
        "source_silent",
        "source_recovered",
    ]
    assert query(config, "select last_new_at from sources") == [
        {"last_new_at": "2026-05-18 00:20:00+00:00".replace(" ", "T")}
    ]


def test_without_an_admin_chat_the_alert_is_logged(site, tmp_path, caplog) -> None:
    config, clock = make_config(tmp_path, site, admin=None), HandClock(NOW)
    site.add("/news/", "gone", status=404)
    with caplog.at_level(logging.WARNING, logger="bot.ingest.health"):
        poll_times(config, clock, 3)
    [record] = [r for r in caplog.records if r.name == "bot.ingest.health"]
    assert record.levelno == logging.WARNING
    assert "is failing: 3 polls in a row" in record.getMessage()
    assert "no telegram.admin_chat_id" in record.getMessage()
    assert query(config, "select health from sources") == [{"health": "failing"}]
    assert query(config, "select * from alerts") == []
