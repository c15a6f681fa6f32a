"""The operator's chat commands as an operator meets them, through the loopback fake Bot API:
their /help lines, their menu, and what /pause, /resume and /retry say to words they cannot use."""

from __future__ import annotations

import pytest

from tests.support.chat import ADMIN, seed, talk


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
