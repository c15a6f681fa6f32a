"""The few words a post adds of its own ("Also:", "Updated:", "more") are in the article's language."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import config_from_dict
from bot.delivery.render import render_post
from scrapers.models import Article
from storage import Delivery
from tests.support.posting import CHAT, Harness
from tests.support.relay import SOURCES, START, channel


def _article(n: int, lang: str) -> Article:
    return Article(
        url=f"https://tass.ru/politika/{n}",
        canonical_url=f"https://tass.ru/politika/{n}",
        title=f"В ОДКБ назвали приоритеты на следующий год {n}",
        published=START,
        lang=lang,
        body=f"Объединенный штаб сосредоточит внимание на подготовке штабов, номер {n}.",
        summary="Основное внимание будет уделено оснащению Коллективных сил.",
    )


@pytest.mark.parametrize(("lang", "line"), [("ru", "Также: БЕЛТА"), ("en", "Also: БЕЛТА")])
def test_a_story_s_other_sources_are_named_in_the_article_s_language(lang, line) -> None:
    post = render_post(_article(1, lang), source_name="ТАСС", also=("БЕЛТА",))
    assert line in post.plain.splitlines()


@pytest.mark.parametrize(
    ("lang", "zone", "line"),
    [
        ("ru", "Europe/Moscow", "ТАСС · 28.11.2026 12:00 МСК"),
        ("en", "Europe/Moscow", "ТАСС · 28.11.2026 12:00 MSK"),
        # A Russian reader knows no "CET": the offset; an English one reads it as it is.
        ("ru", "Europe/Berlin", "ТАСС · 28.11.2026 10:00 UTC+1"),
        ("en", "Europe/Berlin", "ТАСС · 28.11.2026 10:00 CET"),
        ("ru", "Asia/Kolkata", "ТАСС · 28.11.2026 14:30 UTC+5:30"),
        ("ru-RU", "UTC", "ТАСС · 28.11.2026 09:00 UTC"),
        # London's winter "GMT" is UTC itself: no "UTC+0".
        ("ru", "Europe/London", "ТАСС · 28.11.2026 09:00 UTC"),
    ],
)
def test_a_post_names_its_time_zone_as_readers_of_its_language_read_it(lang, zone, line) -> None:
    post = render_post(_article(1, lang), source_name="ТАСС", zone=zone)
    assert post.plain.splitlines()[1] == line


def test_a_russian_post_from_a_moscow_source_says_msk_in_cyrillic(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram)
    data = {
        "storage": {"path": str(tmp_path / "archive.db")},
        "telegram": {"api_base_url": telegram.base_url},
        "channels": [channel("main", CHAT)],
        "sources": [s | {"timezone": "Europe/Moscow"} for s in SOURCES],
    }
    h.config = config_from_dict(data, path=tmp_path / "presswatch.toml", token="")
    h.store.add_article(
        _article(1, "ru"), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (post,) = telegram.messages_for(CHAT)
    assert post.plain.splitlines()[1] == "TASS · 28.11.2026 12:00 МСК"


def test_a_russian_correction_reply_says_so_in_russian(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram)
    original = h.store.add_article(
        _article(1, "ru"), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run(advance=10)
    h.store.posts.enqueue_update(original, kind="reply", now=h.time.now())
    h.run()
    post, reply = telegram.messages_for(CHAT)
    assert reply.reply_to_message_id == post.message_id
    assert reply.plain.startswith("Обновлено: В ОДКБ назвали приоритеты на следующий год 1\n")


def test_a_russian_story_with_many_reprints_counts_the_rest_in_russian(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram)
    original = h.store.add_article(
        _article(0, "ru"), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run(advance=10)
    for n in range(1, 8):
        h.store.add_article(
            _article(n, "ru"), source_key=f"site{n}", now=START, duplicate_of=original
        )
    h.store.posts.enqueue_update(original, kind="edit", now=h.time.now())
    h.run()
    (edit,) = telegram.edits
    assert "Также: site1, site2, site3, site4, site5, +2 ещё" in edit.plain


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "Your alerts: topic «Peacekeeping», phrase «staff training»"),
        ("ru", "Ваши подписки: тема «Peacekeeping», фраза «staff training»"),
    ],
)
def test_a_personal_alert_names_the_subscriptions_it_matched(
    tmp_path, telegram, lang, line
) -> None:
    h = Harness(tmp_path, telegram)
    for kind, value in (
        ("topic", "peacekeeping"),
        ("phrase", "staff training"),
        ("source", "belta"),
    ):
        h.store.subscriptions.add(user_id=7, chat_id="7", kind=kind, value=value, now=START)
    alert = replace(
        _article(1, lang),
        body="Peacekeepers of the CSTO end their staff training.",
        topics=("peacekeeping",),
    )
    h.store.add_article(
        alert,
        source_key="tass-com",
        now=START,
        deliveries=[Delivery("main", CHAT), Delivery("user:7", "7")],
    )
    h.run()
    ([post], [personal]) = telegram.messages_for(CHAT), telegram.messages_for(7)
    assert line in personal.plain.splitlines()
    assert "«" not in post.plain  # the channel's post names no reader's subscription


@pytest.mark.parametrize(
    ("lang", "line"), [("en", "Your alert: tag «CSTO»"), ("ru", "Ваша подписка: тег «CSTO»")]
)
def test_an_entity_alert_is_named_as_a_tag(tmp_path, telegram, lang, line) -> None:
    h = Harness(tmp_path, telegram)
    h.store.subscriptions.add(user_id=7, chat_id="7", kind="entity", value="csto", now=START)
    tagged = replace(_article(1, lang), entities=("csto",))
    h.store.add_article(
        tagged, source_key="tass-com", now=START, deliveries=[Delivery("user:7", "7")]
    )
    h.run()
    (personal,) = telegram.messages_for(7)
    assert line in personal.plain.splitlines()


def test_an_alert_whose_subscription_was_dropped_before_sending_names_none(
    tmp_path, telegram
) -> None:
    # The row records the reader, not the subscription: asked again at send time, a reader who
    # has since dropped it is not told "Your alert: topic «Peacekeeping»".
    h = Harness(tmp_path, telegram)
    h.store.subscriptions.add(user_id=7, chat_id="7", kind="topic", value="peacekeeping", now=START)
    h.store.add_article(
        replace(_article(1, "en"), topics=("peacekeeping",)),
        source_key="tass-com",
        now=START,
        deliveries=[Delivery("user:7", "7")],
    )
    h.store.subscriptions.remove(user_id=7, kind="topic", value="peacekeeping")
    h.run()
    (personal,) = telegram.messages_for(7)
    assert personal.plain.startswith("В ОДКБ") and "alert" not in personal.plain
