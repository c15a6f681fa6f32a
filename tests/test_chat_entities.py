"""Readers follow entities (CSTO / ОДКБ) as they follow topics: /latest, /subscribe, /mysubs,
/unsubscribe, /topics and /help, in English and Russian, through the loopback fake Bot API."""

from __future__ import annotations

import pytest

from bot.chat.application import RateLimiter
from bot.chat.naming import find_named
from bot.text.taxonomy import taxonomy_from_dict
from scrapers.models import Source
from storage.subscriptions import SubscriptionKind
from tests.support.chat import ENTITIES, READER, T0, add, seed, talk

# A source named as the entity is: the shipped config's odkb-csto-en is "CSTO", -ru "ОДКБ".
CSTO_SITE = {
    "key": "odkb-csto-en",
    "name": "CSTO",
    "url": "https://csto.example/rss",
    "kind": "feed",
}


@pytest.fixture
def store(store):
    """The shared empty archive (conftest, both backends): three articles, one more on CSTO."""
    seed(store)
    add(store, 4, "CSTO staff meet", body="The CSTO Joint Staff met.", entities=("csto",))
    return store


def _roomy(fake, store, tmp_path, script, **kit):
    """Talk to the bot without its per-reader rate limit."""
    return talk(fake, store, tmp_path, script, limiter=RateLimiter(limit=1000), **kit)[0]


def test_a_reader_follows_an_entity_by_key_label_or_hashtag_in_either_language(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        return [
            await s.ask("/subscribe csto"),
            await s.ask("/subscribe #ОДКБ"),
            await s.ask("/subscribe ОДКБ", language="ru"),
            await s.ask("/mysubs"),
            await s.ask("/mysubs", language="ru"),
            await s.ask("/unsubscribe ОДКБ", language="ru"),
            await s.ask("/subscribe #CSTO", language="ru"),
            await s.ask("/unsubscribe csto"),
        ]

    on, again, again_ru, mine, mine_ru, off_ru, on_ru, off = _roomy(
        telegram, store, tmp_path, script
    )
    assert on == "Subscribed to the tag CSTO. New articles will arrive here."
    assert again == "You already follow the tag CSTO."
    assert again_ru == "Вы уже подписаны: тег «ОДКБ»."
    assert "• tag «CSTO» — <code>/unsubscribe csto</code>" in mine
    assert "• тег «ОДКБ» — <code>/unsubscribe csto</code>" in mine_ru
    assert off_ru == "Подписка отменена: тег «ОДКБ»."
    assert on_ru.startswith("Подписка оформлена: тег «ОДКБ».")
    assert off == "Unsubscribed from the tag CSTO."  # as /subscribe named it
    assert store.subscriptions.of_user(READER) == []


def test_an_entity_subscription_is_stored_as_its_own_kind(telegram, store, tmp_path) -> None:
    _roomy(telegram, store, tmp_path, lambda s: s.ask("/subscribe ОДКБ"))
    [sub] = store.subscriptions.of_user(READER)
    assert (sub.kind, sub.value) == (SubscriptionKind.ENTITY, "csto")


def test_latest_filters_by_an_entity_named_either_way(telegram, store, tmp_path) -> None:
    async def script(s):
        return [
            await s.ask("/latest csto"),
            await s.ask("/latest 2 #ОДКБ", language="ru"),
            await s.ask("/latest nato"),
        ]

    english, russian, unknown = _roomy(telegram, store, tmp_path, script)
    for reply in (english, russian):
        assert "CSTO staff meet" in reply
        assert "Peacekeepers" not in reply and "Summit statement" not in reply
    assert english.startswith("<b>Latest about CSTO</b>")
    assert russian.startswith("<b>Новое по тегу «ОДКБ»</b>")
    assert unknown == "No topic or tag is called “nato”. /topics lists them."


def test_topics_help_and_usage_name_the_tags(telegram, store, tmp_path) -> None:
    async def script(s):
        return [
            await s.ask("/topics"),
            await s.ask("/topics", language="ru"),
            await s.ask("/help"),
            await s.ask("/help", language="ru"),
            await s.ask("/subscribe"),
        ]

    topics, topics_ru, help_en, help_ru, usage = _roomy(telegram, store, tmp_path, script)
    assert "<b>Tags</b>" in topics and "• <code>csto</code> — CSTO / ОДКБ" in topics
    assert "<b>Теги</b>" in topics_ru and "• <code>csto</code> — ОДКБ" in topics_ru
    assert "/latest [N] [topic or tag]" in help_en
    assert 'alerts here: /subscribe topic, tag, source or "phrase"' in help_en
    assert "/latest [N] [тема или тег]" in help_ru
    assert "<code>/subscribe csto</code>" in usage


def test_a_word_naming_an_entity_and_a_source_follows_the_entity(telegram, store, tmp_path) -> None:
    async def script(s):
        return [
            await s.ask("/subscribe CSTO"),
            await s.ask("/subscribe odkb-csto-en"),
            await s.ask("/mysubs"),
        ]

    tag, site, mine = _roomy(telegram, store, tmp_path, script, more_sources=[CSTO_SITE])
    assert tag.startswith("Subscribed to the tag CSTO.")
    assert site.startswith("Subscribed to the source CSTO.")
    assert "• source «CSTO» — <code>/unsubscribe odkb-csto-en</code>" in mine
    kinds = [(s.kind, s.value) for s in store.subscriptions.of_user(READER)]
    assert kinds == [("entity", "csto"), ("source", "odkb-csto-en")]


# -- the precedence, on a synthetic taxonomy whose names collide on purpose ------------------------

_TAXONOMY = taxonomy_from_dict(
    {
        "topics": {
            "un": {"label": "Union", "phrases": ["union"]},
            "peacekeeping": {"label": "Blue helmets", "phrases": ["peacekeep"]},
        },
        "entities": {
            "union": {"label": "UN", "phrases": ["UN"]},
            "helmets": {"label": "Blue helmets", "phrases": ["helmet"]},
            "csto": {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO"]},
        },
    }
)
_SOURCES = (
    Source(key="csto", url="https://a.example/", name="Alpha"),
    Source(key="odkb", url="https://b.example/", name="ОДКБ"),
)


@pytest.mark.parametrize(
    ("word", "kind", "key"),
    [
        ("un", "topic", "un"),  # a topic's key before an entity's label
        ("union", "entity", "union"),  # an entity's key before a topic's label
        ("#Blue_helmets", "topic", "peacekeeping"),  # among labels, a topic before an entity
        ("csto", "entity", "csto"),  # keys: an entity before a source
        ("#ОДКБ", "entity", "csto"),  # a label before a source's name
        ("odkb", "source", "odkb"),  # a source's key before an entity's label
        ("Alpha", "source", "csto"),
    ],
)
def test_one_documented_precedence_resolves_a_word_with_two_meanings(word, kind, key) -> None:
    found = find_named(word, topics=_TAXONOMY.topics, entities=_TAXONOMY.entities, sources=_SOURCES)
    assert found is not None and (found[0], found[1].key) == (kind, key)


def test_unsubscribe_by_a_label_a_topic_and_a_tag_share_stops_the_one_followed(
    telegram, store, tmp_path, monkeypatch
) -> None:
    # A tag labelled as a topic is: once the topic was stopped, "/unsubscribe Peacekeeping" read
    # the word as the topic again and answered "You did not follow" while the tag kept coming.
    monkeypatch.setitem(ENTITIES, "helmets", {"label": "Peacekeeping", "phrases": ["helmet"]})

    async def script(s):
        return [
            await s.ask("/subscribe helmets"),
            await s.ask("/subscribe peacekeeping"),
            await s.ask("/unsubscribe Peacekeeping"),
            await s.ask("/unsubscribe Peacekeeping"),
            await s.ask("/unsubscribe Peacekeeping"),
        ]

    *_, first, second, third = _roomy(telegram, store, tmp_path, script)
    # Each reply names the kind it stopped: the two alerts share their label.
    assert (first, second) == (
        "Unsubscribed from the topic Peacekeeping.",
        "Unsubscribed from the tag Peacekeeping.",
    )
    assert third == "You did not follow the topic Peacekeeping."
    assert store.subscriptions.of_user(READER) == []


def test_mysubs_says_which_alerts_are_paused_since_the_config_dropped_their_key(
    telegram, store, tmp_path
) -> None:
    # Kept, as the key may come back, but a reader should not wait for alerts that cannot come.
    for kind, value in (("entity", "csto"), ("topic", "gone"), ("source", "closed")):
        store.subscriptions.add(user_id=READER, chat_id=str(READER), kind=kind, value=value, now=T0)

    async def script(s):
        return [await s.ask(c) for c in ("/mysubs", "/unsubscribe gone")] + [
            await s.ask("/mysubs", language="ru")
        ]

    mine, dropped, mine_ru = _roomy(telegram, store, tmp_path, script)
    # The command /mysubs shows drops a paused alert as any other: only the reader drops one.
    assert dropped == "Unsubscribed from the topic gone."
    assert mine.splitlines()[1:4] == [
        "• tag «CSTO» — <code>/unsubscribe csto</code>",
        "• topic «gone» (paused: I no longer follow it) — <code>/unsubscribe gone</code>",
        "• source «closed» (paused: I no longer follow it) — <code>/unsubscribe closed</code>",
    ]
    assert mine_ru.splitlines()[1:3] == [
        "• тег «ОДКБ» — <code>/unsubscribe csto</code>",
        "• источник «closed» (приостановлена: я больше за этим не слежу) — "
        "<code>/unsubscribe closed</code>",
    ]
