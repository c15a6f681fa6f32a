"""The sender used without a bot token: posts printed on standard output, marked delivered."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.delivery.telegram import Delivered, Message, Outcome


class ConsoleSender:
    """Print posts to standard output when no Telegram token is configured."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._next_id = 0

    async def send(self, message: Message) -> Outcome:
        """Print the message as plain text with its target chat."""
        stream = self._stream or sys.stdout
        self._next_id += 1
        action = (
            "edit"
            if message.edit_message_id is not None
            else "reply"
            if message.reply_to is not None
            else "post"
        )
        text = message.console or message.plain or message.text
        if message.photo:
            text = f"[photo: {message.photo}]\n{text}"
        stream.write(
            f"--- {action} to {message.chat_id} (console: no Telegram token) ---\n{text}\n\n"
        )
        stream.flush()
        return Delivered(None)
