"""What the archive knows about a feed's URLs, in one query: which are archived, which are due for
a re-read (a poll's quick scan asks both before it decides what to parse); and about a new
article, in one round trip: whether its URL was archived meanwhile, the original of its text,
and the subscriptions it may match."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from scrapers.normalize import url_key

from .dialect import is_postgres
from .records import iso
from .sitewide import LEAD_ELSEWHERE
from .subscriptions import ALL, Subscription, subscription


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
    subscriptions: tuple[Subscription, ...] = ()  # every reader's, when asked for
    site_lead: bool = False  # another article of its source, titled otherwise, has its lead


@dataclass(frozen=True, slots=True)
class Lead:
    """A new article's lead as the archive compares it: by source, hash and title."""

    source_key: str
    lead_hash: str  # records.lead_key of the lead
    title: str


def arrival(
    db: Database,
    canonical_url: str,
    content_hash: str | None,
    *,
    subscriptions: bool = False,
    lead: Lead | None = None,
) -> Arrival:
    """Return whether a URL is archived and the first original article with a content hash (as
    `Store.known_url_keys` and `Store.article_with_hash` would, in one query), whether another
    article of the source has the `lead`, and with `subscriptions` every subscription too (in
    the same round trip on PostgreSQL)."""
    key = url_key(canonical_url)
    with db.pipeline() if is_postgres(db) else nullcontext():
        facts = db.execute(
            f"""select exists (select 1 from articles where url_key = ?
                              union all select 1 from article_urls where url_key = ?),
                      (select id from articles where content_hash = ? and duplicate_of is null
                       order by id limit 1),
                      {LEAD_ELSEWHERE}""",
            [key, key, content_hash, *((lead.source_key, lead.lead_hash, lead.title, 0) if lead
                                       else (None, None, None, 0))],
        )  # fmt: skip
        subscribed = db.execute(ALL) if subscriptions else None
    # Read once the block is over: the pipeline's end sends both with its sync, one round trip
    # (a read inside it would wait for the answers first, and its end for the sync's: two).
    known, original, site_lead = facts.fetchone()
    rows = subscribed.fetchall() if subscribed is not None else []
    return Arrival(bool(known), original, tuple(subscription(row) for row in rows), bool(site_lead))
