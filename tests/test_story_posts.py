"""A story's posts and sources across its original and reprints, on both backends (synthetic
articles): a chat that got any article of the story has it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scrapers.models import Article
from storage import Delivery, OutboxKind, Store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _article(n: int) -> Article:
    return Article(
        url=f"https://example.org/news/{n}",
        canonical_url=f"https://example.org/news/{n}",
        title=f"Synthetic story, copy {n}",
        published=NOW - timedelta(hours=n),
        body=f"Synthetic body of copy {n}.",
    )


def _sent(store: Store, article_id: int, channel: str, message_id: int) -> None:
    """Mark an article's post in a channel sent, as the relay does."""
    [row] = store.db.query(
        "select id, chat_id from outbox where article_id = ? and channel = ?", [article_id, channel]
    )
    assert store.outbox.claim([row["id"]], chat=row["chat_id"], now=NOW)
    store.outbox.mark_sent(row["id"], message_id=message_id, now=NOW)


def _story(store: Store) -> tuple[int, int, int]:
    """Store an original posted to `main`, a reprint posted to `journal` and to a subscribed
    reader's chat, and a reprint posted nowhere."""
    original = store.add_article(
        _article(1), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@main")]
    )
    reprint = store.add_article(
        _article(2),
        source_key="interaffairs-en",
        now=NOW,
        deliveries=[Delivery("journal", "@journal"), Delivery("user:42", "42")],
        duplicate_of=original,
        similarity=0.9,
    )
    later = store.add_article(
        _article(3), source_key="belta-en", now=NOW, duplicate_of=original, similarity=0.8
    )
    return original, reprint, later


def test_a_chat_that_got_a_reprint_has_the_story(store: Store) -> None:
    original, reprint, _ = _story(store)
    # A reader's alert is a post like a channel's: the same rule keeps it to one per story.
    assert store.posts.story_channels(original) == {"main", "journal", "user:42"}
    assert store.posts.posted_reprints(original) == ()  # nothing sent yet
    _sent(store, reprint, "journal", 5)
    assert store.posts.posted_reprints(original) == (reprint,)


def test_a_storys_sources_are_the_same_from_any_of_its_articles(store: Store) -> None:
    ids = _story(store)
    for article_id in ids:
        assert store.story_sources(article_id) == ["tass-com", "interaffairs-en", "belta-en"]


def test_an_edit_for_a_new_source_reaches_a_reprints_post(store: Store) -> None:
    original, reprint, _ = _story(store)
    _sent(store, original, "main", 4)
    _sent(store, reprint, "journal", 5)
    for held in (original, *store.posts.posted_reprints(original)):
        store.posts.enqueue_update(
            held, kind=OutboxKind.EDIT, now=NOW, channels=("main", "journal")
        )
    edits = store.db.query(
        "select article_id, channel, target_message_id from outbox where kind = ? order by id",
        [OutboxKind.EDIT],
    )
    assert [tuple(e.values()) for e in edits] == [(original, "main", 4), (reprint, "journal", 5)]
