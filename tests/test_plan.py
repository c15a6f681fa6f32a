"""The ingest decision as a pure function: a table of articles, archive facts and plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import Channel, Corrections
from bot.ingest.plan import Archived, Facts, Fate, Plan, Story, describe, plan
from scrapers.models import Article
from storage import Delivery, OutboxKind
from storage.subscriptions import Subscription, SubscriptionKind

ARTICLE = Article(
    url="https://tass.com/politics/1",
    canonical_url="https://tass.com/politics/1",
    title="CSTO summit",
    lang="en",
    body="The leaders of the CSTO met in Moscow.",
    topics=("summits",),
)
MAIN = Channel("main", "@main")
JOURNAL = Channel("journal", "@journal", sources=("interaffairs-en",))
SUMMITS = Channel("summits", "@summits", topics=("summits",))
CHANNELS = (MAIN, JOURNAL, SUMMITS)
READER = Subscription(1, 42, "42", SubscriptionKind.TOPIC, "summits")


def to(*channels: Channel) -> tuple[Delivery, ...]:
    return tuple(Delivery(c.name, c.chat_id) for c in channels)


CASES = [
    ("new: posted where it routes", Facts(), True, Plan(Fate.NEW, posts=to(MAIN, SUMMITS))),
    (
        "new, with a subscribed reader",
        Facts(subscriptions=(READER,)),
        True,
        Plan(Fate.NEW, posts=(*to(MAIN, SUMMITS), Delivery("user:42", "42"))),
    ),
    ("new on a quiet first run", Facts(), False, Plan(Fate.NEW, silent=True)),
    ("known URL", Facts(known=True), True, Plan(Fate.KNOWN)),
    (
        "reprint: only channels that never had the story, and the story's posts name it",
        Facts(story=Story(7, 0.9, channels=frozenset({"main"}), posted=("main",))),
        True,
        Plan(
            Fate.REPRINT,
            story=Story(7, 0.9, channels=frozenset({"main"}), posted=("main",)),
            posts=to(SUMMITS),
            updates=("main",),
            update_kind=OutboxKind.EDIT,
            told=("main",),
        ),
    ),
    (
        "reprint of a story every channel had",
        Facts(story=Story(7, 1.0, channels=frozenset({"main", "summits"}))),
        True,
        Plan(
            Fate.REPRINT,
            story=Story(7, 1.0, channels=frozenset({"main", "summits"})),
            told=("main", "summits"),
        ),
    ),
    (
        "reprint of a story recorded silently: no post anywhere",
        Facts(story=Story(7, 1.0, silent=True)),
        True,
        Plan(Fate.REPRINT, story=Story(7, 1.0, silent=True)),
    ),
    (
        "reprint on a quiet first run still names itself under the story's posts",
        Facts(story=Story(7, 0.8, channels=frozenset({"main"}), posted=("main",))),
        False,
        Plan(
            Fate.REPRINT,
            silent=True,
            story=Story(7, 0.8, channels=frozenset({"main"}), posted=("main",)),
            updates=("main",),
            update_kind=OutboxKind.EDIT,
        ),
    ),
    (
        "re-read, same text",
        Facts(archived=Archived(3, ARTICLE.content_hash, posted=("main",))),
        True,
        Plan(Fate.UNCHANGED, article_id=3),
    ),
    (
        "re-read, new text: its posts are edited",
        Facts(archived=Archived(3, "old hash", posted=("main",))),
        False,
        Plan(Fate.VERSION, article_id=3, updates=("main",), update_kind=OutboxKind.EDIT),
    ),
]


@pytest.mark.parametrize(
    ("facts", "post", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(facts: Facts, post: bool, expected: Plan) -> None:
    assert plan(ARTICLE, facts, source_key="tass-com", post=post, channels=CHANNELS) == expected


@pytest.mark.parametrize(
    ("corrections", "updates", "kind"),
    [
        (Corrections.EDIT, ("main",), OutboxKind.EDIT),
        (Corrections.REPLY, ("main",), OutboxKind.REPLY),
        (Corrections.IGNORE, (), None),
    ],
)
def test_a_new_version_follows_telegram_corrections(corrections, updates, kind) -> None:
    facts = Facts(archived=Archived(3, "old hash", posted=("main",)))
    chosen = plan(
        ARTICLE, facts, source_key="tass-com", post=True, channels=CHANNELS, corrections=corrections
    )
    assert (chosen.fate, chosen.updates, chosen.update_kind) == (Fate.VERSION, updates, kind)


def test_a_reader_following_an_entity_is_told_of_an_article_that_carries_it() -> None:
    follows = Subscription(2, 43, "43", SubscriptionKind.ENTITY, "csto")
    facts = Facts(subscriptions=(follows,))
    tagged = replace(ARTICLE, entities=("kazakhstan", "csto"))
    chosen = plan(tagged, facts, source_key="tass-com", post=True, channels=())
    assert chosen.posts == (Delivery("user:43", "43"),)
    untagged = plan(ARTICLE, facts, source_key="tass-com", post=True, channels=())
    assert untagged.posts == ()


def test_a_re_read_without_a_body_is_never_a_new_version() -> None:
    stub = Article(url=ARTICLE.url, canonical_url=ARTICLE.url, title="Another title")
    chosen = plan(
        stub, Facts(archived=Archived(3, "old hash")), source_key="x", post=True, channels=()
    )
    assert chosen.fate == Fate.UNCHANGED and not chosen.stores


@pytest.mark.parametrize(
    ("chosen", "text"),
    [
        (Plan(Fate.NEW, posts=to(MAIN)), "stored; posted to main (@main)"),
        (Plan(Fate.NEW, silent=True), "stored; recorded silently, not posted"),
        (Plan(Fate.NEW), "stored; no channel or subscriber takes it"),
        (Plan(Fate.KNOWN), "skipped: its canonical URL is archived already"),
        (
            Plan(
                Fate.REPRINT,
                story=Story(7, 0.91),
                posts=(*to(SUMMITS), Delivery("user:42", "42")),
                updates=("main",),
                update_kind=OutboxKind.EDIT,
                told=("main",),
            ),
            "stored as a reprint of archived article 7 (similarity 0.91); posted to summits "
            "(@summits), 1 subscribed reader; not posted to main (they have the story); the "
            "post in main is edited to name this source",
        ),
        (
            Plan(Fate.VERSION, article_id=3, updates=("main",), update_kind=OutboxKind.REPLY),
            "stored as a new version of article 3; the post in main is answered with the new text",
        ),
    ],
)
def test_describe_says_what_the_plan_does(chosen: Plan, text: str) -> None:
    assert describe(chosen).startswith(text)


def test_a_reprint_from_a_source_the_story_has_edits_nothing() -> None:
    """Its own source under a new URL, or a source named already: "Also:" would not change."""
    posted = Story(7, 1.0, channels=frozenset({"main"}), posted=("main",))
    named = replace(posted, sources=frozenset({"tass-com", "belta-en"}))
    for source_key in ("tass-com", "belta-en"):
        chosen = plan(ARTICLE, Facts(story=named), source_key=source_key, post=True, channels=())
        assert (chosen.updates, chosen.update_kind, chosen.known_source) == ((), None, True)
        assert describe(chosen).endswith("; nothing to edit: its post names this source already")
    other = plan(ARTICLE, Facts(story=named), source_key="mid-en", post=True, channels=())
    assert other.updates == ("main",) and "edited to name this source" in describe(other)
