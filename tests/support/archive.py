"""Fill a test archive with articles made from a title, or with ARTICLES behind a config file,
and read hits back as titles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scrapers.models import Article
from storage import Store, TagKind, TopicReason
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
    entities: tuple[str, ...] = (),
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
        entities=entities,
        summary=summary,
    )
    # Entity tags come with their reasons, as a poll stores them: `--topic csto` reads those.
    tags = [TopicReason(key, TagKind.ENTITY, 1.0, ()) for key in entities]
    return store.add_article(
        article, source_key=source, now=published or JAN, duplicate_of=duplicate_of, reasons=tags
    )


# A feed's link as archived, tracking parameters and all (synthetic), and the link posts give.
TRACKED = "https://tass-com.example/news/9?id=7&utm_source=rss&utm_medium=feed&fbclid=IwAR0x"
CLEAN = "https://tass-com.example/news/9?id=7"


def add_tracked(store: Store) -> int:
    """Store "Tracked summit", whose archived URL carries tracking parameters; return its id."""
    article = Article(TRACKED, CLEAN, "Tracked summit", body="A tracked summit.", published=JAN)
    return store.add_article(article, source_key="tass-com", now=JAN)


def reopen(store: Store) -> Store:
    """Open the same archive again, as the next start of presswatch would (SQLite or PostgreSQL)."""
    backend = getattr(store.db, "backend", None)
    if backend is not None:
        return backend.open(dedup=store.dedup)
    path = store.db.execute("pragma database_list").fetchone()[2]
    return Store.open(path, dedup=store.dedup)


def titles(hits: list[SearchHit]) -> list[str]:
    return [h.title for h in hits]


ARTICLES = [
    # (source, lang, title, body, published, topics, reprint of the article with this index)
    (
        "tass-com",
        "en",
        "EU extends sanctions against Russia",
        "Brussels extended the sanctions.",
        datetime(2023, 5, 2, 9, 0, tzinfo=UTC),
        ("economy",),
        None,
    ),
    (
        "tass-ru",
        "ru",
        "Новые санкции против России",
        "Евросоюз продлил санкции на полгода.",
        datetime(2024, 1, 15, 10, 30, tzinfo=UTC),
        ("economy", "politics-diplomacy"),
        None,
    ),
    (
        "mid-ru",
        "ru",
        "Брифинг официального представителя",
        "Вопросы, связанные с санкциями.",
        datetime(2024, 1, 31, 23, 59, tzinfo=UTC),
        (),
        None,
    ),
    (
        "belta-en",
        "en",
        "EU extends sanctions against Russia",
        "Brussels extended the sanctions.",
        datetime(2024, 2, 1, 0, 0, tzinfo=UTC),
        ("economy",),
        0,
    ),
    (
        "tass-com",
        "en",
        "Collective security summit in Minsk",
        "Leaders met in Minsk.",
        datetime(2024, 2, 10, 8, 0, tzinfo=UTC),
        ("politics-diplomacy",),
        None,
    ),
]


def sqlite_config(folder: Path, archive: Path) -> Path:
    """Write a config in `folder` whose SQLite archive is `archive`; return its path."""
    config = folder / "presswatch.toml"
    config.write_text(f'[storage]\npath = "{archive}"\n', encoding="utf-8")
    return config


def archive_config(tmp_path: Path) -> Path:
    """Write a config whose archive holds ARTICLES; return its path."""
    path = tmp_path / "presswatch.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")
    store = Store.open(tmp_path / "archive.db")
    ids: list[int] = []
    for i, (source, lang, title, body, published, topics, reprint) in enumerate(ARTICLES):
        url = f"https://{source}.example/{i}"
        ids.append(
            store.add_article(
                Article(
                    url=url,
                    canonical_url=url,
                    title=title,
                    body=body,
                    lang=lang,
                    published=published,
                    topics=topics,
                    summary=body,
                    image=f"{url}/lead.jpg",
                ),
                source_key=source,
                now=published,
                duplicate_of=None if reprint is None else ids[reprint],
            )
        )
    store.close()
    return path
