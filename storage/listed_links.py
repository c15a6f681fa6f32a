"""A listing's links as last read whole, with the validators it answered with (`listings` and
`listing_links`, m028/p025): what a 304 to those validators still lists, for a process that did
not read it.

A row per link, so a listing that changed by a new article writes that article's row and drops
the one that left, not the whole listing again (5,000 links are about 1 MB); the listing's row
holds the validators and a digest of its links, so a process that did not read them asks one
row to know nothing changed. Only a link's own fields are kept (a feed item that carries its text
is not among them: an unchanged feed's texts are unchanged), without its empty ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime

from sqlite_utils import Database

from scrapers import Link

from .dialect import is_postgres
from .transaction import immediate

# Every field of a link but its url (the row's key) and its text, which no kept link has: what a
# re-read needs of it (scrapers/extract.py fills an article in from its title, date, summary,
# author and pictures).
_KEPT = tuple(f.name for f in fields(Link) if f.name not in ("url", "content_html"))


@dataclass(frozen=True, slots=True)
class ListedLinks:
    """A listing's links as read whole (in no order that matters: a re-read is picked by how
    overdue it is), and the validators of that reading."""

    etag: str | None
    last_modified: str | None
    links: tuple[Link, ...]


def read_listing(
    db: Database, key: str, *, validators: tuple[str | None, str | None] | None = None
) -> ListedLinks | None:
    """Return the source's listing as last kept (None: none kept, or with `validators`, none
    kept with those)."""
    head = db.execute(
        "select etag, last_modified from listings where source_key = ?", [key]
    ).fetchone()
    # Links of another reading are of no use to a 304: not read (5,000 rows, each poll).
    if head is None or (validators is not None and tuple(head) != tuple(validators)):
        return None
    rows = db.execute(
        "select url, link from listing_links where source_key = ? order by url", [key]
    ).fetchall()
    # A row it cannot read (a hand edit's) is left out: one re-read fewer, never a wrong one.
    links = tuple(link for url, text in rows if (link := _link(url, text)) is not None)
    return ListedLinks(head[0], head[1], links)


def keep_listing(db: Database, key: str, listed: ListedLinks) -> None:
    """Remember the source's listing as just read whole: its validators, and of its links those
    that changed (a link's row added, changed or dropped), in one transaction."""
    rows = _rows(listed.links)
    digest = hashlib.sha256(json.dumps(sorted(rows.items())).encode("utf-8")).hexdigest()[:32]
    validators = [listed.etag, listed.last_modified]
    with immediate(db):
        head = db.execute(
            "select etag, last_modified, digest from listings where source_key = ?", [key]
        ).fetchone()
        if head is not None and head[2] == digest:
            if list(head[:2]) != validators:
                db.execute(
                    "update listings set etag = ?, last_modified = ? where source_key = ?",
                    [*validators, key],
                )
            return
        stored = dict(
            db.execute("select url, link from listing_links where source_key = ?", [key]).fetchall()
        )
        gone = [(key, url) for url in stored if url not in rows]
        changed = [(key, url, text) for url, text in rows.items() if stored.get(url) != text]
        _many(db, "delete from listing_links where source_key = ? and url = ?", gone)
        _many(
            db,
            "insert into listing_links (source_key, url, link) values (?, ?, ?) "
            "on conflict (source_key, url) do update set link = excluded.link",
            changed,
        )
        db.execute(
            "insert into listings (source_key, etag, last_modified, digest) values (?, ?, ?, ?) "
            "on conflict (source_key) do update set etag = excluded.etag, "
            "last_modified = excluded.last_modified, digest = excluded.digest",
            [key, *validators, digest],
        )


def _rows(links: tuple[Link, ...]) -> dict[str, str]:
    """Return each link's stored text by its url (a url listed twice: its first)."""
    rows: dict[str, str] = {}
    for link in links:
        row = {name: value for name in _KEPT if (value := getattr(link, name))}
        if row.get("canonical_url") == link.url:
            del row["canonical_url"]  # most links are their own canonical URL
        if link.published is not None:
            row["published"] = link.published.isoformat()
        rows.setdefault(link.url, json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    return rows


def _link(url: str, text: str) -> Link | None:
    """Return one stored link, or None for a text it cannot read."""
    try:
        row = json.loads(text)
        published = datetime.fromisoformat(row["published"]) if row.get("published") else None
        values = {name: row[name] for name in _KEPT if name in row and name != "published"}
    except (ValueError, TypeError, AttributeError):
        return None
    if published is not None and published.tzinfo is None:
        return None  # a time without its zone is not one this module wrote
    if not all(isinstance(value, str) for value in values.values()):
        return None
    values.setdefault("canonical_url", url)
    return Link(url=url, published=published, **values)


def _many(db: Database, sql: str, rows: list[tuple]) -> None:
    """Run one statement for each of `rows`."""
    if not rows:
        return
    if is_postgres(db):
        db.executemany(sql, rows)
    else:
        db.conn.executemany(sql, rows)
