"""Say which channels name a chat Telegram said became a supergroup (the start's log, `check`).

Pure, and light: `check` reads it without loading the Telegram library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.config import Channel


def moved_hints(channels: Sequence[Channel], moves: Mapping[str, str]) -> list[str]:
    """Return a line for each channel whose configured chat Telegram said became a supergroup."""
    return [
        f"channel {c.name}: chat {c.chat_id} became the supergroup {moves[c.chat_id]}; its posts "
        "go there after the old id refuses the first of each start or reload; "
        f'set chat_id = "{moves[c.chat_id]}" for this channel in the config'
        for c in channels
        if c.chat_id in moves
    ]
