"""The operator's chat commands as an operator meets them, through the loopback fake Bot API:
their /help lines, their menu, and what /pause, /resume and /retry say to words they cannot use."""

from __future__ import annotations

import pytest

from storage import Delivery, OutboxState
from tests.support.chat import ADMIN, OTHER, T0, add, seed, talk


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    return seed(store)


def test_help_writes_an_operator_command_with_its_argument_after_it(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        return [await s.ask("/help", user=ADMIN), await s.ask("/help", user=ADMIN, language="ru")]

    (english, russian), _ = talk(telegram, store, tmp_path, script)
    # "/pause — KEY: stop polling a source" read as if KEY were the text's first word.
    assert "/pause — stop polling a source: /pause KEY\n" in english
    assert "/resume — poll a paused source again: /resume KEY\n" in english
    assert "/pause — перестать опрашивать источник: /pause КЛЮЧ\n" in russian
    assert "KEY:" not in english and "КЛЮЧ:" not in russian


def test_pause_and_resume_twice_say_the_second_time_that_nothing_changed(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        asked = ["/pause alpha", "/pause alpha", "/resume alpha", "/resume alpha"]
        return [await s.ask(text, user=ADMIN) for text in asked] + [
            await s.ask("/pause alpha", user=ADMIN, language="ru"),
            await s.ask("/pause alpha", user=ADMIN, language="ru"),
            await s.ask("/resume beta", user=ADMIN, language="ru"),
        ]

    answers, _ = talk(telegram, store, tmp_path, script)
    assert answers == [
        "Paused alpha: no polls until /resume alpha.",
        "alpha is already paused: no polls until /resume alpha.",
        "Resumed alpha: it is polled at its next turn.",
        "alpha is not paused: it is polled as usual.",
        "Источник alpha на паузе: опросов не будет до /resume alpha.",
        "Источник alpha уже на паузе: опросов не будет до /resume alpha.",
        "Источник beta не на паузе: он опрашивается как обычно.",
    ]
    assert store.sources.state("alpha").paused and not store.sources.state("beta").paused


def test_retry_with_words_says_it_takes_none_and_queues_nothing(telegram, store, tmp_path) -> None:
    add(store, 30, "Failed post", deliveries=[Delivery("main", "@presswatch_test")])
    [row] = store.outbox.ids_in(OutboxState.PENDING)
    store.outbox.mark_failed(row, error="refused", now=T0)

    async def script(s):
        return [
            await s.ask("/retry 5", user=ADMIN),
            await s.ask("/retry 5", user=ADMIN, language="ru"),
        ]

    english, russian = talk(telegram, store, tmp_path, script)[0]
    assert english == (
        "/retry takes no argument: it queues every failed and uncertain post again. "
        "For one post: <code>presswatch outbox retry ID</code>."
    )
    assert russian.startswith("/retry пишется без аргументов:")
    assert store.outbox.ids_in(OutboxState.FAILED) == [row]  # not queued on a guess


def test_the_operator_menu_is_published_in_the_operators_chat_only(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        return await s.ask("/help")

    talk(telegram, store, tmp_path, script)
    public = [c["command"] for c in telegram.commands]
    assert "pause" not in public and "pause" not in [
        c["command"] for c in telegram.commands_in["ru"]
    ]
    assert set(telegram.commands_for) == {(ADMIN, ""), (ADMIN, "ru")}  # BotCommandScopeChat
    english, russian = telegram.commands_for[(ADMIN, "")], telegram.commands_for[(ADMIN, "ru")]
    assert [c["command"] for c in english] == [*public, "status", "pause", "resume", "retry"]
    assert {"command": "pause", "description": "stop polling a source: /pause KEY"} in english
    assert {"command": "pause", "description": "перестать опрашивать источник: /pause КЛЮЧ"} in (
        russian
    )


def test_an_operator_telegram_does_not_know_yet_costs_only_their_menu(
    telegram, store, tmp_path, caplog
) -> None:
    # Telegram answers "chat not found" for a user who never wrote to the bot.
    telegram.missing_chat(ADMIN)

    async def script(s):
        return await s.ask("/help")

    answer, _ = talk(telegram, store, tmp_path, script)
    assert (
        answer.startswith("<b>presswatch</b>") and telegram.commands and not telegram.commands_for
    )
    [warning] = [r.getMessage() for r in caplog.records if "operator menu" in r.getMessage()]
    assert warning.startswith(f"chat commands: no operator menu for user {ADMIN} (Chat not found)")


def test_an_operator_who_blocked_the_bot_costs_only_their_menu(
    telegram, store, tmp_path, caplog
) -> None:
    # Telegram answers 403 for a user who blocked the bot: that used to abort the chat's start,
    # which then looped "Telegram unreachable", and the next operator got no menu either.
    telegram.forbid_chat(ADMIN, "Forbidden: bot was blocked by the user")

    async def script(s):
        return await s.ask("/help")

    answer, _ = talk(telegram, store, tmp_path, script, admins=(ADMIN, OTHER))
    assert answer.startswith("<b>presswatch</b>")
    assert set(telegram.commands_for) == {(OTHER, ""), (OTHER, "ru")}
    [warning] = [r.getMessage() for r in caplog.records if "operator menu" in r.getMessage()]
    assert warning.startswith(
        f"chat commands: no operator menu for user {ADMIN} (Forbidden: bot was blocked by the user)"
    )
