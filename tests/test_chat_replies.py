"""Chat replies to words a command cannot use, through the loopback fake Bot API: each says what
the command takes, in the reader's language, and changes nothing."""

from __future__ import annotations

import pytest

from tests.support.chat import seed, talk


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
