"""An article's posts: which channels have one, and the edits of and replies to them that follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from .records import Delivery, OutboxKind, OutboxState, iso
from .tally import Tally
from .transaction import immediate

_UPDATE_KINDS = (OutboxKind.EDIT, OutboxKind.REPLY)


class Posts:
    """The post rows of the outbox, read and followed up by article."""

    def __init__(self, db: Database, *, tally: Tally | None = None) -> None:
        self.db = db
        self.tally = tally or Tally()

    def enqueue(self, article_id: int, deliveries: Sequence[Delivery], *, now: datetime) -> None:
        """Queue a new article's post to each delivery's channel (inside the article's transaction)."""
        self.db["outbox"].insert_all(
            {
                "article_id": article_id,
                "channel": d.channel,
                "chat_id": d.chat_id,
                "state": OutboxState.PENDING,
                "created_at": iso(now),
                "updated_at": iso(now),
            }
            for d in deliveries
        )
        self.tally.add(len(deliveries))

    def story_channels(self, story_id: int) -> set[str]:
        """Return the channels that have (or will have) a post of a story: of its original (the
        article `story_id`) or of any of its reprints."""
        # A reprint is posted where the original never was (a filter let only it in): that chat
        # has the story as much as the original's do (review14c: a later reprint went there too).
        return {
            r["channel"]
            for r in self.db.query(
                "select channel from outbox where article_id in "
                "(select cast(? as bigint) union all select id from articles where duplicate_of = ?) "
                "and kind = ? and state != ?",
                [story_id, story_id, OutboxKind.POST, OutboxState.DROPPED],
            )
        }

    def posted_reprints(self, story_id: int) -> tuple[int, ...]:
        """Return the story's reprints that have a sent post."""
        return tuple(
            r["id"]
            for r in self.db.query(
                "select a.id from articles a where a.duplicate_of = ? and exists (select 1 "
                "from outbox o where o.article_id = a.id and o.kind = ? and o.state = ? "
                "and o.message_id is not null) order by a.id",
                [story_id, OutboxKind.POST, OutboxState.SENT],
            )
        )

    def sent_post(self, article_id: int, channel: str) -> int | None:
        """Return the message id of the channel's sent post of an article, if any."""
        row = next(
            self.db.query(
                "select message_id from outbox where article_id = ? and channel = ? and kind = ? "
                "and state = ?",
                [article_id, channel, OutboxKind.POST, OutboxState.SENT],
            ),
            None,
        )
        return row["message_id"] if row else None

    def sent_as_photo(self, article_id: int, channel: str) -> bool:
        """Tell whether the channel's sent post of an article is a photo (its text is a caption)."""
        row = next(
            self.db.query(
                "select media from outbox where article_id = ? and channel = ? and kind = ? "
                "and state = ?",
                [article_id, channel, OutboxKind.POST, OutboxState.SENT],
            ),
            None,
        )
        return bool(row and row["media"] == "photo")

    def posted_channels(self, article_id: int) -> tuple[str, ...]:
        """Return the channels whose sent post of an article has a message of its own."""
        return tuple(post["channel"] for post in self._single_posts(article_id))

    def enqueue_update(
        self,
        article_id: int,
        *,
        kind: OutboxKind,
        now: datetime,
        channels: Iterable[str] | None = None,
    ) -> int:
        """Queue an edit of (or reply to) the sent posts of an article (in `channels`, or all of
        them); return how many were queued.

        A post shares its message with other rows only in a digest, which is never edited. A
        pending update of the same kind is not doubled: the relay renders the latest text anyway.
        """
        if kind not in _UPDATE_KINDS:
            raise ValueError(f"kind must be one of {_UPDATE_KINDS}, got {kind!r}")
        wanted = None if channels is None else set(channels)
        queued = 0
        with immediate(self.db):
            for post in self._single_posts(article_id):
                if wanted is not None and post["channel"] not in wanted:
                    continue
                if self._has_pending(article_id, post["channel"], kind):
                    continue
                self.db["outbox"].insert(
                    {
                        "article_id": article_id,
                        "channel": post["channel"],
                        "chat_id": post["chat_id"],
                        "kind": kind,
                        "target_message_id": post["message_id"],
                        "state": OutboxState.PENDING,
                        "created_at": iso(now),
                        "updated_at": iso(now),
                    }
                )
                queued += 1
        self.tally.add(queued)
        return queued

    def _single_posts(self, article_id: int) -> list[dict]:
        """Return the sent posts of an article that have a message of their own."""
        # Message ids count per chat: a channel whose chat_id changed (a typo fixed, a retry
        # sent to the new chat) has posts with equal ids in two chats, and neither is a digest.
        return list(
            self.db.query(
                """select o.channel, o.chat_id, o.message_id from outbox o
               where o.article_id = ? and o.kind = ? and o.state = ? and o.message_id is not null
                 and not exists (select 1 from outbox d where d.channel = o.channel
                                 and d.chat_id = o.chat_id and d.message_id = o.message_id
                                 and d.id != o.id and d.kind = ?)
               order by o.id""",
                [article_id, OutboxKind.POST, OutboxState.SENT, OutboxKind.POST],
            )
        )

    def _has_pending(self, article_id: int, channel: str, kind: str) -> bool:
        """Return True when an update of this kind already waits for the article's post."""
        return bool(
            next(
                self.db.query(
                    "select 1 from outbox where article_id = ? and channel = ? and kind = ? and state = ?",
                    [article_id, channel, kind, OutboxState.PENDING],
                ),
                None,
            )
        )
