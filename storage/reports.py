"""Reports over the whole archive for the command line: article counts, and every article in order."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .dialect import is_postgres
from .hits import Bound, date_range, utc_iso
from .postgres import fragments
from .records import json_keys

if TYPE_CHECKING:
    from sqlite_utils import Database

EXPORT_COLUMNS = (
    "id",
    "source_key",
    "url",
    "canonical_url",
    "title",
    "published_at",
    "author",
    "lang",
    "topics",
    "entities",
    "lead",
    "summary",
    "body",
    "duplicate_of",
    "similarity",
    "discovered_at",
    "image_url",
)
_STATS = {
    "sources": """select source_key as key, count(*) as articles,
                         sum(duplicate_of is not null) as reprints,
                         min(published_at) as first, max(published_at) as last
                  from articles group by source_key order by articles desc, key""",
    # A broken topics value counts as no topic rather than failing the whole report. An article
    # with no topic (or no date) has the key null: a reader's table says "(none)", JSON null.
    "topics": """select t.value as key, count(*) as articles
                 from articles a left join json_each(
                     case when json_valid(a.topics) then a.topics else '[]' end) t
                 group by t.value order by t.value is null, articles desc, key""",
    "entities": """select t.value as key, count(*) as articles
                   from articles a left join json_each(
                       case when json_valid(a.entities) then a.entities else '[]' end) t
                   group by t.value order by t.value is null, articles desc, key""",
}
# Articles per UTC month: one walk of the published_at index. Reports.stats then moves, for each
# zone, the articles between its month's start and UTC's (see `zone_windows`) into its own month.
_MONTHS = (
    "select substr(published_at, 1, 7), count(*) from articles group by 1",
    "select to_char(published_at at time zone 'UTC', 'YYYY-MM'), count(*) from articles group by 1",
)
# How many articles of each window's zone's sources fall in it (window index, count). The loops
# run windows, then sources, then a range of the (source, time) index: a few thousand ranges.
_MOVED = (
    # CROSS JOIN keeps that order: left to itself, SQLite walked each source's whole index (25 s).
    # json_extract, not ->>: the operator needs SQLite 3.38, newer than some servers' system one.
    """select w.key, count(*) from json_each(?) w cross join json_each(?) s cross join articles a
       where json_extract(s.value, '$[1]') = json_extract(w.value, '$[0]')
         and a.source_key = json_extract(s.value, '$[0]')
         and a.published_at >= json_extract(w.value, '$[1]')
         and a.published_at < json_extract(w.value, '$[2]')
       group by w.key""",
    """select w.i - 1, count(*)
       from unnest(?::text[], ?::timestamptz[], ?::timestamptz[]) with ordinality w(zone, lo, hi, i)
       join unnest(?::text[], ?::text[]) s(key, zone) on s.zone = w.zone
       join articles a on a.source_key = s.key and a.published_at >= w.lo and a.published_at < w.hi
       group by w.i""",
)


@dataclass(frozen=True, slots=True)
class Window:
    """The moments between a zone's month start and UTC's: their articles move months there."""

    zone: str
    start: datetime
    end: datetime
    utc_month: str  # the month they count in by UTC
    local_month: str  # and in the zone


@dataclass(frozen=True, slots=True)
class Stats:
    """Article counts: in all, and rows by source, by topic, by entity and by month."""

    articles: int
    sources: list[dict]  # key, articles, reprints, first, last
    topics: list[dict]  # key, articles
    entities: list[dict]  # key, articles (states, organisations)
    months: list[dict]  # key, articles


class Reports:
    """Whole-archive reads: `presswatch stats` and `presswatch export`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def stats(self, *, zones: Mapping[str, str] | None = None) -> Stats:
        """Return article counts by source, by topic, by entity and by month (a source's months in
        its time zone from `zones`, key -> IANA name; UTC for the others)."""
        postgres = is_postgres(self.db)
        statements = fragments.STATS if postgres else _STATS
        tables = {
            name: [dict(zip([d[0] for d in cur.description], row)) for row in cur]
            for name, cur in ((n, self.db.execute(sql)) for n, sql in statements.items())
        }
        total = self.db.execute("select count(*) from articles").fetchone()[0]
        return Stats(articles=total, months=self.months(zones=zones or {}), **tables)

    def months(self, *, zones: Mapping[str, str]) -> list[dict]:
        """Return article counts by month, a source's months in its zone from `zones` (key -> IANA
        name; UTC for the others)."""
        postgres = is_postgres(self.db)
        utc = self.db.execute(_MONTHS[postgres]).fetchall()
        sources = [(key, zone) for key, zone in zones.items() if key]
        windows = zone_windows([m for m, _ in utc if m], {zone for _, zone in sources})
        if not windows:  # every source keeps UTC's months
            return local_months(utc, [])
        args = _moved_args(windows, sources, postgres)
        moved = self.db.execute(_MOVED[postgres], args).fetchall()
        return local_months(utc, [(windows[i], n) for i, n in moved])

    def count(self, *, since: Bound | None = None, until: Bound | None = None) -> int:
        """Return how many articles were published on or after `since` and before `until`."""
        where, params = _dated(since, until)
        return self.db.execute(f"select count(*) from articles {where}", params).fetchone()[0]

    def articles(self, *, since: Bound | None = None, until: Bound | None = None) -> Iterator[dict]:
        """Yield the articles published from `since` and before `until` (either may be None),
        oldest id first, one row at a time: memory stays flat however big the archive."""
        where, params = _dated(since, until)
        sql = f"select {', '.join(EXPORT_COLUMNS)} from articles {where} order by id"
        # PostgreSQL sends every row of a plain cursor at once: stream through a server-side one.
        cursor = (
            self.db.stream(sql, params) if is_postgres(self.db) else self.db.execute(sql, params)
        )
        for row in cursor:
            record = dict(zip(EXPORT_COLUMNS, row))
            record |= {
                "topics": list(json_keys(record["topics"])),
                "entities": list(json_keys(record["entities"])),
            }
            yield record


def _dated(since: Bound | None, until: Bound | None) -> tuple[str, list]:
    """Return the where clause and parameters of a publication-time range ('' for none)."""
    sql, args = date_range("articles", since=since, until=until)
    return (f"where {sql}" if sql else ""), args


def zone_windows(months: Iterable[str], zones: Iterable[str]) -> list[Window]:
    """Return, for each start of a month in `months` or just after one ('YYYY-MM'), each zone's
    window between its month's start and UTC's (none where they meet)."""
    # Every zone is known: `stats` passes the sources' zones, which the config refuses unless
    # ZoneInfo knows them (bot/config/checks.py `zone`).
    starts: set[datetime] = set()
    for month in months:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
        starts |= {first, (first + timedelta(days=31)).replace(day=1)}
    windows = []
    for start, name in product(sorted(starts), sorted(zones)):
        # The zone's first moment of the month: in a gap at midnight (fold 0 takes the offset
        # before it) that is the transition itself, as the zone's clocks read it.
        local = start.replace(tzinfo=ZoneInfo(name)).astimezone(UTC)
        before = f"{start - timedelta(days=1):%Y-%m}"
        if local < start:  # east of UTC: the zone's month began first
            windows.append(Window(name, local, start, before, f"{start:%Y-%m}"))
        elif local > start:
            windows.append(Window(name, start, local, f"{start:%Y-%m}", before))
    return windows


def _moved_args(windows: list[Window], sources: list[tuple[str, str]], postgres: bool) -> list:
    """Return _MOVED's arguments: the windows (zone, start, end) and the sources (key, zone)."""
    spans = [(w.zone, utc_iso(w.start), utc_iso(w.end)) for w in windows]
    if postgres:
        return [*(list(column) for column in zip(*spans)), *(list(c) for c in zip(*sources))]
    return [json.dumps(spans), json.dumps(sources)]


def local_months(
    utc: Iterable[tuple[str | None, int]], moved: Iterable[tuple[Window, int]]
) -> list[dict]:
    """Return the (UTC month, articles) rows with each window's articles moved from its UTC month
    to its zone's: a day-only date is its source's local midnight, 21:00 UTC the day before in
    Moscow, and counts in that day's month."""
    months: Counter[str | None] = Counter(dict(utc))
    for window, n in moved:
        months[window.utc_month] -= n
        months[window.local_month] += n
    return [
        {"key": key, "articles": n}
        for key, n in sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        if n
    ]
