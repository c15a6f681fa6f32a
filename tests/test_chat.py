"""Chat commands through a real python-telegram-bot Application talking to the loopback fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.answers import MAX_UNITS, fit
from bot.chat.status import pause_text
from bot.delivery.render import utf16_len as units
from scrapers.models import Article
from storage import Delivery, RunRecord, RunStatus
from tests.fakes.telegram import RateLimit
from tests.support.chat import ADMIN, GROUP, OTHER, READER, T0, add, seed, talk

# The fake keeps Telegram's flood limits (the shared `telegram` fixture has none by default).
pytestmark = pytest.mark.telegram(rate_limit=RateLimit())


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    return seed(store)


def test_start_publishes_commands_drops_stale_updates_and_answers_help(
    telegram, store, tmp_path
) -> None:
    telegram.push_message(chat_id=READER, user_id=READER, text="/help sent while the bot was down")

    async def script(s):
        return await s.ask("/start"), await s.ask("/help", user=ADMIN)

    (start, admin_help), _ = talk(telegram, store, tmp_path, script)
    assert {c["command"] for c in telegram.commands} >= {"latest", "search", "subscribe", "mysubs"}
    assert "pause" not in {c["command"] for c in telegram.commands}
    assert "/search" in start and "/pause" not in start
    assert "/pause" in admin_help and "/retry" in admin_help
    assert len(telegram.messages_for(READER)) == 1  # the stale /help was dropped, not answered


def test_search_answers_escaped_linked_hits(telegram, store, tmp_path) -> None:
    async def script(s):
        return (
            await s.ask("/search border"),
            await s.ask("/search"),
            await s.ask("/search nothingmatcheshere"),
            await s.ask('/search "*:()'),
        )

    (found, empty, nothing, punctuation), counters = talk(telegram, store, tmp_path, script)
    assert "Talks on &lt;b&gt;border&lt;/b&gt; &amp; security" in found
    assert "<b>border</b>" in found.casefold() and "[border]" not in found.casefold()  # bold match
    assert '<a href="https://beta.example/news/2">' in found
    assert "Peacekeepers" not in found
    assert "Tell me what to look for" in empty and "Tell me what to look for" in punctuation
    assert "Nothing found for “nothingmatcheshere”" in nothing
    assert counters.value("chat_commands", command="search") == 4


def test_hostile_input_gets_short_escaped_answers(telegram, store, tmp_path) -> None:
    async def script(s):
        return (
            await s.ask("/search " + "x" * 10_000),
            await s.ask("/search \u202e<script>alert(1)</script>\x00😀 zzzq\u0301"),
            await s.ask("/latest <b>"),
            await s.ask("/subscribe <i>oops"),
        )

    (long, odd, latest, subscribe), _ = talk(telegram, store, tmp_path, script)
    assert "too long" in long and units(long) < 200
    assert "&lt;script&gt;" in odd and "\u202e" not in odd and "<script>" not in odd
    assert "No topic or tag is called “&lt;b&gt;”" in latest
    assert "&lt;i&gt;oops" in subscribe


def test_latest_counts_topics_and_caps(telegram, store, tmp_path) -> None:
    for n in range(4, 20):
        add(store, n, f"Routine note {n} " + "word " * 60, body="long text " * 200)

    async def script(s):
        return (
            await s.ask("/latest 2"),
            await s.ask("/latest peacekeeping"),
            await s.ask("/latest 500"),
            await s.ask("/latest Border_Security 3"),
        )

    (two, topic, capped, border), _ = talk(telegram, store, tmp_path, script)
    assert two.count("<a href=") == 2 and "Routine note 19" in two
    assert (
        topic.count("<a href=") == 1
        and "Peacekeepers finish" in topic
        and "Latest on Peacekeeping" in topic
    )
    assert capped.count("<a href=") == 10 and units(capped) <= MAX_UNITS
    # Asked for 500, shown 10: the answer says so; one within the cap does not.
    assert "(the newest 10: 10 at most at a time)" in capped and "at most" not in two
    assert "Talks on" in border


def test_latest_shows_a_reprinted_story_once_naming_its_other_sources(
    telegram, store, tmp_path
) -> None:
    original = add(store, 5, "CSTO statement adopted", body="Leaders adopted it.")
    for n, source in ((6, "beta"), (7, "gamma")):
        url = f"https://{source}.example/news/{n}"
        reprint = Article(url, url, "CSTO statement adopted", published=T0 + timedelta(hours=n))
        store.add_article(reprint, source_key=source, now=T0, duplicate_of=original)

    async def script(s):
        return await s.ask("/latest 2")

    answer, _ = talk(telegram, store, tmp_path, script)
    assert answer.count("CSTO statement adopted") == 1
    assert '<a href="https://alpha.example/news/5">' in answer  # the original leads its story
    assert "Alpha Ministry · 01.05.2024 14:00 UTC · also beta, gamma" in answer
    assert answer.count("<a href=") == 2 and "Summit statement adopted" in answer


def test_topics_and_sources_list_the_config(telegram, store, tmp_path) -> None:
    async def script(s):
        return await s.ask("/topics"), await s.ask("/sources")

    (topics, sources), _ = talk(telegram, store, tmp_path, script)
    assert "<code>peacekeeping</code> — Peacekeeping" in topics
    assert "<b>Alpha Ministry</b> <code>alpha</code> — 2 articles" in sources
    assert "<code>beta</code> — 1 article\n" in sources + "\n"  # one article, not "1 articles"


def test_latest_and_search_link_without_a_feeds_tracking_parameters(
    telegram, store, tmp_path
) -> None:
    url = "https://alpha.example/news/9?id=7&utm_source=rss&utm_medium=feed"
    day = datetime(2024, 5, 2, tzinfo=UTC)
    article = Article(url, url, "Tracked summit", published=day, body="Tracked summit.")
    store.add_article(article, source_key="alpha", now=day)

    async def script(s):
        return await s.ask("/latest 1"), await s.ask("/search tracked")

    (latest, found), _ = talk(telegram, store, tmp_path, script)
    for answer in (latest, found):
        assert '<a href="https://alpha.example/news/9?id=7">Tracked summit</a>' in answer
        assert "utm_" not in answer
    # Published at the source's midnight: a date alone, as the channel's post shows it.
    assert "<i>Alpha Ministry · 02.05.2024</i>" in latest


def test_subscriptions_in_a_private_chat(telegram, store, tmp_path) -> None:
    async def script(s):
        return [
            await s.ask(text)
            for text in (
                "/subscribe peacekeeping",
                "/subscribe Peacekeeping",
                "/subscribe alpha",
                '/subscribe "border guards"',
                "/subscribe frobnicate",
                "/mysubs",
                "/unsubscribe peacekeeping",
                "/unsubscribe border guards",
                "/unsubscribe peacekeeping",
                "/unsubscribe all",
            )
        ] + [await s.ask("/subscribe alpha", user=OTHER, chat=GROUP, chat_type="group")]

    answers, _ = talk(telegram, store, tmp_path, script)
    (topic, again, source, phrase, unknown, mine, off, off_phrase, not_on, all_off, group) = answers
    assert "Subscribed to the topic Peacekeeping" in topic
    assert "You already follow the topic Peacekeeping" in again
    assert "Subscribed to the source Alpha Ministry" in source
    assert "Subscribed to the phrase “border guards”" in phrase
    assert (
        "no topic, tag or source called “frobnicate”" in unknown
        and '/subscribe "frobnicate"' in unknown
    )
    # Each alert by the name a reader knows, with the command that stops it.
    assert mine.splitlines()[1:4] == [
        "• topic «Peacekeeping» — <code>/unsubscribe peacekeeping</code>",
        "• source «Alpha Ministry» — <code>/unsubscribe alpha</code>",
        '• phrase «border guards» — <code>/unsubscribe "border guards"</code>',
    ]
    assert mine.endswith("To stop them all: /unsubscribe all")
    assert off == "Unsubscribed from the topic Peacekeeping."
    assert off_phrase == "Unsubscribed from the phrase “border guards”."
    assert not_on == "You did not follow the topic Peacekeeping."
    assert "Removed 1 alert." in all_off
    assert "private chat" in group
    assert store.subscriptions.of_user(READER) == [] and store.subscriptions.of_user(OTHER) == []


def test_mysubs_names_a_topic_in_the_reader_s_language_and_its_command_works(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        await s.ask("/subscribe peacekeeping", language="ru")
        mine = await s.ask("/mysubs", language="ru")
        command = mine.split("<code>")[1].split("</code>")[0]
        return mine, await s.ask(command, language="ru")

    (mine, off), _ = talk(telegram, store, tmp_path, script)
    assert "• тема «Миротворчество» — <code>/unsubscribe peacekeeping</code>" in mine
    assert off == "Подписка отменена: тема «Миротворчество»."
    assert store.subscriptions.of_user(READER) == []


def test_a_quoted_unsubscribe_stops_the_phrase_not_the_topic_of_the_same_name(
    telegram, store, tmp_path
) -> None:
    # /mysubs offers `/unsubscribe peacekeeping` for the topic and `/unsubscribe "peacekeeping"`
    # for the phrase: each must stop its own alert, whichever was made first.
    async def script(s):
        await s.ask("/subscribe peacekeeping")
        await s.ask('/subscribe "peacekeeping"')
        return [await s.ask('/unsubscribe "peacekeeping"')]

    (off,), _ = talk(telegram, store, tmp_path, script)
    assert off == "Unsubscribed from the phrase “peacekeeping”."
    assert [s.kind for s in store.subscriptions.of_user(READER)] == ["topic"]


def test_subscribe_alone_gives_examples_from_this_bot_s_own_topics_and_sources(
    telegram, store, tmp_path
) -> None:
    hint, _ = talk(telegram, store, tmp_path, lambda s: s.ask("/subscribe"))
    assert (
        "<code>/subscribe peacekeeping</code>, <code>/subscribe csto</code>, "
        "<code>/subscribe alpha</code>"
    ) in hint
    assert "tass-com" not in hint  # a source this bot does not follow would not work


def test_mysubs_with_no_alerts_offers_the_same_examples_as_subscribe(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        return await s.ask("/mysubs"), await s.ask("/mysubs", language="ru")

    (english, russian), _ = talk(telegram, store, tmp_path, script)
    assert english.startswith("You have no alerts. Follow a topic, a tag, a source or a phrase:")
    assert "<code>/subscribe alpha</code>" in english  # this bot's own source, to copy
    assert russian.startswith("У вас нет подписок. Подпишитесь на тему, тег, источник или фразу:")
    assert "<code>/subscribe alpha</code>" in russian


def test_subscription_rows_name_the_private_chat(telegram, store, tmp_path) -> None:
    talk(telegram, store, tmp_path, lambda s: s.ask('/subscribe "CSTO summit"'))
    [sub] = store.subscriptions.of_user(READER)
    assert (sub.chat_id, sub.kind, sub.value) == (str(READER), "phrase", "CSTO summit")


def test_unknown_commands_and_plain_text(telegram, store, tmp_path) -> None:
    async def script(s):
        unknown = await s.ask("/frobnicate now")
        text = await s.ask("hello there")
        # In a group, a command for another bot is not ours; the barrier proves it was read.
        group = await s.exchange(
            ["/frobnicate@other_bot", "/frobnicate@presswatch_test_bot"],
            user=OTHER,
            chat=GROUP,
            chat_type="group",
            replies=1,
        )
        return unknown, text, group

    (unknown, text, group), _ = talk(telegram, store, tmp_path, script)
    assert "I don't know /frobnicate" in unknown and "/help" in unknown
    assert "/help" in text
    assert group == ["I don't know /frobnicate. /help lists what I can do."]


def test_operator_commands_are_for_admins_only(telegram, store, tmp_path) -> None:
    failed = add(store, 30, "Failed post", deliveries=[Delivery("main", "@presswatch_test")])
    store.db.execute("update outbox set state = 'failed' where article_id = ?", [failed])
    store.db.conn.commit()

    async def script(s):
        return [
            await s.ask("/pause alpha"),
            *[
                await s.ask(text, user=ADMIN)
                for text in (
                    "/pause alpha",
                    "/pause nosuch",
                    "/status",
                    "/retry",
                    "/retry",
                    "/resume ALPHA",
                )
            ],
        ]

    answers, _ = talk(telegram, store, tmp_path, script)
    refused, paused, unknown, status, retried, nothing, resumed = answers
    assert "for the operator" in refused
    assert "Paused alpha" in paused and "Name a source" in unknown and "alpha, beta" in unknown
    assert unknown.startswith("No source is called “nosuch”.")
    assert "alpha: paused" in status and "main: 0 sent, 0 pending, 0 uncertain, 1 failed" in status
    assert "Queued 1 post again." in retried and "Nothing to retry" in nothing
    assert "Resumed alpha" in resumed
    assert next(store.db.query("select paused from sources where key = 'alpha'"))["paused"] == 0
    assert (
        next(store.db.query("select state from outbox where article_id = ?", [failed]))["state"]
        == "pending"
    )


def test_status_tells_the_operator_of_polls_that_left_an_item_out(
    telegram, store, tmp_path
) -> None:
    now = datetime.now(UTC)
    gave_up = "HTTP 404 Not Found, still after 6h: archived from its listing, not posted"
    store.sources.record_run(RunRecord("alpha", now, now, RunStatus.PARTIAL, error=gave_up))
    store.sources.record_run(RunRecord("beta", now, now, RunStatus.OK))

    async def script(s):
        return await s.ask("/status", user=ADMIN)

    status, _ = talk(telegram, store, tmp_path, script)
    lines = {line.split(":")[0].split()[-1]: line for line in status.splitlines() if ":" in line}
    assert lines["alpha"].endswith("; 1 poll in 24h left an item out")
    assert "left an item out" not in lines["beta"]
    assert ", 1 article; " in lines["beta"] and ", 2 articles; " in lines["alpha"]


def test_status_says_in_words_that_a_source_never_succeeded(telegram, store, tmp_path) -> None:
    async def script(s):
        return await s.ask("/status", user=ADMIN)

    status, _ = talk(telegram, store, tmp_path, script)
    assert "alpha: new, 2 articles; last success none yet" in status
    assert "last success -" not in status


def test_fit_trims_lists_to_the_limit() -> None:
    items = [f"item {i} " + "ж😀" * 300 for i in range(40)]
    text = fit("<b>Head</b>", items)
    assert units(text) <= MAX_UNITS and text.endswith("more")
    assert fit("head", ["a", "b"]) == "head\n\na\n\nb"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "No source is called “tass-cmo” (did you mean tass-com?). Name a source: /pause"),
        ("ru", "Источника «tass-cmo» нет (может быть, tass-com?). Назовите источник: /pause"),
    ],
)
def test_a_mistyped_pause_key_is_told_with_the_closest_one(lang, expected) -> None:
    # The reply used to be the usage line alone, as if no key had been given.
    answer = pause_text(
        None, paused=True, keys=["tass-com", "tass-ru"], lang=lang, asked="tass-cmo"
    )
    assert answer.startswith(expected)


@pytest.mark.parametrize(
    ("lang", "asked", "expected"),
    [
        ("en", "tass", "(did you mean tass-com or tass-ru?)"),
        ("ru", "tass", "(может быть, tass-com или tass-ru?)"),
        ("en", "csto", "(did you mean odkb-csto-en or odkb-csto-ru?)"),
        ("ru", "CSTO", "(может быть, odkb-csto-en или odkb-csto-ru?)"),
    ],
)
def test_a_pause_key_that_names_several_sources_offers_them_all(lang, asked, expected) -> None:
    # /pause had a rule of its own (the one closest key, none for "csto"); the CLI's is the rule.
    keys = ["tass-com", "tass-ru", "odkb-csto-en", "odkb-csto-ru"]
    answer = pause_text(None, paused=True, keys=keys, lang=lang, asked=asked)
    assert expected in answer
