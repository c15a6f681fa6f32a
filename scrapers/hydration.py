"""Article HTML that a client-rendered page ships only in its Next.js hydration payload.

A Next.js page may render its story in the browser from the "flight" payload that its scripts
push (`self.__next_f.push([1, "…"])`): the served HTML then holds the headline and the page's
chrome, the story only as a text row of that payload (`24:T1b7b,<p>…`, its length counted in
UTF-8 bytes). A browser shows the story; so must we.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

# One pushed string, a JSON string literal; the alternatives cannot overlap, so the scan is linear.
_PUSH = re.compile(r'self\.__next_f\.push\(\[1,\s*"((?:[^"\\]|\\.)*)"\]\)')
# A text row's head: its id, then T, its length in bytes (hex), a comma.
_TEXT_ROW = re.compile(rb"([0-9a-f]{1,8}):T([0-9a-f]{1,8}),")
_PARAGRAPH = re.compile(rb"<p[\s>]")
_MIN_PARAGRAPHS = 3  # fewer is a caption or a teaser, not a story
_MAX_PAYLOAD = 8_000_000  # bytes of pushed text read at most (the page is capped at 5 MB anyway)


def payload_html(scripts: Iterable[str]) -> str:
    """Return the text row of a flight payload with the most paragraphs ('' when none has 3)."""
    stream = "".join(_pushed(script) for script in scripts if "__next_f" in script)
    data = stream.encode("utf-8", "replace")[:_MAX_PAYLOAD]
    best, most = b"", _MIN_PARAGRAPHS - 1
    for row in _TEXT_ROW.finditer(data):
        text = data[row.end() : row.end() + int(row[2], 16)]
        paragraphs = len(_PARAGRAPH.findall(text))
        if paragraphs > most:
            best, most = text, paragraphs
    return best.decode("utf-8", "replace")


def _pushed(script: str) -> str:
    """Return the strings a script pushes into the flight payload, joined in order."""
    parts = []
    for literal in _PUSH.findall(script):
        try:
            parts.append(json.loads(f'"{literal}"'))
        except ValueError:  # a malformed escape: that piece is unreadable, the rest is not
            continue
    return "".join(parts)
