"""/latest takes a label of several words ("/latest Политика и дипломатия", "/latest Border
security"), in English and Russian, through the loopback fake Bot API."""

from __future__ import annotations

import pytest

from bot.chat.application import RateLimiter
from bot.chat.naming import find_named
from bot.text.taxonomy import taxonomy_from_dict
from storage.subscriptions import SubscriptionKind
from tests.support.chat import ENTITIES, TOPICS, add, seed, talk

# The chat kit's taxonomy plus a topic and a tag whose labels have several words in each language.
TAXONOMY = {
    "topics": {
        **TOPICS,
        "politics-diplomacy": {
            "label": "Politics and diplomacy",
            "labels": {"ru": "Политика и дипломатия"},
            "phrases": ["diplomacy"],
        },
    },
    "entities": {
        **ENTITIES,
        "un": {
            "label": "United Nations",
            "labels": {"ru": "Организация Объединённых Наций"},
            "phrases": ["United Nations"],
        },
    },
}


@pytest.fixture
def store(store):
    """The shared empty archive (conftest, both backends): the chat kit's three articles, one on
    diplomacy and one tagged UN."""
    seed(store)
    add(store, 4, "Ministers talk diplomacy", body="Diplomacy.", topics=("politics-diplomacy",))
    add(store, 5, "Envoy visits the United Nations", body="At the UN.", entities=("un",))
    return store


def _ask(fake, store, tmp_path, *asked: tuple[str, str]) -> list[str]:
    """Ask each (text, reader's language) in turn; return the replies."""

    async def script(s):
        return [await s.ask(text, language=lang) for text, lang in asked]

    limiter = RateLimiter(limit=1000)
    return talk(fake, store, tmp_path, script, limiter=limiter, taxonomy=TAXONOMY)[0]


def test_latest_takes_a_topic_label_of_several_words_in_either_language(
    telegram, store, tmp_path
) -> None:
    border, counted, ru, en_of_ru, trailing = _ask(
        telegram,
        store,
        tmp_path,
        ("/latest Border security", "en"),
        ("/latest 1 border SECURITY", "en"),
        ("/latest Политика и дипломатия", "ru"),
        ("/latest политика И дипломатия", "en"),
        ("/latest Politics and diplomacy 3", "ru"),
    )
    assert border.startswith("<b>Latest on Border security</b>") and "Talks on" in border
    assert counted.count("<a href=") == 1 and "Talks on" in counted
    assert ru.startswith("<b>Новое по теме «Политика и дипломатия»</b>")
    assert en_of_ru.startswith("<b>Latest on Politics and diplomacy</b>")
    assert trailing.startswith("<b>Новое по теме «Политика и дипломатия»</b>")
    for reply in (ru, en_of_ru, trailing):
        assert "Ministers talk diplomacy" in reply and "Talks on" not in reply


def test_latest_takes_a_tag_label_of_several_words_in_either_language(
    telegram, store, tmp_path
) -> None:
    en, ru = _ask(
        telegram,
        store,
        tmp_path,
        ("/latest 2 United Nations", "en"),
        ("/latest организация объединённых наций", "ru"),
    )
    assert en.startswith("<b>Latest about United Nations</b>")
    assert ru.startswith("<b>Новое по тегу «Организация Объединённых Наций»</b>")
    for reply in (en, ru):
        assert "Envoy visits" in reply and "Ministers talk" not in reply


def test_several_words_that_are_no_label_are_refused_whole_in_either_language(
    telegram, store, tmp_path
) -> None:
    en, ru, one_word_kept = _ask(
        telegram,
        store,
        tmp_path,
        ("/latest Border patrol", "en"),
        ("/latest 2 Политика дипломатия", "ru"),
        ("/latest nato", "en"),
    )
    assert en == "No topic or tag is called “Border patrol”. /topics lists them."
    assert ru == "Темы или тега «Политика дипломатия» нет. Список: /topics."
    assert one_word_kept == "No topic or tag is called “nato”. /topics lists them."


def test_a_label_both_a_topic_and_a_tag_have_is_the_topic() -> None:
    # The precedence of one word holds for several: a topic before a tag.
    taxonomy = taxonomy_from_dict(
        {
            "topics": {"talks": {"label": "Peace talks", "phrases": ["talks"]}},
            "entities": {"talks-org": {"label": "Peace Talks", "phrases": ["PTO"]}},
        }
    )
    found = find_named("peace talks", topics=taxonomy.topics, entities=taxonomy.entities)
    assert found == (SubscriptionKind.TOPIC, taxonomy.topics[0])
    tag = find_named("Peace Talks", topics=(), entities=taxonomy.entities)
    assert tag == (SubscriptionKind.ENTITY, taxonomy.entities[0])
    assert find_named("Peace", topics=taxonomy.topics, entities=taxonomy.entities) is None
