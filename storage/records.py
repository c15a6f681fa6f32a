"""Plain records the store reads and writes."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from scrapers.models import Article

from .selector_misses import SelectorMiss, SelectorRun, misses_from_json, runs_from_json


class OutboxState(StrEnum):
    """Where an outbox row or an alert stands (storage/outbox.py draws the moves between them)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"  # only after Telegram returned a message id
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    # The operator closed the row by hand (`presswatch outbox drop`): it had arrived, or is unwanted.
    DROPPED = "dropped"


# SQL: since when an unsent outbox row has been due. `due_at` is the hour it was held for, kept
# when a retry or a flood wait moves next_attempt_at (storage/outbox.py); a row without one (never
# held, or from before m016) is due from next_attempt_at, or once failed from its queuing.
DUE_SINCE = (
    "coalesce(due_at, case when last_error is null then coalesce(next_attempt_at, created_at) "
    "else created_at end)"
)


class OutboxKind(StrEnum):
    """What an outbox row sends: a new post, an edit of the channel's post, or a reply to it."""

    POST = "post"
    EDIT = "edit"
    REPLY = "reply"


class Settlement(StrEnum):
    """How the doubt over an uncertain row was settled (`outbox.settlement`)."""

    FOUND = "found"  # the probe found the message in the chat: sent, with its id
    ABSENT = "absent"  # the probe proved it missing: sent again
    HELD = "held"  # the probe could not tell: held for the operator (`settle_note` says why)
    RESENT = "resent"  # the probe could not tell: sent again anyway (probe_fallback = "resend")
    REPEATED = "repeated"  # an edit: made again, which is safe ("message is not modified")


class RunStatus(StrEnum):
    """How one poll of a source ended."""

    OK = "ok"
    PARTIAL = "partial"  # the listing was read, some articles failed
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    SKIPPED = "skipped"  # never stored: the service skipped the poll (paused, backing off)


class Health(StrEnum):
    """A source's health as the health check judges it (`sources.health`)."""

    OK = "ok"
    FAILING = "failing"
    SILENT = "silent"


class SourceCondition(StrEnum):
    """How a source stands, as status pages show it."""

    NEW = "new"
    PAUSED = "paused"
    FAILING = "failing"
    SILENT = "silent"
    OK = "ok"


class ChannelState(StrEnum):
    """Whether a chat takes posts (`channels.state`)."""

    OK = "ok"
    FAILING = "failing"


class TagKind(StrEnum):
    """What an article's tag is: a topic or an entity (a member state, an organisation)."""

    TOPIC = "topic"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the archive remembers about one source between polls."""

    key: str
    etag: str | None = None
    last_modified: str | None = None
    baseline_at: datetime | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    paused: bool = False  # by the operator (/pause): not polled until /resume
    health: Health = Health.OK  # the health check's verdict
    empty_polls: int = 0  # polls in a row that found no links (the health check's count)
    # Selectors that matched nothing on every new page read since (storage/selector_misses.py).
    selectors_missed: tuple[SelectorMiss, ...] = ()
    # Runs of new pages in a row that missed a selector, not yet shown (the same stored note).
    selector_runs: tuple[SelectorRun, ...] = ()

    def polled_since(self, moment: datetime) -> bool:
        """Return True when a poll of the source finished at or after `moment`."""
        return self.last_poll_at is not None and self.last_poll_at >= moment

    @property
    def never_worked(self) -> bool:
        """Return True when the source was polled but no poll has ever succeeded."""
        return self.last_success_at is None and self.consecutive_failures > 0

    @property
    def condition(self) -> SourceCondition:
        """Return how the source stands: paused wins, then the health check's verdict."""
        if self.paused:
            return SourceCondition.PAUSED
        if self.last_poll_at is None:
            return SourceCondition.NEW
        if self.never_worked:
            return SourceCondition.FAILING  # nothing says it can work: no grace of a few polls
        # Failing is the health check's verdict (after alert_after_failures polls in a row), not a
        # single transient error.
        return SourceCondition(self.health)


def source_from_row(row: Mapping[str, Any]) -> SourceState:
    """Return a row of `sources` as a SourceState."""
    return SourceState(
        key=row["key"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        baseline_at=from_iso(row["baseline_at"]),
        last_poll_at=from_iso(row["last_poll_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"] or 0,
        next_poll_at=from_iso(row["next_poll_at"]),
        paused=bool(row["paused"]),
        health=Health(row["health"] or Health.OK),
        empty_polls=row["empty_polls"] or 0,
        selectors_missed=misses_from_json(row.get("selectors_missed")),
        selector_runs=runs_from_json(row.get("selectors_missed")),
    )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One poll of one source."""

    source_key: str
    started_at: datetime
    finished_at: datetime
    status: RunStatus
    links_found: int = 0
    new_articles: int = 0
    error: str | None = None
    error_kind: str | None = None  # the exception class, e.g. "NoLinksFound"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A channel an article is queued for."""

    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One article queued for one channel (a post, or an edit of or reply to its post)."""

    id: int
    article_id: int
    source_key: str
    channel: str
    chat_id: str
    state: OutboxState
    attempts: int
    article: Article
    message_id: int | None = None
    last_error: str | None = None
    kind: OutboxKind = OutboxKind.POST
    target_message_id: int | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    probe: Expectation | None = None  # what a probe looks for, recorded when the send was claimed
    probe_tries: int = 0
    digest_part: DigestMark | None = None  # the part of a split digest the row was packed in


@dataclass(frozen=True, slots=True)
class DigestMark:
    """The part of a split digest some rows go out in: its heading (HTML and plain text), its
    language ("" for a mixed one), its number of how many, and its rows in the order listed."""

    head_html: str
    head_plain: str
    lang: str
    number: int
    of: int
    rows: tuple[int, ...]

    def json(self) -> str:
        """Return the mark as the JSON text the outbox keeps."""
        return json.dumps(
            [self.head_html, self.head_plain, self.lang, self.number, self.of, self.rows]
        )


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a send will look like in its chat, recorded before the call so a probe can find it.

    `after` is the chat's highest message id Telegram had confirmed to us (None if none yet);
    `digest` hashes the text Telegram shows (a photo's caption); `links` are the message's
    links; `media` is "photo" for a photo with a caption, "text" for a text message.
    """

    after: int | None
    digest: str
    links: tuple[str, ...] = ()
    media: str = "text"


def json_keys(text: str | None) -> tuple[str, ...]:
    """Parse a stored JSON list of keys (topics, entities); empty for a missing or broken value."""
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


# What the archive runs every error text and alert through before writing it: the application
# passes one that redacts the bot token (bot/secrets.py); storage itself knows no secret.
Scrub = Callable[[str], str]


def unchanged(text: str) -> str:
    """Return text as it is (the scrub of an archive that was given none)."""
    return text


def iso(moment: datetime | None) -> str | None:
    """Return a UTC timestamp as sortable ISO text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def from_iso(text: str | None) -> datetime | None:
    """Parse ISO text written by `iso`."""
    return datetime.fromisoformat(text) if text else None


def stored_moment(value: str | datetime) -> datetime:
    """Return a stored moment (SQLite's ISO text, or PostgreSQL's timestamp) as a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def article_from_row(row: dict) -> Article:
    """Rebuild an Article from its stored columns."""
    return Article(
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        published=from_iso(row["published_at"]),
        author=row["author"] or "",
        lang=row["lang"] or "",
        lead=row["lead"] or "",
        body=row["body"] or "",
        summary=row["summary"] or "",
        topics=json_keys(row.get("topics")),
        entities=json_keys(row.get("entities")),
        image=row.get("image_url") or "",
    )


def article_columns(article: Article) -> dict:
    """Return the columns that describe an article's content (the inverse of `article_from_row`)."""
    return {
        "title": article.title,
        "author": article.author,
        "lang": article.lang,
        "lead": article.lead,
        "body": article.body,
        "summary": article.summary,
        "content_hash": article.content_hash,
        "topics": json.dumps(list(article.topics), ensure_ascii=False),
        "entities": json.dumps(list(article.entities), ensure_ascii=False),
        "image_url": article.image or None,
        "lead_hash": lead_key(article.lead),
    }


def lead_key(lead: str) -> str | None:
    """Return what identifies a lead however it is spaced or cased (None for none)."""
    # Compared across a source's articles: the same description on all of them is the site's.
    text = " ".join(unicodedata.normalize("NFKC", lead).casefold().split())
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest() if text else None


def outbox_from_row(row: dict) -> OutboxItem:
    """Build an OutboxItem from a joined outbox/articles row."""
    return OutboxItem(
        id=row["id"],
        article_id=row["article_id"],
        source_key=row["source_key"],
        channel=row["channel"],
        chat_id=row["chat_id"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"] or 0,
        article=article_from_row(row),
        message_id=row["message_id"],
        last_error=row["last_error"],
        kind=OutboxKind(row["kind"] or OutboxKind.POST),
        target_message_id=row["target_message_id"],
        next_attempt_at=from_iso(row["next_attempt_at"]),
        created_at=from_iso(row["created_at"]),
        probe=_expectation(row),
        probe_tries=row.get("probe_tries") or 0,
        digest_part=_digest_mark(row.get("digest_part")),
    )


def _digest_mark(text: str | None) -> DigestMark | None:
    """Return the digest part a row was packed in, if it was (a split digest's)."""
    if not text:
        return None
    head_html, head_plain, lang, number, of, rows = json.loads(text)
    return DigestMark(head_html, head_plain, lang, number, of, tuple(rows))


def _expectation(row: dict) -> Expectation | None:
    """Return what a probe of the row looks for, if the send recorded it."""
    if not row.get("probe_hash"):
        return None
    return Expectation(
        after=row["probe_after"],
        digest=row["probe_hash"],
        links=tuple(json.loads(row["probe_links"] or "[]")),
        media=row.get("media") or "text",
    )


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Near-duplicate detection: shingles, MinHash-LSH candidates, exact confirmation ([dedup])."""

    shingle: int = 3
    num_perm: int = 128
    candidate_threshold: float = 0.5
    # Labelled reprints score 0.82-1.0 and distinct releases on the same event 0.04-0.36
    # (tests/data/reprints.jsonl); 0.7 sits between them with margin on both sides.
    threshold: float = 0.7
    window_seconds: int = 30 * 86400
