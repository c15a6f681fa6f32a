"""Enrichment: an article's summary, topics and entity tags, and the archived story it repeats."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import EnrichConfig
from bot.ingest.prepare import Enriched, Prepared, Preparer, dedup_text, enrich
from scrapers.models import Article
from storage import Store
from storage.neardup import NearDuplicate, shingles, signature_of, similarity

if TYPE_CHECKING:
    from datasketch import MinHash  # imported on first use: see storage/neardup.py

__all__ = ["Enriched", "Enricher", "Prepared"]
_ASK = object()  # find_original's `exact` not given: it asks the archive itself


class Enricher:
    """Summarise and tag articles, and find the archived story each repeats."""

    def __init__(self, config: EnrichConfig, store: Store) -> None:
        self._store = store
        # Also the parsing sandbox's Finish (bot/app.py): its workers prepare the articles they
        # read, and the poller prepares only the rest (stubs, articles from other paths).
        self.preparer = Preparer(config.taxonomy, config.summary_chars, store.dedup.shingle)

    def prepare(self, item: Article | Prepared) -> Prepared:
        """Return an article prepared (enriched, its shingles hashed), unless it already is."""
        return item if isinstance(item, Prepared) else self.preparer(item)

    def enrich(self, item: Article | Prepared) -> Enriched:
        """Return the article with its summary, topics and entity tags."""
        if isinstance(item, Prepared):
            return item.enriched
        preparer = self.preparer  # without the hashes: retagging the archive needs none
        return enrich(item, taxonomy=preparer.taxonomy, summary_chars=preparer.summary_chars)

    def signature(self, item: Article | Prepared) -> MinHash:
        """Return the MinHash signature near-duplicate detection indexes."""
        return signature_of(self.prepare(item).hashes, num_perm=self._store.dedup.num_perm)

    def find_original(
        self,
        article: Article,
        minhash: MinHash,
        *,
        now: datetime,
        exact: int | None | object = _ASK,
    ) -> NearDuplicate | None:
        """Return the stored article this one repeats (same text, or nearly), if any (`exact`: the
        original with its content hash, when the caller has asked the archive already)."""
        if exact is _ASK:
            exact = self._store.article_with_hash(article.content_hash) if article.body else None
        if exact:
            return NearDuplicate(self._store.root_of(exact), 1.0)
        dedup = self._store.dedup
        index = self._store.near_duplicates(now=now)
        index.catch_up(now=now)  # what other workers stored (PostgreSQL): decided on, not retried
        texts = self._store.texts(index.candidates(minhash))
        if not texts:
            return None
        mine = shingles(dedup_text(article), size=dedup.shingle)
        best = None
        for candidate, text in texts.items():
            score = similarity(mine, shingles(text, size=dedup.shingle))
            if score >= dedup.threshold and (best is None or score > best.similarity):
                best = NearDuplicate(self._store.root_of(candidate), score)
        return best
