"""Chat replies to words a command cannot use, through the loopback fake Bot API: each says what
the command takes, in the reader's language, and changes nothing."""

from __future__ import annotations

import pytest

from bot.chat.answers import latest_request
from tests.support.chat import make_config, seed, talk


@pytest.fixture
def store(store):
    """The shared empty archive (conftest), with three articles."""
    return seed(store)


def test_unsubscribe_from_an_unknown_name_says_there_is_no_such_alert(
    telegram, store, tmp_path
) -> None:
    async def script(s):
        await s.ask("/subscribe peacekeeping")
        return [
            await s.ask("/unsubscribe nonsense"),
            await s.ask('/unsubscribe "x"'),
            await s.ask("/unsubscribe бессмыслица", language="ru"),
            await s.ask("/unsubscribe border-security"),
        ]

    (unknown, short, unknown_ru, not_followed), _ = talk(telegram, store, tmp_path, script)
    # Not /subscribe's offer to follow the word: the reader asked to stop something.
    assert unknown == "You have no alert called “nonsense”. /mysubs lists yours."
    assert short == "You have no alert called “x”. /mysubs lists yours."
    assert unknown_ru == "Подписки «бессмыслица» у вас нет. Ваши подписки: /mysubs."
    # A name the bot knows but the reader does not follow is still told by its kind.
    assert not_followed == "You did not follow the topic Border security."
    assert [s.value for s in store.subscriptions.of_user(2002)] == ["peacekeeping"]


@pytest.mark.parametrize(
    "words", ["0", "-3", "0 peacekeeping", "peacekeeping -1", "-3 Border security", "-00"]
)
def test_latest_with_a_count_below_one_says_what_n_may_be(words, tmp_path) -> None:
    # "/latest 0" once showed 1 article and "/latest -3" called -3 a topic.
    answer = latest_request(words, _topics(tmp_path))
    assert answer == "N is 1 to 10: /latest 3 shows the newest 3."


def test_latest_counts_from_1_up_are_still_taken(tmp_path) -> None:
    topics = _topics(tmp_path)
    assert latest_request("1", topics)[0] == 1
    assert latest_request("100 peacekeeping", topics)[:2] == (100, topics[0])  # capped when shown


def test_latest_zero_is_told_through_the_chat(telegram, store, tmp_path) -> None:
    async def script(s):
        return [await s.ask("/latest 0"), await s.ask("/latest -3", language="ru")]

    (zero, negative_ru), _ = talk(telegram, store, tmp_path, script)
    assert zero == "N is 1 to 10: /latest 3 shows the newest 3."
    assert negative_ru == "N — от 1 до 10: /latest 3 покажет последние 3."


def _topics(tmp_path):
    """Return the chat kit's topics (peacekeeping first)."""
    return make_config(tmp_path, "http://127.0.0.1:9").taxonomy.topics
