"""Quick questions about archived articles: known URL identities, an original by its content hash,
and the articles of a source due for a re-read (storage/urls.py asks the first and last at once)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from scrapers.normalize import url_key

from .records import iso


def known_url_keys(db: Database, urls: Iterable[str]) -> set[str]:
    """Return the URL identities among `urls` that are already archived."""
    keys = {url_key(u) for u in urls}
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found |= {
            r["url_key"]
            for r in db.query(
                f"select url_key from articles where url_key in ({marks}) union "
                f"select url_key from article_urls where url_key in ({marks})",
                chunk + chunk,
            )
        }
    return found


def article_with_hash(db: Database, content_hash: str) -> int | None:
    """Return the id of the first original article with this content hash, if any."""
    row = next(
        db.query(
            "select id from articles where content_hash = ? and duplicate_of is null "
            "order by id limit 1",
            [content_hash],
        ),
        None,
    )
    return row["id"] if row else None


def recheck_candidates(
    db: Database,
    source_key: str,
    urls: Iterable[str],
    *,
    discovered_since: datetime,
    checked_before: datetime,
    limit: int,
) -> list[tuple[int, str, str]]:
    """Return (id, url key, content hash) of recent articles among `urls` due for a re-read."""
    keys = sorted({url_key(u) for u in urls})
    if not keys or limit <= 0:
        return []
    marks = ",".join("?" * len(keys))
    rows = db.query(
        f"""select id, url_key, content_hash from articles
            where source_key = ? and url_key in ({marks}) and discovered_at >= ?
              and (checked_at is null or checked_at < ?) and duplicate_of is null
            order by coalesce(checked_at, discovered_at) limit ?""",
        [source_key, *keys, iso(discovered_since), iso(checked_before), limit],
    )
    return [(r["id"], r["url_key"], r["content_hash"]) for r in rows]
