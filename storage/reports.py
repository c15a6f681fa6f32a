"""Reports over the whole archive for the command line: article counts, and every article in order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .dialect import is_postgres
from .hits import Bound, published_bound
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
# Articles per source and UTC month, by hour only on the days a zone can move into another
# month (the 1st, the 28th-31st): Reports.stats folds those into each source's local months.
_HOURS = (
    """select source_key, case when substr(published_at, 9, 2) in ('01', '28', '29', '30', '31')
              then substr(published_at, 1, 13) else substr(published_at, 1, 7) end, count(*)
       from articles group by 1, 2""",
    """select source_key, case when extract(day from published_at at time zone 'UTC')
              in (1, 28, 29, 30, 31)
              then to_char(published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24')
              else to_char(published_at at time zone 'UTC', 'YYYY-MM') end, count(*)
       from articles group by 1, 2""",
)


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
        hours = self.db.execute(_HOURS[postgres]).fetchall()
        total = self.db.execute("select count(*) from articles").fetchone()[0]
        return Stats(articles=total, months=local_months(hours, zones or {}), **tables)

    def count(self, *, since: Bound | None = None) -> int:
        """Return how many articles were published on or after `since` (all without it)."""
        where, params = _since(since)
        return self.db.execute(f"select count(*) from articles {where}", params).fetchone()[0]

    def articles(self, *, since: Bound | None = None) -> Iterator[dict]:
        """Yield articles oldest id first, one row at a time: memory stays flat however big the archive."""
        where, params = _since(since)
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


def _since(since: Bound | None) -> tuple[str, list]:
    """Return the where clause and parameters of a publication-time filter."""
    if not since:
        return "", []
    sql, args = published_bound("articles", ">=", since)
    return f"where {sql}", args


def local_months(
    hours: Iterable[tuple[str, str | None, int]], zones: Mapping[str, str]
) -> list[dict]:
    """Fold (source, UTC hour 'YYYY-MM-DDTHH' or month, articles) rows into months, each in its
    zone: a day-only date is its source's local midnight, 21:00 UTC the day before in Moscow."""
    months: Counter[str | None] = Counter()
    for source, hour, n in hours:
        if hour is None:  # no date
            months[None] += n
            continue
        if len(hour) == 7:  # mid-month: the same month in any zone
            months[hour] += n
            continue
        moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        months[f"{moment.astimezone(_zone(zones.get(source, 'UTC'))):%Y-%m}"] += n
    # An hour is the unit: a zone offset by half an hour may count a boundary's half hour off.
    return [
        {"key": key, "articles": n}
        for key, n in sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]


def _zone(name: str) -> ZoneInfo:
    """Return the zone `name` (UTC when the system does not know it)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
