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
    fits. Chinese or Japanese is cut after its last comma or space, else at a character."""
    room -= 1  # the ellipsis counts
    end = _fitting(sentence, room)
    cut = sentence.rfind(" ", 0, end + 1)
    if _WIDE.search(sentence[:end]):
        comma = max(sentence.rfind(c, 0, end) for c in _COMMAS)
        cut = max(cut, comma + 1 if comma > 0 else 0)
        # A space or comma near the start (a dateline, "NHK によると") would leave a stub: cut
        # at the last character that fits instead, unless that splits a Latin word.
        if cut < end // 2 and not _in_latin_word(sentence, end):
            cut = end
    kept = sentence[:cut].rstrip(" ,;:-–—" + _COMMAS + OPENERS) if cut > 0 else ""
    return kept + "…" if kept else ""


def _in_latin_word(text: str, at: int) -> bool:
    """Tell whether a cut at `at` would split a word of a spaced script."""
    before, after = text[at - 1 : at], text[at : at + 1]
    return all(c.isalnum() and not _WIDE.match(c) for c in (before, after) if c) and bool(after)


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
