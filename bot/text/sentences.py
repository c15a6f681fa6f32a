"""Split whitespace-collapsed text into sentences, English and Russian abbreviations in mind.

Pure and stdlib-only: "U.S.", "Gen.", "т.е.", "г. Минск" and initials ("В.В. Путин") end no
sentence; "etc." or "млн." end one only before a capital.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Abbreviations keyed by their casefolded text without the final dot. NEVER ones precede a name
# or a number and never end a sentence; SOFT ones may end one, so they split only before a capital.
_NEVER = {
    "en": frozenset(
        "gen lt col maj capt sgt adm mr mrs ms dr prof st sen rep gov amb no nos vs "
        "approx e.g i.e cf jan feb mar apr jun jul aug sep sept oct nov dec "
        "u.s u.n u.k".split()
    ),
    "ru": frozenset(
        "т.е т.к т.н т.ч им ул пр просп пл д ст п ч см напр проф ген акад рис тел".split()
    ),
}
_SOFT = {
    "en": frozenset("etc inc ltd co corp jr sr a.m p.m bln mln bn".split()),
    "ru": frozenset("т.д т.п гг тыс млн млрд трлн руб долл коп обл др".split()),
}
_INITIALS = re.compile(r"(?:[A-ZА-ЯЁ]\.){0,3}[A-ZА-ЯЁ]")  # "S", "В.В", "U.S"
_CANDIDATE = re.compile(r"([.?!…]+[»”\"’')\]]*)\s+")
OPENERS = "«“„\"'(["
CLOSERS = "»”\"’')]"


def split_sentences(text: str, lang: str) -> Iterator[str]:
    """Yield the sentences of whitespace-collapsed text lazily, in order."""
    never = _NEVER.get(lang) or _NEVER["en"] | _NEVER["ru"]
    soft = _SOFT.get(lang) or _SOFT["en"] | _SOFT["ru"]
    start = 0
    for match in _CANDIDATE.finditer(text):
        if _is_boundary(text, match, never, soft, russian=lang != "en"):
            yield text[start : match.end(1)]
            start = match.end()
    if start < len(text):
        yield text[start:]


def _is_boundary(
    text: str, match: re.Match[str], never: frozenset[str], soft: frozenset[str], *, russian: bool
) -> bool:
    """Tell whether the punctuation in match ends a sentence."""
    following = text[match.end() : match.end() + 4].lstrip(OPENERS)[:1]
    if not following.isupper() and not following.isdigit():
        return False  # a lower-case word, a dash or a comma continues the sentence
    if match.group(1).rstrip(CLOSERS) != ".":
        return following.isupper()  # "?", "!", "…", "..."
    word = text[text.rfind(" ", 0, match.start()) + 1 : match.start()].lstrip(OPENERS)
    kind = _abbreviation(word, text, match.start() - len(word), never, soft, russian=russian)
    if kind == "never":
        return False
    return following.isupper() if kind == "soft" else True


def _abbreviation(
    word: str, text: str, at: int, never: frozenset[str], soft: frozenset[str], *, russian: bool
) -> str:
    """Classify the word before a full stop as a "never", "soft" or "" (no) abbreviation."""
    if _INITIALS.fullmatch(word):
        return "never"  # "K. I. Kosachev", "В.В. Путин", "U.S."
    key = word.casefold()
    if russian and key.lstrip("0123456789") == "г":
        # "г." after a year may end a sentence ("в 2021 г. Затем"); else it is "город"
        # ("г. Минск").
        previous = text[max(0, at - 24) : at].rstrip().rpartition(" ")[2]  # bounded: no O(n) copy
        return "soft" if key != "г" or previous.isdigit() else "never"
    return "never" if key in never else "soft" if key in soft else ""
