"""Source health: the pure decisions, table-driven, and polls against a loopback site into SQLite."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.config import HealthConfig, config_from_dict
from bot.ingest.health import Change, advice, assess
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.models import Source
from storage import RunRecord, Store
from storage.alerts import HealthState
from tests.support.clocks import HandClock

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
POLICY = HealthConfig(
    alert_after_failures=3, alert_after_empty_polls=3, max_backoff_seconds=6 * 3600
)
FEED = Source(
    key="tass-com",
    name="TASS",
    kind="feed",
    url="https://tass.com/rss/v2.xml",
    max_silence_seconds=2 * 86400,
)
DOWN = "https://tass.com/rss/v2.xml: HTTP 503 Service Unavailable"
EMPTY = "https://tass.com/rss/v2.xml: the feed has no items"
NO_LINKS = (
    "https://example.org/news/: no links match link_pattern '^https://example\\.org/news/\\d+$'"
)


def run(status: str = "ok", error: str | None = None, *, new: int = 0, links: int = 5) -> RunRecord:
    kind = ("NoLinksFound" if error in (EMPTY, NO_LINKS) else "HTTPStatusError") if error else None
    return RunRecord(
        "tass-com",
        NOW - timedelta(seconds=5),
        NOW,
        status,
        links_found=0 if status == "error" else links,
        new_articles=new,
        error=error,
        error_kind=kind,
    )


def facts(
    health: str = "ok",
    *,
    empty: int = 0,
    failures: int = 0,
    newest: datetime | None = NOW - timedelta(hours=1),
) -> HealthState:
    return HealthState(
        key="tass-com",
        health=health,
        empty_polls=empty,
        consecutive_failures=failures,
        failing_since=NOW - timedelta(hours=2) if failures else None,
        newest_at=newest,
    )


OLD = NOW - timedelta(days=3)
PATIENT = HealthConfig(alert_after_failures=5, alert_after_empty_polls=3)

# (what it shows, facts after the run was recorded, the run, policy, expected (health, empty polls,
# alert kind) or None for "nothing changes")
DECISIONS = [
    ("one failure is not an outage", facts(failures=1), run("error", DOWN), POLICY, None),
    ("two failures are not either", facts(failures=2), run("error", DOWN), POLICY, None),
    (
        "the third failure alerts",
        facts(failures=3),
        run("error", DOWN),
        POLICY,
        ("failing", 0, "source_failing"),
    ),
    (
        "a failing source alerts once",
        facts("failing", failures=7),
        run("error", DOWN),
        POLICY,
        None,
    ),
    (
        "a working poll recovers it",
        facts("failing"),
        run("ok", new=1),
        POLICY,
        ("ok", 0, "source_recovered"),
    ),
    ("so does a 304", facts("failing"), run("not_modified"), POLICY, ("ok", 0, "source_recovered")),
    (
        "and a poll with some bad pages",
        facts("failing"),
        run("partial", "HTTP 404"),
        POLICY,
        ("ok", 0, "source_recovered"),
    ),
    (
        "an empty poll is counted",
        facts(failures=1),
        run("error", NO_LINKS),
        POLICY,
        ("ok", 1, None),
    ),
    (
        "the third empty poll means silent",
        facts(empty=2, failures=3),
        run("error", NO_LINKS),
        POLICY,
        ("silent", 3, "source_silent"),
    ),
    (
        "an empty feed counts too",
        facts(empty=2, failures=3),
        run("error", EMPTY),
        POLICY,
        ("silent", 3, "source_silent"),
    ),
    (
        "another error keeps the empty count",
        facts(empty=2, failures=3),
        run("error", DOWN),
        PATIENT,
        None,
    ),
    ("a working poll resets it", facts(empty=2), run("ok"), POLICY, ("ok", 0, None)),
    (
        "failing turning silent stays quiet",
        facts("failing", empty=2, failures=5),
        run("error", NO_LINKS),
        POLICY,
        ("silent", 3, None),
    ),
    (
        "nothing new for longer than max_silence",
        facts(newest=OLD),
        run("ok"),
        POLICY,
        ("silent", 0, "source_silent"),
    ),
    ("a stale source alerts once", facts("silent", newest=OLD), run("ok"), POLICY, None),
    (
        "a new article ends the silence",
        facts("silent", newest=OLD),
        run("ok", new=1),
        POLICY,
        ("ok", 0, "source_recovered"),
    ),
    (
        "one failure does not end a silence",
        facts("silent", failures=1, newest=OLD),
        run("error", DOWN),
        POLICY,
        None,
    ),
    ("an empty archive cannot be stale", facts(newest=None), run("ok"), POLICY, None),
]


@pytest.mark.parametrize(
    ("facts_", "run_", "policy", "expected"),
    [d[1:] for d in DECISIONS],
    ids=[d[0] for d in DECISIONS],
)
def test_assess_decides(
    facts_: HealthState, run_: RunRecord, policy: HealthConfig, expected
) -> None:
    change = assess(FEED, run_, facts_, policy, now=NOW)
    assert (
        None if change is None else (change.health, change.empty_polls, change.alert_kind)
    ) == expected


def test_without_max_silence_an_old_archive_is_fine() -> None:
    source = Source(key="tass-com", url=FEED.url, kind="feed")
    assert (
        assess(source, run("ok"), facts(newest=NOW - timedelta(days=400)), POLICY, now=NOW) is None
    )


def test_a_failing_alert_says_what_since_when_the_error_and_what_to_do() -> None:
    change = assess(FEED, run("error", DOWN), facts(failures=3), POLICY, now=NOW)
    assert isinstance(change, Change)
    assert change.alert_text.startswith(
        "presswatch: source tass-com (TASS) is failing: 3 polls in a row"
    )
    assert "since 2026-05-16 10:00 UTC" in change.alert_text
    assert f"Last error: {DOWN}" in change.alert_text
    assert "the site is down, slow or unreachable" in change.alert_text
    assert (
        "backing off up to 6h" in change.alert_text and "check-source tass-com" in change.alert_text
    )


def test_an_empty_alert_suspects_a_redesign_and_proposes_add() -> None:
    change = assess(FEED, run("error", EMPTY), facts(empty=2, failures=3), POLICY, now=NOW)
    assert "3 polls in a row found no article links" in change.alert_text
    assert "may have been redesigned" in change.alert_text
    assert f"presswatch add {FEED.url}" in change.alert_text


def test_a_stale_alert_names_the_newest_article_and_max_silence() -> None:
    change = assess(FEED, run("ok"), facts(newest=OLD), POLICY, now=NOW)
    assert "no new article since 2026-05-13 12:00 UTC (3d; max_silence is 2d)" in change.alert_text


def test_a_recovery_alert_says_it_works_again() -> None:
    change = assess(FEED, run("ok", new=2), facts("failing"), POLICY, now=NOW)
    assert change.alert_text == (
        "presswatch: source tass-com (TASS) has recovered (it was failing): "
        "the poll at 2026-05-16 12:00 UTC worked (5 links, 2 new)."
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("https://x.example/: HTTP 404 Not Found", "no longer exists"),
        ("https://x.example/: HTTP 403 Forbidden", "refuses our requests"),
        (
            "https://x.example/: disallowed by robots.txt for our user agent",
            "robots.txt now forbids",
        ),
        ("https://x.example/: HTTP 429 Too Many Requests", "raise `every`"),
        ("https://x.example/: no complete answer within 20s", "down, slow or unreachable"),
        ("https://x.example/rss: not an RSS or Atom feed", "find the site's current feed"),
        (
            "http://169.254.169.254/: 169.254.169.254 resolves to non-public address 169.254.169.254",
            "private address",
        ),
        ("https://x.example/: body is larger than 5000000 bytes after decoding", "fetch.max_bytes"),
        ("https://x.example/: more than 5 redirects", "redirects too often"),
        ("unexpected ValueError: boom", "open the source's URL in a browser"),
    ],
)
def test_advice_fits_the_error(error: str, expected: str) -> None:
    assert expected in advice(error)


# -- real polls into a SQLite file ----------------------------------------------------------------

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
    tmp_path: Path, site, *, admin: str | None = "-1001234567890", max_silence: str | None = None
):
    source = {
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


def query(config, sql: str) -> list[dict]:
    store = Store.open(config.storage_path)
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


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
