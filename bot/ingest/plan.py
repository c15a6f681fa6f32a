"""The ingest decision as data: what to store and whom to tell, from an enriched article and what
the archive says about it (pure).

Ingest carries a Plan out (bot/ingest/intake.py); `check-source` and `extract` print the same
Plan, so a dry run can never say otherwise than a poll does.

    known URL ─────────────────────────────────────────► KNOWN      skipped
    re-read, same text ────────────────────────────────► UNCHANGED  skipped
    re-read, new text ─────────────────────────────────► VERSION    corrections edit or answer its posts
    repeats an archived story (same text, or nearly) ──► REPRINT    posted only where the story never
                                                                    went; the story's posts (the
                                                                    original's and reprints') name it
                                                                    (unless its source is named or
                                                                    is theirs: nothing to edit)
    else ──────────────────────────────────────────────► NEW        posted where it routes
    A first run's old news and a backfill are stored silent: no posts at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.config import Channel, Corrections
from bot.ingest.routing import channels_for, subscribers_for
from bot.text.plural import counted
from scrapers.models import Article
from storage import Delivery, OutboxKind
from storage.subscriptions import Subscription


class Quiet(StrEnum):
    """Why a new article is stored without any post, as its log line says."""

    FIRST_RUN = "a first run's older news: only the newest `backfill` are posted"
    BACKFILL = "a backfill"
    UNANSWERED = "its page never answered"


class Fate(StrEnum):
    """What happens to an article."""

    NEW = "new"
    REPRINT = "reprint"
    VERSION = "version"
    KNOWN = "known"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Story:
    """The archived story an article repeats, and where it was told."""

    article_id: int  # the story's original (an article that is nobody's reprint)
    similarity: float  # 1.0 for the same text
    silent: bool = False  # recorded without posting (a first run's old news)
    # Channels that have, or will have, a post of it: of the original or of any reprint.
    channels: frozenset[str] = frozenset()
    # Channels whose sent post of it (the original's or a reprint's) has a message of its own.
    posted: tuple[str, ...] = ()
    # Its reprints with a sent post (where a filter let only the reprint in): edited with the
    # original's, so the story's post in every chat names the story's other sources.
    reprint_posts: tuple[int, ...] = ()
    # The original's source and its reprints': the story's posts are that source's and name the
    # rest ("Also: …"). Empty when unknown: then a reprint's source counts as a new one.
    sources: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Archived:
    """The stored article an article re-reads, and where it was posted."""

    article_id: int
    content_hash: str
    posted: tuple[str, ...] = ()  # channels whose sent post of it has a message of its own


@dataclass(frozen=True, slots=True)
class Facts:
    """What the archive says about an article, read before deciding."""

    known: bool = False  # its canonical URL is archived already
    story: Story | None = None
    archived: Archived | None = None  # set for a re-read of a stored article
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What ingest does with one article."""

    fate: Fate
    silent: bool = False  # stored without any post (first run beyond `backfill`, or a backfill)
    quiet: Quiet = Quiet.FIRST_RUN  # why, when silent
    story: Story | None = None  # for a reprint: the story it repeats
    article_id: int | None = None  # for a re-read or a known URL: the archived article
    posts: tuple[Delivery, ...] = ()  # new posts: channels and subscribed readers
    updates: tuple[str, ...] = ()  # channels whose post is edited or answered
    update_kind: OutboxKind | None = None
    told: tuple[str, ...] = ()  # channels the article routes to that have the story already
    known_source: bool = False  # a reprint from a source the story has: its posts stay as they are

    @property
    def stores(self) -> bool:
        """Return True when the article is written to the archive."""
        return self.fate in (Fate.NEW, Fate.REPRINT, Fate.VERSION)


def plan(
    article: Article,
    facts: Facts,
    *,
    source_key: str,
    post: bool,
    channels: Sequence[Channel],
    corrections: Corrections = Corrections.EDIT,
    quiet: Quiet = Quiet.FIRST_RUN,
) -> Plan:
    """Decide what to store and whom to tell; `post` is False for a first run's old news, a
    backfill or an item whose page never answered, which `quiet` says."""
    if facts.archived is not None:
        return _reread(article, facts.archived, corrections=corrections)
    if facts.known:
        return Plan(Fate.KNOWN)
    routes = _routes(article, facts, source_key=source_key, channels=channels) if post else ()
    story = facts.story
    if story is None:
        return Plan(Fate.NEW, silent=not post, quiet=quiet, posts=routes)
    # One story once per chat: only channels that never got the story (its original nor any
    # reprint) get the reprint; a story recorded silently (a first run's old news) stays
    # unposted everywhere.
    told = tuple(d.channel for d in routes if d.channel in story.channels)
    fresh = () if story.silent else tuple(d for d in routes if d.channel not in told)
    # The story's posts now name one more source ("Also: …"), unless this source is theirs (a
    # site re-posting its story under a new URL) or named already: an edit would change nothing,
    # and Telegram refuses it ("message is not modified").
    known_source = source_key in story.sources
    updates = () if known_source else story.posted
    return Plan(
        Fate.REPRINT,
        silent=not post,
        quiet=quiet,
        story=story,
        posts=fresh,
        updates=updates,
        update_kind=OutboxKind.EDIT if updates else None,
        told=told,
        known_source=known_source,
    )


def _reread(article: Article, archived: Archived, *, corrections: Corrections) -> Plan:
    """Decide about a stored article read again: a changed text becomes a new version."""
    if not article.body or article.content_hash == archived.content_hash:
        return Plan(Fate.UNCHANGED, article_id=archived.article_id)
    told = archived.posted if corrections != Corrections.IGNORE else ()
    return Plan(
        Fate.VERSION,
        article_id=archived.article_id,
        updates=told,
        update_kind=OutboxKind(corrections) if told else None,
    )


def _routes(
    article: Article, facts: Facts, *, source_key: str, channels: Sequence[Channel]
) -> tuple[Delivery, ...]:
    """Return the channels and subscribed readers an article goes to."""
    routed = channels_for(article, source_key=source_key, channels=tuple(channels))
    readers = subscribers_for(article, source_key=source_key, subscriptions=facts.subscriptions)
    return tuple(Delivery(c.name, c.chat_id) for c in routed) + tuple(
        Delivery(f"user:{user_id}", chat_id) for user_id, chat_id in readers
    )


def describe(plan: Plan) -> str:
    """Say what ingest does with the article, in one line."""
    match plan.fate:
        case Fate.KNOWN:
            return "skipped: its canonical URL is archived already"
        case Fate.UNCHANGED:
            return f"unchanged since it was archived (article {plan.article_id})"
        case Fate.VERSION:
            return f"stored as a new version of article {plan.article_id}" + _updates(plan)
        case Fate.REPRINT:
            story = plan.story
            head = (
                f"stored as a reprint of archived article {story.article_id} "
                f"(similarity {story.similarity:.2f})"
            )
            return head + _silent_or_posts(plan) + _told(plan) + _updates(plan)
    return "stored" + _silent_or_posts(plan)


def _silent_or_posts(plan: Plan) -> str:
    """Describe the new posts, or why there are none."""
    if plan.silent:
        return f"; recorded silently, not posted ({plan.quiet})"
    if plan.story is not None and plan.story.silent:
        return "; not posted: the story was recorded silently"
    if not plan.posts:
        return "" if plan.told else "; no channel or subscriber takes it"
    return "; posted to " + _names(f"{d.channel} ({d.chat_id})" for d in plan.posts)


def _told(plan: Plan) -> str:
    """Name the channels that skip a reprint because they have the story."""
    if not plan.told or plan.silent:
        return ""
    return "; not posted to " + _names(plan.told) + " (they have the story)"


def _updates(plan: Plan) -> str:
    """Describe the edits of (or replies to) existing posts."""
    if plan.known_source and plan.story is not None and plan.story.posted:
        return "; nothing to edit: its post names this source already"
    if not plan.updates:
        return ""
    verb = "answered" if plan.update_kind == OutboxKind.REPLY else "edited"
    what = "to name this source" if plan.fate == Fate.REPRINT else "with the new text"
    return f"; the post in {_names(plan.updates)} is {verb} {what}"


def _names(channels: Iterable[str]) -> str:
    """Name channels, and count subscribed readers ("user:<id>") instead of naming them."""
    channels = list(channels)
    named = [c for c in channels if not c.startswith("user:")]
    readers = len(channels) - len(named)
    return ", ".join(named + ([counted(readers, "subscribed reader")] if readers else []))
