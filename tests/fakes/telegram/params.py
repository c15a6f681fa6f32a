"""Read Bot API parameters as Telegram does: chat ids, numbers, booleans, nested JSON."""

from __future__ import annotations

import json
import zlib

from .records import ApiError


def resolve_chat(chat_id: int | str) -> int:
    """Map a chat_id as sent (number, numeric string, @username) to a stable numeric id."""
    text = str(chat_id).strip()
    if text.startswith("@") and len(text) > 1:
        return -(1_000_000_000_000 + zlib.crc32(text[1:].lower().encode()))
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, "Bad Request: chat not found") from None


def require_chat(chat: int | None) -> int:
    if chat is None:
        raise ApiError(400, "Bad Request: chat_id is empty")
    return chat


def int_param(p: dict, name: str) -> int | None:
    value = p.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def bool_param(p: dict, name: str) -> bool:
    return p.get(name) is True or str(p.get(name)).lower() in ("true", "1")


def json_param(p: dict, name: str):
    """Read a nested object: a JSON string in form bodies, already parsed in JSON bodies."""
    value = p.get(name)
    if not isinstance(value, str) or not value:
        return value or None
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
