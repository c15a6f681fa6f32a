"""The chat answers a Russian Telegram app in Russian, every reply whole, through the loopback fake."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest

from bot.chat.answers import fit, hit_text
from bot.chat.application import RateLimiter
from bot.chat.phrases import EN, RU, count_of, language, phrases, say
from bot.chat.status import status_lines
from bot.service.overview import note
from bot.text.plural import counted, ru_form
from storage import SourceState
from storage.hits import SearchHit
from storage.status import Snapshot
from tests.support.chat import ADMIN, GROUP, OTHER, add, seed, talk

# What stays as it is in a Russian reply: the bot's name, the config's source names and keys and
# channel name, a topic label the config gives in English only, and the zone of a UTC source's times.
KEPT = ("Alpha Ministry", "Border security", "presswatch", "alpha", "beta", "gamma", "main", "UTC")
ROOMY = 1000  # messages a minute: these tests ask more than a reader may


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    return seed(store)


def english_words(reply: str, typed: str = "") -> list[str]:
    """Return the English words of a reply outside what stays as it is: links (article titles),
    the text of an article under its meta line, <code> (keys and commands to copy), /commands
    (with "all" of "/unsubscribe all"), the names in KEPT and the words the reader `typed`."""
    text = re.sub(r"<a [^>]*>.*?</a>|<code>.*?</code>|</i>\n[^\n]*", " ", reply, flags=re.S)
    text = re.sub(r"<[^>]+>|&\w+;|/\w+(?: all\b)?", " ", text)
    for name in KEPT:
        text = re.sub(rf"\b{re.escape(name)}\b", " ", text)
    # Quoted back as typed, as a title is shown as written.
    echoed = set(re.findall(r"[A-Za-z]+", typed.partition(" ")[2]))
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in echoed]


def russian(reply: str, typed: str = "") -> bool:
    """Tell whether a reply is Russian through and through (and says something in Russian)."""
    return not english_words(reply, typed) and re.search("[а-яё]", reply.casefold()) is not None


ASKED = [
    "/start",
    "/help",
    "/latest",
    "/latest 2 peacekeeping",
    "/latest nosuch",
    "/latest csto",  # an entity: a "tag" to readers
    "/latest 1 #ОДКБ",
    "/latest 100",  # past the cap: the reply says it shows 10
    "/search border",
    "/search",
    "/search nothingmatcheshere",
    "/search " + "x" * 300,
    "/topics",
    "/sources",
    "/mysubs",
    "/unsubscribe",
    "/subscribe",
    "/subscribe peacekeeping",
    "/subscribe PEACEKEEPING",  # its echo is not the label "Peacekeeping" the check looks for
    "/subscribe alpha",
    '/subscribe "border guards"',
    '/subscribe "x"',
    "/subscribe frobnicate",
    "/mysubs",
    "/unsubscribe peacekeeping",
    "/unsubscribe peacekeeping",
    '/unsubscribe "border guards"',
    "/unsubscribe all",
    "/frobnicate",
    "hello there",
    "/pause alpha",
]

# The operator's commands, asked by the admin: each reply in the admin's Telegram language too.
ADMIN_ASKED = ["/status", "/pause", "/pause alpha", "/status", "/resume alpha", "/retry"]

# Every word the reader typed: a reply may quote it back (/mysubs names a phrase asked before).
TYPED = "/all " + " ".join(text.partition(" ")[2] for text in ASKED)


def test_a_russian_reader_gets_every_reply_in_russian_and_an_english_one_in_english(
    telegram, store, tmp_path
) -> None:
    add(store, 5, "Reprinted note", body="Reprinted.", source="alpha")
    add(store, 6, "Reprinted note", body="Reprinted.", source="beta")

    async def script(s):
        replies = {}
        for lang in ("ru", "en"):
            replies[lang] = [await s.ask(text, language=lang) for text in ASKED]
            replies[lang].append(await s.ask("/help", user=ADMIN, language=lang))
            replies[lang] += [await s.ask(text, user=ADMIN, language=lang) for text in ADMIN_ASKED]
            group = dict(user=OTHER, chat=GROUP, chat_type="group", language=lang)
            replies[lang].append(await s.ask("/subscribe alpha", **group))
        return replies

    replies, _ = talk(telegram, store, tmp_path, script, limiter=RateLimiter(limit=ROOMY))
    asked = [*ASKED, "admin /help", *ADMIN_ASKED, "group /subscribe"]
    assert len(replies["ru"]) == len(asked)
    for text, ru, en in zip(asked, *replies.values(), strict=True):
        assert russian(ru, TYPED), (text, ru, english_words(ru, TYPED))
        assert english_words(en), (text, en)  # the same check finds the English of each reply
    # Each command's first reply ("/unsubscribe peacekeeping" is asked twice).
    ru, en = ({t: r for t, r in reversed(list(zip(ASKED, replies[lang])))} for lang in ("ru", "en"))
    assert "<b>Новое по теме «Миротворчество»</b>" in ru["/latest 2 peacekeeping"]
    assert "<b>Latest on Peacekeeping</b>" in en["/latest 2 peacekeeping"]
    assert "(последние 10: не больше 10 за раз)" in ru["/latest 100"]
    assert "(the newest 10: 10 at most at a time)" in en["/latest 100"]
    assert ru["/latest csto"] == ru["/latest 1 #ОДКБ"] == "Статей по тегу «ОДКБ» пока нет."
    assert en["/latest csto"] == "No articles about CSTO yet."
    assert "<code>csto</code> — ОДКБ" in ru["/topics"]
    assert "<code>alpha</code> — 3 статьи" in ru["/sources"]
    assert "<code>alpha</code> — 3 articles" in en["/sources"]
    assert "<code>peacekeeping</code> — Миротворчество\n" in ru["/topics"]
    assert "<code>peacekeeping</code> — Peacekeeping / Миротворчество" in en["/topics"]
    # A topic the config labels in English only is named by that label in Russian too (README).
    assert "<code>border-security</code> — Border security" in ru["/topics"]
    assert ru["/subscribe peacekeeping"].startswith("Подписка оформлена: тема «Миротворчество».")
    assert en["/subscribe peacekeeping"] == (
        "Subscribed to the topic Peacekeeping. New articles will arrive here."
    )
    assert ru["/unsubscribe all"] == "Отменено: 1 подписка."
    assert en["/unsubscribe all"] == "Removed 1 alert."
    assert ru["/unsubscribe peacekeeping"] == "Подписка отменена: тема «Миротворчество»."
    assert en["/unsubscribe peacekeeping"] == "Unsubscribed from the topic Peacekeeping."
    admin = {lang: replies[lang][len(ASKED) + 1 : -1] for lang in replies}
    status, _, paused, status_paused, _, retried = admin["ru"]
    assert "alpha: новый, 3 статьи; успешных опросов ещё не было" in status
    assert "main: отправлено 0, в очереди 0, неясных 0, неудачных 0" in status
    assert "alpha: new, 3 articles; last success none yet" in admin["en"][0]
    assert paused == "Источник alpha на паузе: опросов не будет до /resume alpha."
    assert "⏸ alpha: на паузе, 3 статьи; успешных опросов ещё не было" in status_paused
    assert retried == "Повторять нечего: неудавшихся и неясных публикаций нет."


def test_a_story_s_other_sources_and_its_time_are_written_for_the_reader(
    telegram, store, tmp_path
) -> None:
    original = add(store, 5, "CSTO statement adopted", body="Leaders adopted it.")
    add(store, 6, "CSTO statement adopted", body="Leaders adopted it.", source="beta")
    store.db.execute("update articles set duplicate_of = ? where id != ?", [original, original])
    store.db.conn.commit()

    async def script(s):
        return await s.ask("/latest 1", language="ru-RU"), await s.ask("/latest 1")

    (ru, en), _ = talk(telegram, store, tmp_path, script)
    assert "Alpha Ministry · 01.05.2024 14:00 UTC · также beta" in ru and russian(ru)
    assert "Alpha Ministry · 01.05.2024 14:00 UTC · also beta" in en


def test_moscow_time_is_written_as_a_russian_reader_reads_it() -> None:
    hit = SearchHit(
        id=1,
        source_key="tass",
        url="https://tass.example/1",
        title="Title",
        published_at="2022-05-16T12:40:00+00:00",
        lang="ru",
        topics=(),
        snippet="",
        rank=0.0,
    )
    names, zones = {"tass": "TASS"}, {"tass": "Europe/Moscow"}
    assert "TASS · 16.05.2022 15:40 МСК" in hit_text(hit, names, zones, also=["BelTA"], lang=RU)
    assert "TASS · 16.05.2022 15:40 MSK · also BelTA" in hit_text(hit, names, zones, also=["BelTA"])


def test_the_command_menu_is_published_in_russian_too(telegram, store, tmp_path) -> None:
    talk(telegram, store, tmp_path, lambda s: s.ask("/help"))
    menu, russian_menu = telegram.commands, telegram.commands_in["ru"]
    assert [c["command"] for c in russian_menu] == [c["command"] for c in menu]
    assert "search the archive: /search words" in [c["description"] for c in menu]
    assert all(russian(c["description"]) for c in russian_menu), russian_menu
    assert list(telegram.commands_in) == ["ru"]


def test_a_russian_flood_and_a_failure_are_answered_in_russian(telegram, store, tmp_path) -> None:
    def broken():
        raise RuntimeError("disk on fire")

    async def script(s):
        flood = await s.exchange(["/help", "/help"], replies=2, language="ru")
        s.chat.store.sources.article_counts = broken
        return flood[-1], await s.ask("/sources", user=OTHER, language="ru")

    (slow, sorry), _ = talk(telegram, store, tmp_path, script, limiter=RateLimiter(1, 60))
    assert "предел — 1 сообщение за 60 секунд" in slow and russian(slow)
    assert "у меня что-то пошло не так" in sorry and russian(sorry)


def test_the_alert_limit_is_said_in_russian(telegram, store, tmp_path) -> None:
    async def script(s):
        for n in range(20):
            await s.ask(f'/subscribe "phrase {n}"', language="ru")
        return await s.ask('/subscribe "one more"', language="ru")

    full, _ = talk(telegram, store, tmp_path, script, limiter=RateLimiter(limit=ROOMY))
    assert full.startswith("У вас уже 20 подписок, больше я не храню.") and russian(full)


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "статей"),
        (1, "статья"),
        (2, "статьи"),
        (4, "статьи"),
        (5, "статей"),
        (11, "статей"),
        (12, "статей"),
        (14, "статей"),
        (21, "статья"),
        (22, "статьи"),
        (25, "статей"),
        (101, "статья"),
        (111, "статей"),
        (112, "статей"),
        (1021, "статья"),
    ],
)
def test_russian_plurals(n: int, form: str) -> None:
    assert ru_form(n, "статья", "статьи", "статей") == form
    assert count_of(RU, n, "article") == f"{n:,}".replace(",", "\u00a0") + " " + form


def test_counts_in_each_language() -> None:
    assert count_of(RU, 2345, "alert") == "2\u00a0345 подписок"
    assert count_of(EN, 2345, "article") == "2,345 articles" == counted(2345, "article")
    assert count_of(EN, 1, "alert") == "1 alert"


def test_a_trimmed_list_says_how_many_more_in_the_reader_s_language() -> None:
    items = [f"пункт {i} " + "ж" * 300 for i in range(40)]
    assert fit("<b>Х</b>", items, lang=RU).endswith("…и ещё 28")
    assert fit("<b>X</b>", items).endswith("…and 28 more")


def test_the_reader_s_language_comes_from_the_telegram_app() -> None:
    assert [language(c) for c in ("ru", "ru-RU", "RU", "en", "en-GB", "uk", "")] == [
        RU,
        RU,
        RU,
        EN,
        EN,
        EN,
        EN,
    ]


def test_every_phrase_has_the_same_fields_in_russian_and_reads_russian() -> None:
    fields = string.Formatter()
    for english, russian_text in phrases().items():
        names = {f for _, f, _, _ in fields.parse(english) if f}
        assert names == {f for _, f, _, _ in fields.parse(russian_text) if f}, english
        filled = russian_text.format(**dict.fromkeys(names, "Миротворчество"))
        assert english_words(filled) == [], (russian_text, english_words(filled))
    with pytest.raises(KeyError):
        say(EN, "A phrase nobody translated.")


@pytest.mark.parametrize("lang", [RU, EN])
def test_unsubscribe_names_what_it_stopped_as_subscribe_named_it(telegram, store, tmp_path, lang):
    # "/unsubscribe csto" once answered "Unsubscribed from csto." after "the tag CSTO".
    typed = ["peacekeeping", "csto", "alpha", '"border guards"']

    async def script(s):
        return [
            [await s.ask(f"/subscribe {word}", language=lang) for word in typed],
            [await s.ask(f"/unsubscribe {word}", language=lang) for word in typed],
        ]

    (on, off), _ = talk(telegram, store, tmp_path, script, limiter=RateLimiter(limit=ROOMY))
    subscribed, unsubscribed = (
        (r"Subscribed to (.+)\. New articles", r"Unsubscribed from (.+)\.$")
        if lang == EN
        else (r"Подписка оформлена: (.+)\. Новые", r"Подписка отменена: (.+)\.$")
    )
    named = [re.match(subscribed, reply).group(1) for reply in on]
    assert [re.match(unsubscribed, reply).group(1) for reply in off] == named
    kinds = ("topic", "tag", "source", "phrase") if lang == EN else ("тема", "тег", "источник")
    assert all(name.split()[lang == EN].startswith(kinds) for name in named[:3]), named


def test_a_failing_source_s_note_is_the_command_line_s_in_the_reader_s_language() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    rows = {
        "tass": SourceState(
            "tass",
            consecutive_failures=3,
            last_error="HTTP 500",
            last_success_at=at,
            next_poll_at=at,
        ),
        "mid": SourceState("mid", consecutive_failures=2, last_error="no links"),
    }
    snapshot = Snapshot(sources=rows)
    english = status_lines(snapshot, sources=["tass", "mid"], channels=[], lang=EN)
    russian = status_lines(snapshot, sources=["tass", "mid"], channels=[], lang=RU)
    assert english[0].endswith("; " + note(rows["tass"]))
    assert english[1].endswith("; " + note(rows["mid"]))
    assert note(rows["mid"]) == "never worked (2 polls so far): no links"
    assert russian[0].endswith("сбоев подряд: 3: HTTP 500; следующая попытка 2026-03-01 12:00 UTC")
    assert russian[1].endswith("ни разу не сработал (2 опроса): no links")


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "1 poll missed or skipped", "пропущено: 1 опрос"),
        (2, "2 polls missed or skipped", "пропущено: 2 опроса"),
        (21, "21 polls missed or skipped", "пропущено: 21 опрос"),
    ],
)
def test_missed_polls_and_held_posts_agree_with_their_count(n, english, russian) -> None:
    snapshot = Snapshot(held={"main": n}, outbox={("main", "pending"): n})
    lines = {
        lang: status_lines(
            snapshot, sources=["tass"], channels=["main"], missed={"tass": n}, lang=lang
        )
        for lang in (EN, RU)
    }
    assert lines[EN][0].endswith("; " + english)
    assert lines[RU][0].endswith("; " + russian)
    # "из них 1 ждут" read wrong for 1 and 21; the count after a colon agrees with any.
    assert lines[RU][1].endswith(f"(из них ждут своего часа: {n})")
    assert lines[EN][1].endswith(f"({n} of them held for their time)")
