"""A monitored archive: runs, articles and outbox rows in every state, and the Monitor over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, config_from_dict
from bot.service.counters import Counters
from bot.service.monitor import Monitor
from scrapers.models import Article
from storage import Delivery, RunRecord, Store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_config(tmp_path: Path) -> Config:
    """Two sources, one channel, the archive in tmp_path."""
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {"key": "alpha", "url": "https://alpha.example/feed", "kind": "feed"},
                {"key": "beta", "url": "https://beta.example/", "link_pattern": "/news/"},
            ],
        },
        path=tmp_path / "presswatch.toml",
    )


def article(n: int, published: datetime) -> Article:
    """Return article n of the source alpha."""
    url = f"https://alpha.example/news/{n}"
    return Article(url=url, canonical_url=url, title=f"News {n}", published=published)


@contextmanager
def monitored_archive(tmp_path: Path) -> Iterator[tuple[Config, Store]]:
    """Yield a config and its archive with runs, articles and outbox rows in every interesting state."""
    config = make_config(tmp_path)
    store = Store.open(config.storage_path)
    store.sources.record_run(RunRecord("alpha", T0, T0, "ok", links_found=3, new_articles=3))
    store.sources.record_run(RunRecord("alpha", T0, T0, "not_modified"))
    store.sources.record_run(RunRecord("beta", T0, T0, "error", error="HTTP 404"))
    store.db.execute(
        "update sources set health = 'failing' where key = 'beta'"
    )  # past the threshold
    main = [Delivery("main", "@presswatch_test")]
    for n, state in enumerate(["sent", "sent", "pending", "failed", "uncertain"]):
        article_id = store.add_article(article(n, T0), source_key="alpha", now=T0, deliveries=main)
        sent_at = (
            (T0 + timedelta(seconds=90 if n == 0 else 4000)).isoformat()
            if state == "sent"
            else None
        )
        store.db.execute(
            "update outbox set state = ?, sent_at = ?, last_error = ? where article_id = ?",
            [
                state,
                sent_at,
                "flood wait: retry after 5" if state == "pending" else None,
                article_id,
            ],
        )
    personal = store.add_article(
        article(9, T0),
        source_key="alpha",
        now=T0,
        deliveries=[Delivery("user:42", "42"), Delivery("user:43", "43")],
    )
    store.db.execute("update outbox set state = 'failed' where article_id = ?", [personal])
    store.db.conn.commit()
    try:
        yield config, store
    finally:
        store.close()


def monitor(config: Config, counters: Counters | None = None, *, state: str = "running") -> Monitor:
    """Return a Monitor of the config's archive, sources and channels."""
    return Monitor(
        config.storage_path,
        counters or Counters(),
        sources=[s.key for s in config.sources],
        channels=[c.name for c in config.channels],
        scheduler_state=lambda: state,
    )
