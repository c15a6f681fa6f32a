"""A post's hashtags: its topics', then its most salient entities', in its language (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.text.classify import salient_entities
from bot.text.taxonomy import Taxonomy, Topic
from scrapers.models import Article

MAX_ENTITY_TAGS = 3  # entity hashtags under a post: the most salient; all stay in the archive


def post_hashtags(
    article: Article,
    *,
    topics: Mapping[str, Topic],
    entities: Mapping[str, Topic],
    taxonomy: Taxonomy,
) -> tuple[str, ...]:
    """Return the article's topic hashtags and its MAX_ENTITY_TAGS most salient entity
    hashtags (`topics` and `entities` by key), in its language, each once; unknown keys are
    skipped."""
    known = [topics.get(k) for k in article.topics]
    # Entities are stored best first (tag_entities): a roll-call of seven states under a
    # summit post says nothing, and one passing mention is no hashtag (the tag stays:
    # channels and alerts follow it) unless the post's summary, its lead, names it.
    keys = salient_entities(
        article.entities, title=article.title, lead=article.summary or article.lead,
        body=article.body,
        taxonomy=taxonomy,
    )  # fmt: skip
    named = [e for k in keys if (e := entities.get(k))]
    known += named[:MAX_ENTITY_TAGS]
    return tuple(dict.fromkeys(f"#{t.hashtag_in(article.lang)}" for t in known if t))
