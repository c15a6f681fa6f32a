"""A channel follows entity tags (`entities = ["ОДКБ"]`): a "CSTO" channel, end to end.

The config is the shipped example rebased onto loopback copies of the sites; posts go through the
real relay to the loopback fake of the Bot API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Channel, ConfigError, config_from_dict
from bot.ingest.routing import passes
from scrapers.models import Article
from tests.support.clocks import HandClock
from tests.support.world import World, cycle, write_config

CSTO_CHANNELS = (
    '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n\n'
    '[[channels]]\nname = "csto"\nchat_id = "@csto_only"\nentities = ["ОДКБ"]\n'
)


@pytest.fixture
def world():
    """Only TASS, whose saved feed has articles on the CSTO summit and one on something else."""
    with World(("tass-com",)) as copy:
        yield copy


def test_a_csto_channel_gets_the_articles_tagged_csto_and_no_other(
    world, telegram, tmp_path
) -> None:
    config = write_config(
        tmp_path, world, telegram_url=telegram.base_url, backfill=10, channels=CSTO_CHANNELS
    )
    cycle(config, HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC)), keys=("tass-com",))
    everything = [m.text for m in telegram.messages_for("@presswatch_test")]
    csto = [m.text for m in telegram.messages_for("@csto_only")]
    assert csto, everything
    assert all("#CSTO" in text for text in csto)
    assert set(csto) < set(everything)  # the article on something else went to main only


def _channel(**filters: list[str]):
    """Load a config whose one channel has `filters`; return the channel or the ConfigError."""
    data = {
        "channels": [{"name": "csto", "chat_id": "@presswatch_test", **filters}],
        "sources": [{"key": "a", "kind": "feed", "url": "https://example.org/feed"}],
    }
    try:
        return config_from_dict(data, path=Path("presswatch.toml"), token="").channels[0]
    except ConfigError as exc:
        return exc


def test_a_channel_names_entities_by_key_label_in_either_language_or_hashtag() -> None:
    channel = _channel(entities=["ОДКБ", "#CSTO", "Belarus", "Казахстан", "un"])
    assert isinstance(channel, Channel), channel
    assert channel.entities == ("csto", "belarus", "kazakhstan", "un")
    assert channel.topics == ()


def test_a_topic_in_entities_or_an_entity_in_topics_is_refused_with_where_it_belongs() -> None:
    caught = _channel(topics=["CSTO", "economy"], entities=["Экономика", "ОДКБ", "Belarsu"])
    assert isinstance(caught, ConfigError)
    assert list(caught.problems) == [
        "channels[0].topics: 'CSTO' names entities.csto, not one of the topics: "
        "put it in `entities`",
        "channels[0].entities: 'Экономика' names topics.economy, not one of the entities: "
        "put it in `topics`",
        "channels[0].entities: unknown entity 'Belarsu' (did you mean 'belarus'?)",
    ]


ARTICLE = Article(
    url="u", canonical_url="u", title="Summit", topics=("armenia",), entities=("csto", "russia")
)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (Channel("csto", "@a", entities=("csto",)), True),
        (Channel("both", "@a", entities=("un", "russia")), True),
        (Channel("un", "@a", entities=("un",)), False),
        # A topic key alike is no entity: only the article's `entities` count.
        (Channel("armenia", "@a", entities=("armenia",)), False),
        # Filters all must pass: the CSTO's economy only.
        (Channel("csto-economy", "@a", topics=("economy",), entities=("csto",)), False),
    ],
)
def test_a_channel_s_entities_filter(channel: Channel, expected: bool) -> None:
    assert passes(ARTICLE, source_key="tass-com", channel=channel) is expected
