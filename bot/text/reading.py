"""Measure text by what a reader reads: its length in Latin characters' worth (pure).

A Han, kana or Hangul character says about what three Latin letters do: an English rendering of
a Chinese, Japanese or Korean news text runs about three times as many characters. Any other
character counts one, so English, Russian or Vietnamese text measures as its length. A summary
bounded by 600 is then two or three sentences in Chinese or Japanese, as in English, not 600
characters of three whole paragraphs.
"""

from __future__ import annotations

import re

from bot.text.sentences import OPENERS

_WIDE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
_WIDE_WORTH = 3
_COMMAS = "，、；"  # where unspaced Chinese or Japanese may be cut between words


def width(text: str) -> int:
    """Return the text's length in Latin characters' worth."""
    return len(text) + (_WIDE_WORTH - 1) * len(_WIDE.findall(text))


def cut_words(sentence: str, room: int) -> str:
    """Cut sentence at the last word boundary so that it and "…" fit in `room`; "" if nothing
    fits. Unspaced Chinese or Japanese is cut after its last comma, else at a character."""
    room -= 1  # the ellipsis counts
    end = _fitting(sentence, room)
    cut = sentence.rfind(" ", 0, end + 1)
    if cut <= 0 and _WIDE.search(sentence[:end]):
        comma = max(sentence.rfind(c, 0, end) for c in _COMMAS)
        cut = comma + 1 if comma > 0 else end
    kept = sentence[:cut].rstrip(" ,;:-–—" + _COMMAS + OPENERS) if cut > 0 else ""
    return kept + "…" if kept else ""


def _fitting(text: str, room: int) -> int:
    """Return how many of text's first characters fit in `room` Latin characters' worth."""
    if len(text) <= room and not _WIDE.search(text):
        return len(text)
    used = 0
    for n, ch in enumerate(text):
        used += _WIDE_WORTH if _WIDE.match(ch) else 1
        if used > room:
            return n
    return len(text)
