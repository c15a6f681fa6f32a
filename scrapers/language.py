"""Pure language detection for the scripts our sources write in."""

from __future__ import annotations

import re

# Letters that only some Cyrillic languages use, checked before falling back to Russian.
_CYRILLIC_MARKERS = (("uk", set("їєґ")), ("be", set("ўі")), ("kk", set("әғқңөұүһ")))
_CYRILLIC = re.compile("[\u0400-\u04ff]+")
_LATIN = re.compile("[A-Za-z]+")
_LATIN_LANGS = {"en", "fr", "de", "es", "it", "pt", "tr", "uz", "az", "tk", "pl", "ro"}


def detect_language(text: str, *, declared: str = "") -> str:
    """Return an ISO 639-1 code guessed from the script of `text`, trusting `declared` when it fits."""
    sample = text[:4000]
    cyrillic = _letters(_CYRILLIC, sample)
    latin = _letters(_LATIN, sample)
    declared = primary_code(declared)
    if cyrillic + latin < 20:
        return declared
    if cyrillic > latin:
        if declared and declared not in _LATIN_LANGS:
            return declared
        lowered = sample.lower()
        for code, letters in _CYRILLIC_MARKERS:
            if sum(lowered.count(ch) for ch in letters) > max(3, cyrillic // 200):
                return code
        return "ru"
    return declared if declared in _LATIN_LANGS else "en"


def primary_code(tag: str) -> str:
    """Return a language tag's primary subtag in lower case, as articles keep it ("en-US": "en")."""
    return tag.strip().split("-")[0].split("_")[0].lower()


def _letters(script: re.Pattern[str], text: str) -> int:
    """Count the characters of one script (a regex sub runs in C; a Python loop does not)."""
    return len(text) - len(script.sub("", text))
