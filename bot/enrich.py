"""Enrichment and storing: summary, topics, duplicates, routing, then one archive transaction."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from scrapers.models import Article, Source
from storage import Delivery, Store

from .classify import classify, tag_entities
from .config import Config
from .routing import channels_for
from .summarize import summarize

log = logging.getLogger(__name__)


class Enricher:
    """Turn an extracted article into a stored one, queued for the channels it belongs to."""

    def __init__(self, config: Config, store: Store) -> None:
        self._config, self._store = config, store

    def enrich(self, article: Article) -> Article:
        """Return the article with its summary and topics."""
        topics = classify(title=article.title, body=f"{article.lead}\n{article.body}",
                          taxonomy=self._config.taxonomy, lang=article.lang)
        return replace(
            article,
            summary=summarize(title=article.title, lead=article.lead, body=article.body,
                              lang=article.lang, max_chars=self._config.summary_chars),
            topics=tuple(m.topic for m in topics),
        )

    def store(self, source: Source, article: Article, *, post: bool, now: datetime) -> int:
        """Enrich and store one article with its deliveries; return 1 if stored, 0 if already known."""
        if self._store.known_url_keys([article.canonical_url]):
            return 0  # The page's canonical URL names an article we already have.
        article = self.enrich(article)
        duplicate_of = self._store.article_with_hash(article.content_hash) if article.body else None
        targets = channels_for(article, source_key=source.key, channels=self._config.channels)
        deliveries = [Delivery(c.name, c.chat_id) for c in targets] if post and not duplicate_of else []
        self._store.add_article(article, source_key=source.key, now=now, deliveries=deliveries,
                                duplicate_of=duplicate_of, silent=not post)
        log.info("%s: stored %s%s", source.key, article.url, _fate(duplicate_of, deliveries))
        return 1


def _fate(duplicate_of: int | None, deliveries: list[Delivery]) -> str:
    """Describe what happens to a stored article, for the log."""
    if duplicate_of:
        return f" (same text as article {duplicate_of}; not posted)"
    if deliveries:
        return f", queued for {', '.join(d.channel for d in deliveries)}"
    return " (recorded silently)"
