"""What the archive knows about a feed's URLs, in one query: which are archived, which are due for
a re-read (a poll's quick scan asks both before it decides what to parse); and about a new
article, in one query: whether its URL was archived meanwhile, and the original of its text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from scrapers.normalize import url_key

from .records import iso


@dataclass(frozen=True, slots=True)
class UrlFacts:
    """The archived URL identities among those asked, and those due for a re-read."""

    known: frozenset[str]
    due: tuple[tuple[int, str, str], ...]  # (id, url key, content hash), most overdue first


def url_facts(
    db: Database,
    source_key: str,
    urls: Iterable[str],
    *,
    discovered_since: datetime,
    checked_before: datetime,
) -> UrlFacts:
    """Return which of `urls` are archived, and which of the source's are due for a re-read
    (as `Store.known_url_keys` and `Store.recheck_candidates` would, in one round trip)."""
    keys = sorted({url_key(u) for u in urls})
    if not keys:
        return UrlFacts(frozenset(), ())
    marks = ",".join("?" * len(keys))
    rows = db.query(
        f"""select url_key, id, content_hash, coalesce(checked_at, discovered_at) as seen,
                   (source_key = ? and discovered_at >= ? and duplicate_of is null
                    and (checked_at is null or checked_at < ?)) as due
            from articles where url_key in ({marks})
            union all
            select url_key, null, null, null, null from article_urls where url_key in ({marks})""",
        [source_key, iso(discovered_since), iso(checked_before), *keys, *keys],
    )
    known, due = set(), []
    for row in rows:
        known.add(row["url_key"])
        if row["due"]:
            due.append((str(row["seen"]), row["id"], row["url_key"], row["content_hash"]))
    due.sort()
    return UrlFacts(frozenset(known), tuple((id_, key, hash_) for _, id_, key, hash_ in due))


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the archive says of a new article just before it is stored."""

    known: bool  # its URL is archived (stored meanwhile by a poll of another source)
    original: int | None  # the first original article with its content hash


def arrival(db: Database, canonical_url: str, content_hash: str | None) -> Arrival:
    """Return whether a URL is archived and the first original article with a content hash (as
    `Store.known_url_keys` and `Store.article_with_hash` would, in one round trip)."""
    key = url_key(canonical_url)
    row = next(
        db.query(
            """select exists (select 1 from articles where url_key = ?
                              union all select 1 from article_urls where url_key = ?) as known,
                      (select id from articles where content_hash = ? and duplicate_of is null
                       order by id limit 1) as original""",
            [key, key, content_hash],
        )
    )
    return Arrival(bool(row["known"]), row["original"])
