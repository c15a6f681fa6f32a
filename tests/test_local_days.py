"""Days and months are each source's local calendar days: a day-only date lands on its own day.

odkb-csto.org gives only the day, stored as Moscow midnight: 2 February 2021 is 21:00 UTC on 1
February. `--since 2021-02-02` must find it and `stats` must count a 1 March release in March.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

from bot.cli.common import local_days
from scrapers import Source
from storage import Store
from storage.search import search
from tests.support.archive import add, titles
from tests.support.cli import presswatch

CSTO = Source(key="odkb-csto-en", url="https://en.odkb-csto.org/", timezone="Europe/Moscow")
UTC_SOURCE = Source(key="tass-com", url="https://tass.com/rss/v2.xml")
SOURCES = (CSTO, UTC_SOURCE)


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


def _archive(store) -> None:
    # 2 February in Moscow (a day-only date: local midnight), then 1 February 22:00 in UTC.
    add(store, "Briefing summit", source=CSTO.key, published=datetime(2021, 2, 1, 21, tzinfo=UTC))
    add(store, "Late summit", source=UTC_SOURCE.key, published=datetime(2021, 2, 1, 22, tzinfo=UTC))
    # 1 March in Moscow.
    add(store, "March summit", source=CSTO.key, published=datetime(2021, 2, 28, 21, tzinfo=UTC))


def test_since_and_until_are_each_sources_local_day(store) -> None:
    _archive(store)
    since = local_days(_day("2021-02-02"), SOURCES)
    assert sorted(titles(search(store.db, "summit", since=since))) == [
        "Briefing summit",
        "March summit",
    ]
    # --until 2021-02-01 is "before 2 February", each source's own 2 February.
    until = local_days(_day("2021-02-01") + timedelta(days=1), SOURCES)
    assert titles(search(store.db, "summit", until=until)) == ["Late summit"]
    both = search(store.db, "summit", source=CSTO.key, since=since, until=until)
    assert both == []  # a 2 February release is not on or before 1 February
    assert store.reports.count(since=since) == 2
    # export's --until 2021-02-01: the Moscow release of 2 February is out, UTC's 1 February in.
    assert store.reports.count(until=until) == 1
    assert [r["title"] for r in store.reports.articles(until=until)] == ["Late summit"]
    assert [r["title"] for r in store.reports.articles(since=since, until=until)] == []


def test_stats_months_are_each_sources_local_months(store) -> None:
    _archive(store)
    zones = {s.key: s.timezone for s in SOURCES}
    assert store.reports.stats(zones=zones).months == [
        {"key": "2021-02", "articles": 2},
        {"key": "2021-03", "articles": 1},
    ]
    # Without zones (a source the config no longer has), months are UTC months.
    assert store.reports.stats().months == [{"key": "2021-02", "articles": 3}]


def test_an_undated_article_counts_as_unknown_month(store) -> None:
    add(store, "Undated summit", published=None)
    assert store.reports.stats(zones={}).months == [{"key": None, "articles": 1}]


def test_the_command_line_finds_the_release_on_its_own_day(tmp_path) -> None:
    archive = tmp_path / "archive.db"
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f'[storage]\npath = "{archive}"\n\n[[sources]]\nkey = "{CSTO.key}"\nkind = "html"\n'
        f'url = "{CSTO.url}"\nlink_pattern = "/news/"\ntimezone = "Europe/Moscow"\n',
        encoding="utf-8",
    )
    store = Store.open(archive)
    _archive(store)
    store.close()
    found = presswatch(
        "search", "summit", "--since", "2021-02-02", "--until", "2021-02-02",
        "--format", "json", "--config", str(config),
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert [h["title"] for h in json.loads(found.stdout)] == ["Briefing summit"]
    stats = presswatch("stats", "--format", "json", "--config", str(config))
    assert json.loads(stats.stdout)["months"] == [
        {"key": "2021-02", "articles": 2},
        {"key": "2021-03", "articles": 1},
    ]


# Zones east and west of UTC, by half an hour, with summer time, and as far east as any (+14).
ZONES = {
    "moscow": "Europe/Moscow",
    "kolkata": "Asia/Kolkata",
    "new-york": "America/New_York",
    "kiritimati": "Pacific/Kiritimati",
    "gone": "UTC",
}
# Seconds from a UTC month start: either side of every zone's month start above.
OFFSETS = (-50_400, -18_001, -18_000, -10_801, -10_800, -1, 0, 1, 14_399, 14_400, 18_000, 50_399)


def test_stats_months_agree_with_each_article_read_in_its_zone(store) -> None:
    # Month starts in winter, in summer time and at its change (New York: 1 April 2021 is EDT).
    starts = [datetime(2021, month, 1, tzinfo=UTC) for month in (1, 4, 7, 11)]
    expected: dict[str, int] = {}
    for (key, zone), start, offset in product(ZONES.items(), starts, OFFSETS):
        moment = start + timedelta(seconds=offset)
        add(store, f"{key} {moment}", source=key, published=moment)
        month = f"{moment.astimezone(ZoneInfo(zone)):%Y-%m}"
        expected[month] = expected.get(month, 0) + 1
    zones = {key: zone for key, zone in ZONES.items() if key != "gone"}  # gone: not configured
    assert store.reports.stats(zones=zones).months == [
        {"key": month, "articles": n} for month, n in sorted(expected.items())
    ]
