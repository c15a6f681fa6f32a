"""Source health: the pure decisions (failing, silent, recovered, alerts, advice), table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import HealthConfig
from bot.ingest.health import Change, advice, assess, steady
from scrapers.models import Source
from storage import RunRecord, SourceState
from storage.alerts import HealthState

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


QUIET = Source(key="tass-com", url=FEED.url, kind="feed")  # no max_silence
ALL_CASES = [
    (source, state, run_)
    for source in (FEED, QUIET)
    for state in (
        SourceState("tass-com"),
        SourceState("tass-com", health="failing", consecutive_failures=4),
        SourceState("tass-com", health="silent"),
        SourceState("tass-com", empty_polls=1),
    )
    for run_ in (
        run("ok", new=1),
        run("ok"),
        run("partial", new=2),
        run("not_modified", links=0),
        run("error", DOWN),
        run("error", EMPTY),
    )
]
STEADY_CASES = [(s, state, r) for s, state, r in ALL_CASES if steady(s, r, state)]  # 6 of 48


@pytest.mark.parametrize(("source", "state", "run_"), STEADY_CASES)
def test_a_steady_run_is_one_assess_finds_no_change_in(
    source: Source, state: SourceState, run_: RunRecord
) -> None:
    # A poll that finds the source steady skips reading the health facts: it must be sure that
    # assess, given them, changes nothing, whatever the newest article's age.
    for newest in (None, NOW - timedelta(days=30)):
        known = facts(state.health, empty=state.empty_polls, newest=newest)
        assert assess(source, run_, known, POLICY, now=NOW) is None


def test_steady_takes_the_usual_poll_of_a_healthy_source_only() -> None:
    healthy = SourceState("tass-com")
    assert steady(FEED, run("ok", new=1), healthy)
    assert steady(QUIET, run("ok"), healthy)  # no new article, but silence is not watched
    assert not steady(FEED, run("ok"), healthy)  # silence watched: the newest one's age decides
    assert not steady(FEED, run("error", DOWN), healthy)
    assert not steady(FEED, run("ok", new=1), SourceState("tass-com", health="failing"))
    assert not steady(FEED, run("ok", new=1), SourceState("tass-com", empty_polls=2))


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
