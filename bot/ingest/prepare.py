"""What is computed from an article alone: its summary and tags, and its shingles' hashes.

Pure and per document, so the parsing sandbox's workers compute it beside the extraction, off
the poller's core: a `Preparer` is the Finish the composition root gives the sandbox
(scrapers/sandbox.py). What depends on the archive (the original an article repeats, whether
its image is the site's default) stays with the poller (bot/ingest/enrich.py, intake.py).
This module imports no more than a worker needs: the text modules, not the config or the app.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.text.classify import Match, Taxonomy, classify, tag_entities
from bot.text.summarize import summarize
from scrapers.models import Article
from storage import TagKind, TopicReason
from storage.neardup import hashed, shingles

# Loads what a first article in each language would (word lists, lemma dictionaries), so the
# fork server loads it once for all its workers.
_WARM_UP = (
    ("en", "Minister meets president", "The minister met the president to discuss trade."),
    ("ru", "Министр встретился с президентом", "Министр обсудил с президентом торговлю."),
)


@dataclass(frozen=True, slots=True)
class Enriched:
    """An article with its summary and tags, and why it got them."""

    article: Article
    reasons: tuple[TopicReason, ...]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article read and enriched, with the hashes its near-duplicate signature is made of."""

    enriched: Enriched
    hashes: tuple[int, ...]  # storage.neardup.hashed of its shingles
    # The source's selectors that matched nothing on the page it was read from (none read: ()).
    missed: tuple[str, ...] = ()

    @property
    def article(self) -> Article:
        """Return the enriched article."""
        return self.enriched.article


@dataclass(frozen=True, slots=True)
class Preparer:
    """Enrich an article and hash its shingles: the same in a parsing worker as in the poller."""

    taxonomy: Taxonomy
    summary_chars: int
    shingle: int  # words per shingle ([dedup] shingle)

    def __call__(self, article: Article) -> Prepared:
        """Return the article enriched, with its shingles' hashes."""
        return Prepared(
            enrich(article, taxonomy=self.taxonomy, summary_chars=self.summary_chars),
            hashed(shingles(dedup_text(article), size=self.shingle)),
        )

    def warm(self) -> None:
        """Prepare a short text in each language, loading what a first article would."""
        for lang, title, body in _WARM_UP:
            self(Article(url="", canonical_url="", title=title, body=body, lang=lang))


def enrich(article: Article, *, taxonomy: Taxonomy, summary_chars: int) -> Enriched:
    """Return the article with its summary, topics and entity tags."""
    text = f"{article.lead}\n{article.body}"
    topics = classify(title=article.title, body=text, taxonomy=taxonomy, lang=article.lang)
    entities = tag_entities(title=article.title, body=text, taxonomy=taxonomy)
    summary = summarize(
        title=article.title,
        lead=article.lead,
        body=article.body,
        lang=article.lang,
        max_chars=summary_chars,
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


def dedup_text(article: Article) -> str:
    """Return the text near-duplicate detection compares: lead and body, or the title alone."""
    return f"{article.lead}\n{article.body}" if article.body else article.title


def _reason(match: Match, kind: TagKind) -> TopicReason:
    """Return what the archive keeps of a classifier match."""
    return TopicReason(key=match.topic, kind=kind, score=match.score, rules=match.rules)
