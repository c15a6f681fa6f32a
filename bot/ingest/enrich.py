"""Enrichment: an article's summary, topics and entity tags, and the archived story it repeats."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import EnrichConfig
from bot.text.classify import Match, classify, tag_entities
from bot.text.summarize import summarize
from scrapers.models import Article
from storage import Store, TagKind
from storage.neardup import NearDuplicate, shingles, signature, similarity
from storage.store import TopicReason

if TYPE_CHECKING:
    from datasketch import MinHash  # imported on first use: see storage/neardup.py


@dataclass(frozen=True, slots=True)
class Enriched:
    """An article with its summary and tags, and why it got them."""

    article: Article
    reasons: tuple[TopicReason, ...]


class Enricher:
    """Summarise and tag articles, and find the archived story each repeats."""

    def __init__(self, config: EnrichConfig, store: Store) -> None:
        self._config, self._store = config, store

    def enrich(self, article: Article) -> Enriched:
        """Return the article with its summary, topics and entity tags."""
        text = f"{article.lead}\n{article.body}"
        taxonomy = self._config.taxonomy
        topics = classify(title=article.title, body=text, taxonomy=taxonomy, lang=article.lang)
        entities = tag_entities(title=article.title, body=text, taxonomy=taxonomy)
        summary = summarize(
            title=article.title,
            lead=article.lead,
            body=article.body,
            lang=article.lang,
            max_chars=self._config.summary_chars,
        )
        return Enriched(
            replace(
                article,
                summary=summary,
                topics=tuple(m.topic for m in topics),
                entities=tuple(m.topic for m in entities),
            ),
            tuple(_reason(m, TagKind.TOPIC) for m in topics)
            + tuple(_reason(m, TagKind.ENTITY) for m in entities),
        )

    def signature(self, article: Article) -> MinHash:
        """Return the MinHash signature near-duplicate detection indexes."""
        return signature(self._shingles(article), num_perm=self._store.dedup.num_perm)

    def _shingles(self, article: Article) -> frozenset[str]:
        """Return the shingles near-duplicate detection compares."""
        return shingles(
            f"{article.lead}\n{article.body}" if article.body else article.title,
            size=self._store.dedup.shingle,
        )

    def find_original(
        self, article: Article, minhash: MinHash, *, now: datetime
    ) -> NearDuplicate | None:
        """Return the stored article this one repeats (same text, or nearly), if any."""
        exact = self._store.article_with_hash(article.content_hash) if article.body else None
        if exact:
            return NearDuplicate(self._store.root_of(exact), 1.0)
        dedup = self._store.dedup
        index = self._store.near_duplicates(now=now)
        mine = self._shingles(article)
        best = None
        for candidate, text in self._store.texts(index.candidates(minhash)).items():
            score = similarity(mine, shingles(text, size=dedup.shingle))
            if score >= dedup.threshold and (best is None or score > best.similarity):
                best = NearDuplicate(self._store.root_of(candidate), score)
        return best


def _reason(match: Match, kind: TagKind) -> TopicReason:
    """Return what the archive keeps of a classifier match."""
    return TopicReason(key=match.topic, kind=kind, score=match.score, rules=match.rules)
