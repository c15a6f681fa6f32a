"""What the archive's articles hold: their languages, sources and topics, each read from an index.

A search or a listing filtered by a value no article has would walk the whole publication index
to find nothing (390-470 ms at 200,000 articles for a language; BENCHMARKS.md, "Filter values no
article has"); `absent` asks each filter's index once instead, and names what the archive holds.
The distinct values are read by skipping from one value to the next in the index (one seek each),
not by reading every entry: a few values among a million rows cost a few seeks. The statements
are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .hits import storable

# Each filter: the table and column its values are read from, the first column of an index there
# (the language's: migrations m018 and p015, an expression no search filter uses; the others from
# the first migrations).
_LANGUAGE = "coalesce(lang, '')"
_COLUMNS = {
    "source": ("articles", "source_key"),
    "topic": ("article_topics", "key"),
    "language": ("articles", _LANGUAGE),
}


@dataclass(frozen=True, slots=True)
class Absent:
    """A filter value no archived article has, and the values of that filter the archive holds."""

    kind: str  # "source", "topic" or "language"
    value: str
    held: tuple[str, ...]
    within: str = ""  # the source whose values `held` lists ("" for the whole archive)


def absent(
    db: Any, *, source: str | None = None, topic: str | None = None, lang: str | None = None
) -> Absent | None:
    """Return the first given filter value no archived article has (source, topic, language),
    or a language no article of the given source is in; None when each is held (the filters
    together, or with a date range, may still match nothing)."""
    for kind, value in (("source", source), ("topic", topic), ("language", lang)):
        if value and not (storable(value) and _holds(db, kind, value)):
            return Absent(kind, value, held(db, kind))
    if source and lang and not _pair(db, lang, source):
        # A source writes in few languages: one seek for each the archive holds.
        langs = tuple(code for code in held(db, "language") if _pair(db, code, source))
        return Absent("language", lang, langs, within=source)
    return None


def held(db: Any, kind: str) -> tuple[str, ...]:
    """Return the distinct non-empty values of a filter ("source", "topic", "language") that
    archived articles hold, in order."""
    table, column = _COLUMNS[kind]
    # A recursive walk of the index: each step seeks the first value past the last one.
    rows = db.execute(
        f"""with recursive v(value) as (
                select (select {column} from {table} where {column} > '' order by {column} limit 1)
                union all
                select (select {column} from {table} where {column} > v.value
                        order by {column} limit 1)
                from v where v.value is not null)
            select value from v where value is not null"""
    )
    return tuple(r[0] for r in rows)


def _holds(db: Any, kind: str, value: str) -> bool:
    """Return True when some archived article has `value` for the filter (one index seek)."""
    table, column = _COLUMNS[kind]
    row = db.execute(f"select exists (select 1 from {table} where {column} = ?)", [value])
    return bool(row.fetchone()[0])


def _pair(db: Any, lang: str, source: str) -> bool:
    """Return True when some article of `source` is in language `lang` (one index seek)."""
    sql = f"select exists (select 1 from articles where {_LANGUAGE} = ? and source_key = ?)"
    return bool(db.execute(sql, [lang, source]).fetchone()[0])


def published_span(db: Any) -> tuple[str, str] | None:
    """Return the UTC days the archive's first and last dated articles were published on (from
    the publication index, a seek each), or None when no article has a date."""
    # Two subqueries: SQLite reads min() or max() from an index only when each stands alone.
    first, last = db.execute(
        "select (select min(published_at) from articles), (select max(published_at) from articles)"
    ).fetchone()
    return None if first is None else (str(first)[:10], str(last)[:10])
