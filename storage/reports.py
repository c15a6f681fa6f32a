"""Reports over the whole archive for the command line: article counts, and every article in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .dialect import is_postgres
from .postgres import fragments
from .records import iso, json_keys

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
    "months": """select substr(published_at, 1, 7) as key,
                        count(*) as articles
                 from articles group by key order by key is null, key""",
}


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

    def stats(self) -> Stats:
        """Return article counts by source, by topic, by entity and by month."""
        statements = fragments.STATS if is_postgres(self.db) else _STATS
        tables = {
            name: [dict(zip([d[0] for d in cur.description], row)) for row in cur]
            for name, cur in ((n, self.db.execute(sql)) for n, sql in statements.items())
        }
        total = self.db.execute("select count(*) from articles").fetchone()[0]
        return Stats(articles=total, **tables)

    def count(self, *, since: datetime | None = None) -> int:
        """Return how many articles were published on or after `since` (all without it)."""
        where, params = _since(since)
        return self.db.execute(f"select count(*) from articles {where}", params).fetchone()[0]

    def articles(self, *, since: datetime | None = None) -> Iterator[dict]:
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


def _since(since: datetime | None) -> tuple[str, list]:
    """Return the where clause and parameters of a publication-time filter."""
    return ("where published_at >= ?", [iso(since)]) if since else ("", [])
