"""Fill a test archive with articles made from a title, and read hits back as titles."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapers.models import Article
from storage import Store
from storage.search import SearchHit

JAN = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)


def add(
    store: Store,
    title: str,
    body: str = "",
    *,
    source: str = "tass-com",
    lang: str = "en",
    published: datetime | None = JAN,
    topics: tuple[str, ...] = (),
    summary: str = "",
    duplicate_of: int | None = None,
    lead: str = "",
) -> int:
    """Store one article with a URL made from its title and date."""
    url = f"https://{source}.example/{abs(hash((title, body, published, source)))}"
    article = Article(
        url=url,
        canonical_url=url,
        title=title,
        body=body,
        lead=lead,
        lang=lang,
        published=published,
        topics=topics,
        summary=summary,
    )
    return store.add_article(
        article, source_key=source, now=published or JAN, duplicate_of=duplicate_of
    )


def reopen(store: Store) -> Store:
    """Open the same archive again, as the next start of presswatch would (SQLite or PostgreSQL)."""
    backend = getattr(store.db, "backend", None)
    if backend is not None:
        return backend.open(dedup=store.dedup)
    path = store.db.execute("pragma database_list").fetchone()[2]
    return Store.open(path, dedup=store.dedup)


def titles(hits: list[SearchHit]) -> list[str]:
    return [h.title for h in hits]
