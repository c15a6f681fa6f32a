"""Why an article got its topics and entity tags: the rows of article_topics that filters read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .records import TagKind

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class TopicReason:
    """Why an article got a topic or an entity tag: the rules that matched and their score."""

    key: str
    kind: TagKind
    score: float
    rules: tuple[str, ...]


def with_listed_topics(
    reasons: Sequence[TopicReason], topics: Iterable[str], entities: Iterable[str] = ()
) -> list[TopicReason]:
    """Add a bare row for each listed topic or entity without a reason: filters read only these."""
    kinds = dict.fromkeys(entities, TagKind.ENTITY) | dict.fromkeys(topics, TagKind.TOPIC)
    had = {reason.key for reason in reasons}
    return [*reasons, *(TopicReason(k, kind, 0.0, ()) for k, kind in kinds.items() if k not in had)]


def save_reasons(db: Database, article_id: int, reasons: Sequence[TopicReason]) -> None:
    """Store why each topic and entity tag was given."""
    db["article_topics"].insert_all(
        (
            {
                "article_id": article_id,
                "key": r.key,
                "kind": r.kind,
                "score": round(r.score, 3),
                "rules": json.dumps(list(r.rules), ensure_ascii=False),
            }
            for r in reasons
        ),
        replace=True,
    )
