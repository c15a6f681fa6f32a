"""Routing: which channels and which subscribed readers an article goes to."""

from __future__ import annotations

import pytest

from bot.config import Channel
from bot.ingest.routing import channels_for, passes, subscribers_for
from scrapers.models import Article
from storage.subscriptions import Subscription

ARTICLE = Article(
    url="https://tass.com/defense/1",
    canonical_url="https://tass.com/defense/1",
    title="CSTO peacekeepers complete their mission",
    lang="en",
    body="The collective forces of the CSTO left Kazakhstan. Санкции не обсуждались.",
    topics=("peacekeeping", "military-cooperation"),
)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (Channel("all", "@a"), True),
        (Channel("tass", "@a", sources=("tass-com",)), True),
        (Channel("belta", "@a", sources=("belta-en",)), False),
        (Channel("ru", "@a", languages=("ru",)), False),
        (Channel("peace", "@a", topics=("peacekeeping", "economy")), True),
        (Channel("econ", "@a", topics=("economy",)), False),
        (Channel("kw", "@a", include=("kazakhstan",)), True),
        (
            Channel("kw", "@a", include=("kazakh",)),
            False,
        ),  # whole words unless a * asks for endings
        (Channel("kw", "@a", include=("kazakh*",)), True),
        (Channel("kw", "@a", include=("санкци*",)), True),
        (Channel("kw", "@a", include=("collective forces",)), True),
        (Channel("kw", "@a", exclude=("peacekeepers",)), False),
        (Channel("kw", "@a", include=("CSTO",), exclude=("football",)), True),
    ],
)
def test_channel_filters(channel: Channel, expected: bool) -> None:
    assert passes(ARTICLE, source_key="tass-com", channel=channel) is expected


def test_an_article_goes_to_every_channel_it_passes() -> None:
    channels = (
        Channel("all", "@a"),
        Channel("ru", "@b", languages=("ru",)),
        Channel("peace", "@c", topics=("peacekeeping",)),
    )
    assert [c.name for c in channels_for(ARTICLE, source_key="tass-com", channels=channels)] == [
        "all",
        "peace",
    ]


@pytest.mark.parametrize("hostile", ["(a+)+$", "a" * 5000 + "*", "[", ".*.*.*.*.*=", "\\"])
def test_hostile_keywords_are_literal(hostile: str) -> None:
    channel = Channel("kw", "@a", include=(hostile,))
    article = Article(url="u", canonical_url="u", title="x", body="a" * 30 + "!")
    assert passes(article, source_key="s", channel=channel) is False


def test_subscribers_get_each_matching_article_once() -> None:
    subs = [
        Subscription(1, 10, "10", "topic", "peacekeeping"),
        Subscription(2, 10, "10", "source", "tass-com"),
        Subscription(3, 20, "20", "phrase", "collective forces"),
        Subscription(4, 30, "30", "topic", "economy"),
        Subscription(5, 40, "40", "source", "belta-en"),
    ]
    assert subscribers_for(ARTICLE, source_key="tass-com", subscriptions=subs) == [
        (10, "10"),
        (20, "20"),
    ]


def test_an_entity_alert_fires_for_any_entity_the_article_carries_and_for_no_topic() -> None:
    # Posts show only three entity hashtags; an alert reads every entity the archive keeps.
    many = Article(
        url="u",
        canonical_url="u",
        title="Summit",
        topics=("csto",),  # a topic key alike is no entity: only `entities` count
        entities=("russia", "belarus", "kazakhstan", "armenia"),
    )
    subs = [
        Subscription(1, 10, "10", "entity", "armenia"),
        Subscription(2, 20, "20", "entity", "csto"),
        Subscription(3, 30, "30", "topic", "armenia"),
    ]
    assert subscribers_for(many, source_key="tass-com", subscriptions=subs) == [(10, "10")]
