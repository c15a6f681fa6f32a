"""Schema migrations, one function per change. A released migration is never edited."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("presswatch")


@migrations()
def m001_initial(db: Database) -> None:
    """Create source state, runs, articles and the outbox."""
    db["sources"].create(
        {
            "key": str, "etag": str, "last_modified": str, "baseline_at": str,
            "last_poll_at": str, "last_success_at": str, "last_error": str,
            "last_error_at": str, "consecutive_failures": int, "next_poll_at": str,
        },
        pk="key", not_null={"key"}, defaults={"consecutive_failures": 0},
    )
    db["runs"].create(
        {
            "id": int, "source_key": str, "started_at": str, "finished_at": str,
            "status": str, "links_found": int, "new_articles": int, "error": str,
        },
        pk="id", not_null={"source_key", "started_at", "status"},
    )
    db["runs"].create_index(["source_key", "started_at"])
    db["articles"].create(
        {
            "id": int, "source_key": str, "url": str, "canonical_url": str, "url_key": str,
            "title": str, "published_at": str, "author": str, "lang": str, "lead": str,
            "body": str, "summary": str, "content_hash": str, "discovered_at": str,
            "duplicate_of": int, "silent": int,
        },
        pk="id", not_null={"source_key", "url", "url_key", "title", "discovered_at"},
        defaults={"silent": 0},
        foreign_keys=[("duplicate_of", "articles", "id")],
    )
    db["articles"].create_index(["url_key"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["source_key", "published_at"])
    db["outbox"].create(
        {
            "id": int, "article_id": int, "channel": str, "chat_id": str, "state": str,
            "message_id": int, "attempts": int, "next_attempt_at": str, "last_error": str,
            "created_at": str, "updated_at": str, "sent_at": str,
        },
        pk="id", not_null={"article_id", "channel", "chat_id", "state", "created_at"},
        defaults={"attempts": 0},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["outbox"].create_index(["article_id", "channel"], unique=True)
    db["outbox"].create_index(["state", "next_attempt_at"])
