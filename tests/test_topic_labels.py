"""Topic and entity labels per language: a Russian post shows Russian hashtags and topic names."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.chat.answers import topics_text
from bot.config import ConfigError, config_from_dict
from bot.config.topics import default_taxonomy, taxonomy_from_config
from bot.text.taxonomy import find_topic
from scrapers.models import Article
from storage import Delivery
from tests.support.posting import CHAT, Harness
from tests.support.relay import SOURCES, START, channel

TABLE = {"label": "Peacekeeping", "phrases": ["peacekeep"]}


def _taxonomy(**extra):
    return taxonomy_from_config({"topics": {"peacekeeping": TABLE | extra}})


def test_a_label_in_the_post_s_language_is_its_name_and_hashtag() -> None:
    (topic,) = _taxonomy(labels={"ru": "Миротворческие операции"}).topics
    assert topic.hashtag_in("ru") == "Миротворческие_операции"
    assert topic.label_in("ru") == "Миротворческие операции"
    assert topic.hashtag_in("ru-RU") == "Миротворческие_операции"
    # The one rule articles keep their language by (scrapers/language.py), spaces and all.
    assert topic.label_in(" RU_ru") == "Миротворческие операции"
    # Other languages, and an article whose language is unknown, get the label, as a hashtag
    # too (not the key: "#peacekeeping" beside "#Миротворческие_операции" reads as code).
    assert (topic.hashtag_in("en"), topic.label_in("en")) == ("Peacekeeping", "Peacekeeping")
    assert topic.hashtag_in("") == "Peacekeeping"
    # A hashtag the operator wrote still wins where the post's language has no label.
    (named,) = _taxonomy(hashtag="Peace", labels={"ru": "Мир"}).topics
    assert (named.hashtag_in("en"), named.hashtag_in("ru")) == ("Peace", "Мир")
    # A topic labelled in English only shows that label in Russian too (README, the example
    # config): a fallback, never an empty name.
    (english,) = _taxonomy().topics
    assert (english.label_in("ru"), english.hashtag_in("ru")) == ("Peacekeeping", "Peacekeeping")


def test_a_topic_left_without_the_russian_label_the_others_have_is_a_config_warning(
    tmp_path,
) -> None:
    topics = {
        "peacekeeping": TABLE | {"labels": {"ru": "Миротворчество"}},
        "border-security": {"label": "Border security", "phrases": ["border guard"]},
    }
    config = config_from_dict({"topics": topics}, path=tmp_path / "p.toml")
    assert [w for w in config.warnings if "label" in w] == [
        "topics border-security: no label in 'ru', which other topics have; readers in 'ru' "
        "see their `label` instead"
    ]
    # The shipped taxonomy labels every topic and entity in Russian; one language alone warns not.
    assert not [w for w in config_from_dict({}, path=tmp_path / "p.toml").warnings if "label" in w]
    english = {"topics": {"border-security": topics["border-security"]}}
    assert not [
        w for w in config_from_dict(english, path=tmp_path / "p.toml").warnings if "label" in w
    ]


def test_a_label_with_no_letter_leaves_the_hashtag_to_the_key() -> None:
    # "2026" or "???" make no hashtag: a config that names no hashtag of its own still loads
    # (the key was the default before labels were) and says nothing of a hashtag it never wrote.
    for label in ("2026", "???"):
        (topic,) = taxonomy_from_config(
            {"topics": {"year-2026": {"label": label, "phrases": ["summit"]}}}
        ).topics
        assert (topic.hashtag, topic.hashtag_in("en"), topic.label) == ("year_2026",) * 2 + (label,)


# Telegram's own reading of a hashtag (TDLib's match_hashtags): '#' and then 1 to 256 letters,
# decimal digits, '_' (or ZWNJ, middle dot), at least one a letter; a '-' or a space ends it.
_TELEGRAM_HASHTAG = re.compile(r"#(?=\w*[^\W\d_])\w{1,256}")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_shipped_hashtag_is_one_whole_telegram_hashtag_in_both_languages(lang) -> None:
    shipped = default_taxonomy()
    for topic in (*shipped.topics, *shipped.entities):
        tag = "#" + topic.hashtag_in(lang)
        assert _TELEGRAM_HASHTAG.fullmatch(tag), (topic.key, tag)
        # Spelled from the label shown to that language's readers, not from the key.
        assert tag[1:].replace("_", " ").casefold() == _words(topic.label_in(lang)), tag


def _words(label: str) -> str:
    """Return a label's words joined by single spaces, case-folded."""
    return " ".join(re.sub(r"[\W_]+", " ", label).split()).casefold()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("миротворчество", "topics.peacekeeping.labels: expected a table such as"),
        ({"ru": 5}, "topics.peacekeeping.labels.ru: expected a string, got int"),
        ({"russian": "Мир"}, "topics.peacekeeping.labels.russian: not a language code"),
        ({"ru": " -!- "}, "topics.peacekeeping.labels.ru: ' -!- ' has no letters"),
        ({"ru": "2024"}, "topics.peacekeeping.labels.ru: '2024' has no letters"),
    ],
)
def test_a_bad_label_is_one_config_error_naming_its_key(labels, message) -> None:
    with pytest.raises(ConfigError) as caught:
        _taxonomy(labels=labels)
    (problem,) = caught.value.problems
    assert problem.startswith(message), problem


def test_every_default_topic_and_entity_has_a_russian_label() -> None:
    shipped = default_taxonomy()
    missing = [t.key for t in (*shipped.topics, *shipped.entities) if "ru" not in dict(t.labels)]
    assert missing == []


def test_the_chat_finds_a_topic_by_key_label_or_hashtag_in_any_language() -> None:
    topics = default_taxonomy().topics
    for name in (
        "politics-diplomacy",
        "politics_diplomacy",
        "Politics and diplomacy",
        "политика и дипломатия",
        "#Политика_и_дипломатия",
    ):
        found = find_topic(topics, name)
        assert found is not None and found.key == "politics-diplomacy", name
    assert find_topic(topics, "политика") is None
    assert "Politics and diplomacy / Политика и дипломатия" in topics_text(topics)


def _article(lang: str) -> Article:
    words = {"ru": "Миротворцы ОДКБ завершили учения", "en": "CSTO peacekeepers end drills"}
    return Article(
        url=f"https://example.org/{lang}/1",
        canonical_url=f"https://example.org/{lang}/1",
        title=words[lang],
        published=START,
        lang=lang,
        body=words[lang] + ".",
        topics=("peacekeeping", "politics-diplomacy"),
        entities=("csto",),
    )


def _harness(tmp_path, fake, **extra) -> Harness:
    """The posting harness with the shipped taxonomy (a config without [topics] gets it)."""
    h = Harness(tmp_path, fake)
    data = {
        "storage": {"path": str(tmp_path / "archive.db")},
        "telegram": {"api_base_url": fake.base_url},
        "channels": [channel("main", CHAT, **extra)],
        "sources": SOURCES,
    }
    h.config = config_from_dict(data, path=tmp_path / "presswatch.toml", token="")
    return h


@pytest.mark.parametrize(
    ("lang", "tags"),
    [
        ("ru", "#Миротворчество #Политика_и_дипломатия #ОДКБ"),
        ("en", "#Peacekeeping #Politics_and_diplomacy #CSTO"),
    ],
)
def test_a_post_carries_the_hashtags_of_its_language(tmp_path, telegram, lang, tags) -> None:
    h = _harness(tmp_path, telegram)
    h.store.add_article(
        _article(lang), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (post,) = telegram.messages_for(CHAT)
    assert post.plain.splitlines()[-1] == tags


def test_a_post_carries_at_most_three_entity_hashtags_the_most_salient_first(tmp_path, telegram):
    h = _harness(tmp_path, telegram)
    # Stored best first, as tag_entities ranks them (the summit's host and organisation lead).
    entities = ("csto", "kazakhstan", "armenia", "belarus", "kyrgyzstan", "russia")
    summit = replace(_article("en"), topics=("peacekeeping",), entities=entities)
    h.store.add_article(
        summit, source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (post,) = telegram.messages_for(CHAT)
    assert post.plain.splitlines()[-1] == "#Peacekeeping #CSTO #Kazakhstan #Armenia"
    # The archive keeps every tag: only the post is cut.
    (row,) = h.store.db.query("select entities from articles")
    assert json.loads(row["entities"]) == list(entities)


def test_a_passing_mention_tags_the_article_but_is_no_hashtag_under_its_post(tmp_path, telegram):
    # Synthetic, after two real posts (ux11): "#Kazakhstan" under an Emirates story from one
    # "Kazakh" deep in the body; "#NATO" under the King's Speech from one mention.
    h = _harness(tmp_path, telegram)
    body = (
        "Emirates will fly to Lisbon from June.\n\nThe Kazakh pilots trained in Dubai.\n\n"
        "The EU approved the route, and the EU's regulator signed it."
    )
    story = replace(
        _article("en"), title="Emirates opens a route to Lisbon", body=body,
        topics=(), entities=("eu", "kazakhstan"),
    )  # fmt: skip
    h.store.add_article(
        story, source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (post,) = telegram.messages_for(CHAT)
    assert post.plain.splitlines()[-1] == "#EU"  # named twice; Kazakhstan once, in passing
    (row,) = h.store.db.query("select entities from articles")
    assert json.loads(row["entities"]) == ["eu", "kazakhstan"]  # channels and alerts follow both


def test_a_template_s_topics_are_named_in_the_post_s_language(tmp_path, telegram) -> None:
    template = "<b>{{ title }}</b>\n{{ topics | join(', ') }}\n{{ url }}"
    h = _harness(tmp_path, telegram, template=template)
    h.store.add_article(
        _article("ru"), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (post,) = telegram.messages_for(CHAT)
    assert post.plain.splitlines()[1] == "Миротворчество, Политика и дипломатия"


def _channel_topics(*names: str):
    """Load a config whose one channel filters on `names`; return it or its ConfigError."""
    data = {
        "channels": [{"name": "main", "chat_id": "@presswatch_test", "topics": list(names)}],
        "sources": [{"key": "a", "kind": "feed", "url": "https://example.org/feed"}],
    }
    try:
        return config_from_dict(data, path=Path("presswatch.toml"), token="")
    except ConfigError as exc:
        return exc


def test_a_channel_filter_takes_a_key_a_label_in_any_language_or_a_hashtag() -> None:
    config = _channel_topics(
        "Миротворчество", "#Политика_и_дипломатия", "economy", "Economy", "Terrorism_extremism"
    )
    assert not isinstance(config, ConfigError), config
    (main,) = config.channels
    # Normalised to keys at load, each once, so routing compares keys only.
    assert main.topics == ("peacekeeping", "politics-diplomacy", "economy", "terrorism-extremism")


def test_a_channel_filter_naming_no_topic_is_one_error_with_the_closest_key() -> None:
    caught = _channel_topics("Миротворчиство", "economy")
    assert isinstance(caught, ConfigError)
    assert list(caught.problems) == [
        "channels[0].topics: unknown topic 'Миротворчиство' (did you mean 'peacekeeping'?)"
    ]
