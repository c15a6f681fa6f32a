"""What a search finds and how its filters read: shared by the SQLite and the PostgreSQL search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .records import json_keys

# Highlight marks around matched words in `SearchHit.snippet` (plain text, never HTML). Private-use
# characters, which no press page uses, so a reader can tell a match from a bracket of the text:
# the command line shows [word], the chat <b>word</b> (see `marked`).
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"


def marked(snippet: str, start: str, end: str) -> str:
    """Return a snippet with each match between `start` and `end`, balanced even when the
    snippet was cut inside a match (or the page held a stray mark character)."""
    shown, inside = [], False
    for char in snippet:
        if char in (MARK_OPEN, MARK_CLOSE):
            if (char == MARK_OPEN) != inside:
                shown.append(end if inside else start)
                inside = not inside
            continue
        shown.append(char)
    return "".join(shown) + (end if inside else "")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One archived article found by `search` or `latest`.

    `rank` is lower for more relevant hits (FTS5's bm25 on SQLite, minus ts_rank on PostgreSQL;
    0.0 from `latest`); `snippet` is plain text with matched words between MARK_OPEN and
    MARK_CLOSE (the summary, from `latest`); `duplicate_of` is the original's id when the article
    is a reprint.
    """

    id: int
    source_key: str
    url: str
    title: str
    published_at: str | None
    lang: str
    topics: tuple[str, ...]
    snippet: str
    rank: float
    duplicate_of: int | None = None
    entities: tuple[str, ...] = ()  # states, organisations: `--topic csto` filters by them too


def filters(
    *,
    source: str | None = None,
    topic: str | None = None,
    lang: str | None = None,
    since: Bound | None = None,
    until: Bound | None = None,
) -> tuple[str, list]:
    """Return the 'and …' SQL of the filters on articles `a`, and its arguments."""
    where, args = [], []
    if source:
        where.append("a.source_key = ?")
        args.append(source)
    if lang:
        where.append("a.lang = ?")
        args.append(lang)
    dated, dates = date_range("a", since=since, until=until)
    if dated:
        where.append(dated)
        args += dates
    if topic:
        where.append(_TOPIC)
        args.append(topic)
    return "".join(f" and {w}" for w in where), args


# article_topics holds a row for every topic and entity an article has (the archive adds a bare
# one for a listed topic that came without reasons; migration m007 did so for older archives),
# so a topic filter is one lookup in its primary key. Topic and entity keys share the table: the
# config keeps them apart.
_TOPIC = "exists (select 1 from article_topics t where t.article_id = a.id and t.key = ?)"


def dicts(cursor: Any) -> list[dict[str, Any]]:
    """Return a cursor's rows as dicts."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def hit(row: dict[str, Any], *, snippet: str, rank: float) -> SearchHit:
    """Build a SearchHit from an articles row."""
    return SearchHit(
        id=row["id"],
        source_key=row["source_key"],
        url=row["url"],
        title=row["title"],
        published_at=row["published_at"],
        lang=row["lang"] or "",
        topics=json_keys(row["topics"]),
        snippet=" ".join((snippet or "").split()),
        rank=float(rank),
        duplicate_of=row["duplicate_of"],
        entities=json_keys(row.get("entities")),
    )


def storable(*values: str | None) -> bool:
    """Return False when a filter value cannot be UTF-8 (a lone surrogate): it matches nothing."""
    try:
        for value in values:
            if value:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ordered(hits: list[SearchHit], limit: int) -> list[SearchHit]:
    """Return the best `limit` hits: most relevant first, newest first among equals."""
    hits.sort(key=lambda h: h.published_at or "", reverse=True)  # stable: the tie-break first
    hits.sort(key=lambda h: h.rank)
    return hits[:limit]


def utc_iso(moment: datetime) -> str:
    """Return a moment as the stored UTC text (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# A day's start: one moment, or each source's own (key -> moment; "" for every other source),
# so that a day means the source's local calendar day (its day-only dates are local midnights).
Bound = datetime | Mapping[str, datetime]


def date_range(alias: str, *, since: Bound | None, until: Bound | None) -> tuple[str, list]:
    """Return the SQL of a date range on `alias`.published_at ('' without bounds), and its args."""
    where, args = [], []
    for bound, op in ((since, ">="), (until, "<")):
        if bound:
            sql, bound_args = published_bound(alias, op, bound)
            where.append(sql)
            args += bound_args
    return " and ".join(where), args


def published_bound(alias: str, op: str, bound: Bound) -> tuple[str, list]:
    """Return the SQL comparing `alias`.published_at with a bound by `op` ('>=' or '<'), and its
    arguments; a per-source bound first narrows by its extreme moment, so an index still serves."""
    column = f"{alias}.published_at"
    if isinstance(bound, datetime):
        return f"{column} {op} ?", [utc_iso(bound)]
    default = utc_iso(bound.get("") or min(bound.values()))
    moments: dict[str, list[str]] = {}
    for key, moment in bound.items():
        if key and utc_iso(moment) != default:  # a UTC source needs no branch of its own
            moments.setdefault(utc_iso(moment), []).append(key)
    if not moments:
        return f"{column} {op} ?", [default]
    every = [default, *moments]
    extreme = min(every) if op == ">=" else max(every)
    # Each branch compares the column itself: PostgreSQL then types its parameter as a time.
    branches = "".join(
        f" when {alias}.source_key in ({', '.join('?' * len(keys))}) then {column} {op} ?"
        for keys in moments.values()
    )
    args = [extreme, *(a for moment, keys in moments.items() for a in (*keys, moment)), default]
    return f"{column} {op} ? and case{branches} else {column} {op} ? end", args
