"""The operator's chat commands as an operator meets them, through the loopback fake Bot API:
their /help lines, their menu, and what /pause, /resume and /retry say to words they cannot use."""

from __future__ import annotations

import pytest

from storage import Delivery, OutboxState
from tests.support.chat import ADMIN, T0, add, seed, talk


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
