"""Enrichment and storing: summary, topics, duplicates, routing, then one archive transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from bot.config import Config
from bot.ingest.routing import channels_for, subscribers_for
from bot.text.classify import Match, classify, tag_entities
from bot.text.summarize import summarize
from scrapers.models import Article, Source
from storage import Delivery, OutboxKind, Store, TagKind
from storage.neardup import NearDuplicate, shingles, signature, similarity
from storage.store import TopicReason

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Enriched:
    """An article with its summary and tags, and why it got them."""

    article: Article
    reasons: tuple[TopicReason, ...]


class Enricher:
    """Turn an extracted article into a stored one, queued for the channels it belongs to."""

    def __init__(self, config: Config, store: Store) -> None:
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

    def store(
        self,
        source: Source,
        article: Article,
        *,
        post: bool,
        now: datetime,
        aliases: tuple[str, ...] = (),
    ) -> int:
        """Enrich and store one article with its deliveries; return 1 if stored, 0 if already known."""
        if self._store.known_url_keys([article.canonical_url]):
            return 0  # The page's canonical URL names an article we already have.
        enriched = self.enrich(article)
        article = enriched.article
        minhash = self.signature(article)
        original = self.find_original(article, minhash, now=now)
        deliveries = self._deliveries(source, article) if post else []
        if original:
            # One story once per chat: only channels that never got the story get the reprint;
            # a story recorded silently (a first run's old news) stays unposted everywhere.
            told = self._store.outbox.channels_with_post(original.article_id)
            deliveries = (
                []
                if self._store.is_silent(original.article_id)
                else [d for d in deliveries if d.channel not in told]
            )
        with self._store.db.atomic():
            self._store.add_article(
                article,
                source_key=source.key,
                now=now,
                deliveries=deliveries,
                silent=not post,
                duplicate_of=original.article_id if original else None,
                similarity=original.similarity if original else None,
                reasons=enriched.reasons,
                minhash=minhash,
                aliases=aliases,
            )
            if original:
                # The story's post now names one more source ("Also: …").
                self._store.outbox.enqueue_update(
                    original.article_id, kind=OutboxKind.EDIT, now=now
                )
        log.info("article %s %s: stored%s", source.key, article.url, _fate(original, deliveries))
        return 1

    def update(self, article_id: int, article: Article, *, now: datetime) -> int:
        """Store a changed text as a new version and queue the correction; return the version."""
        enriched = self.enrich(article)
        version = self._store.update_article(
            article_id, enriched.article, now=now, reasons=enriched.reasons
        )
        mode = self._config.telegram.corrections
        if mode != "ignore":
            self._store.outbox.enqueue_update(article_id, kind=mode, now=now)
        log.info(
            "article %d %s: changed, stored version %d%s",
            article_id,
            article.url,
            version,
            ""
            if mode == "ignore"
            else f", post to be {'edited' if mode == 'edit' else 'answered'}",
        )
        return version

    def signature(self, article: Article):
        """Return the MinHash signature near-duplicate detection indexes."""
        return signature(self._shingles(article), num_perm=self._store.dedup.num_perm)

    def _shingles(self, article: Article) -> frozenset[str]:
        """Return the shingles near-duplicate detection compares."""
        return shingles(
            f"{article.lead}\n{article.body}" if article.body else article.title,
            size=self._store.dedup.shingle,
        )

    def find_original(self, article: Article, minhash, *, now: datetime) -> NearDuplicate | None:
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

    def _deliveries(self, source: Source, article: Article) -> list[Delivery]:
        """Return the channels and subscribed readers an article goes to."""
        channels = channels_for(article, source_key=source.key, channels=self._config.channels)
        readers = subscribers_for(
            article, source_key=source.key, subscriptions=self._store.subscriptions.all()
        )
        return [Delivery(c.name, c.chat_id) for c in channels] + [
            Delivery(f"user:{user_id}", chat_id) for user_id, chat_id in readers
        ]


def _reason(match: Match, kind: TagKind) -> TopicReason:
    """Return what the archive keeps of a classifier match."""
    return TopicReason(key=match.topic, kind=kind, score=match.score, rules=match.rules)


def _fate(original: NearDuplicate | None, deliveries: list[Delivery]) -> str:
    """Describe what happens to a stored article, for the log."""
    if original:
        where = f"; posted only to {', '.join(d.channel for d in deliveries)}" if deliveries else ""
        return (
            f" (reprint of article {original.article_id}, similarity {original.similarity:.2f};"
            f" the story's post will name this source{where})"
        )
    if deliveries:
        return f", queued for {', '.join(d.channel for d in deliveries)}"
    return " (recorded silently)"
