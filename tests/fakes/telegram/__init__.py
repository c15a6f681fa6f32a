"""A loopback fake of the Telegram Bot API: ``FakeTelegram`` and what it records."""

from .api import FakeTelegram
from .entities import HtmlParseError, ParsedText, parse_html, utf16_len
from .records import DEFAULT_TOKEN, Call, Edit, InFlight, RateLimit, SentMessage

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "Edit",
    "FakeTelegram",
    "HtmlParseError",
    "InFlight",
    "ParsedText",
    "RateLimit",
    "SentMessage",
    "parse_html",
    "utf16_len",
]
