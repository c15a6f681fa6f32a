"""Spell out a search word's inflected forms from its Snowball stem (Russian and English).

The archive's index (FTS5, unicode61) knows no language, so a search for "учениях" must name
"учения" and "учений" itself. Snowball's stemmers decide which words are one word: `word_forms`
takes the part of the word its stem keeps, adds the endings its part of speech takes, and keeps
the candidates that stem back to the same stem. The endings follow the suffix classes of
Snowball's Russian algorithm (nouns, adjectives, verbs, gerunds, reflexives) and English
inflection (plurals, -ed, -ing, y → ies); derived words with other suffixes ("санкционный",
"sanctionable") are not spelled out. Pure; any string is accepted: a word outside plain Latin
or Cyrillic letters is its only form.
"""

from __future__ import annotations

import functools
import re

_RUSSIAN = re.compile(r"[а-яё]+")
_ENGLISH = re.compile(r"[a-z]+")

# Snowball's Russian suffix classes, endings only (its "а/я" preconditions are met by the stem).
_NOUN = (
    "а ев ов ие ье е иями ями ами еи ии и ией ей ой ий й иям ям ием ем ам ом о у ах иях ях ы ь "
    "ию ью ю ия ья я"
).split()
_ADJECTIVE = (
    "ее ие ые ое ими ыми ей ий ый ой ем им ым ом его ого ему ому их ых ую юю ая яя ою ею".split()
)
_VERB = (
    "ла на ете йте ли й л ем н ло но ет ют ны ть ешь нно ила ыла ена ейте уйте ите или ыли ей уй "
    "ил ыл им ым ен ило ыло ено ят ует уют ит ыт ены ить ыть ишь ую ю у ут ат"
).split()
_GERUND = "в вши вшись ив ивши ившись ыв ывши ывшись".split()
_NOMINAL = tuple(dict.fromkeys(_NOUN + _ADJECTIVE))
# Declension, the derivational "-ость" Snowball strips too, and "-нн-" adjectives it undoubles.
_RU_NOMINAL = tuple(
    dict.fromkeys(
        [
            "",
            *_NOMINAL,
            *("ост" + e for e in ("ь", "и", "ью", "ей", "ям", "ями", "ях")),
            *("н" + e for e in _ADJECTIVE),
        ]
    )
)
# A stem that lost a final ь or и ("судья" → "суд", "армия" → "арм") needs it back in its forms.
_RU_SOFT = {s: tuple(s + e for e in _NOMINAL if len(e) <= 2) for s in "ьи"}
_RU_VERBAL = tuple(
    dict.fromkeys(["", *_VERB, *_GERUND, *(v + r for v in ("", *_VERB) for r in ("ся", "сь"))])
)
_VERB_ONLY = frozenset(_RU_VERBAL) - frozenset(_RU_NOMINAL) - frozenset(_RU_SOFT["и"])
_RU_SHORTEST = 3  # letters in the shortest Russian form spelt out (the word typed always counts)
_EN_ENDINGS = ("", "s", "es", "ed", "d", "ing", "ings", "e", "er", "ers", "y", "ies", "ied", "ying")


def word_stem(word: str) -> str:
    """Return the Snowball stem of a lower-case word (ё read as е), or the word if no stemmer fits."""
    lang = _language(word)
    return _stemmer(lang).stemWord(_fold(word)) if lang else word


def word_base(word: str) -> str:
    """Return the start of a lower-case word that all its forms share, spelled as in the word."""
    stem = word_stem(word)
    folded = _fold(word)
    shared = 0
    while shared < min(len(stem), len(folded)) and stem[shared] == folded[shared]:
        shared += 1
    if _language(word) == "english" and stem[:shared].endswith("i"):
        shared -= 1  # English y becomes i before endings: "countries" and "country" share "countr"
    return word[:shared]


@functools.lru_cache(maxsize=4096)
def word_forms(word: str) -> tuple[str, ...]:
    """Return a lower-case word's inflected forms, the word first, each with the word's stem."""
    lang = _language(word)
    if not lang:
        return (word,)
    stem, base = word_stem(word), word_base(word)
    if lang == "russian":
        rest = _fold(word)[len(base) :]
        endings = _RU_VERBAL if rest in _VERB_ONLY else _RU_NOMINAL + _RU_SOFT.get(rest[:1], ())
        candidates = [base + ending for ending in endings]
    else:
        candidates = [
            root + ending for root in _english_roots(word, base, stem) for ending in _EN_ENDINGS
        ]
    if lang == "russian":
        # Snowball strips a short word to two letters ("Зась", "Зася" → "за", read as a verb's
        # "-сь"); a two-letter Russian word is a preposition or a particle (за, не, мо…) that
        # nearly every text has, so such a form would make the search match everything.
        candidates = [c for c in candidates if len(c) >= _RU_SHORTEST]
    stemmer = _stemmer(lang)
    stems = stemmer.stemWords([_fold(c) for c in candidates])
    return tuple(dict.fromkeys([word, *(c for c, s in zip(candidates, stems) if s == stem)]))


def _english_roots(word: str, base: str, stem: str) -> list[str]:
    """Return what English endings attach to: the shared start, the word, their y and doubled forms."""
    roots = [base, word]
    if stem.endswith("i") and base == stem:  # "countries" → "countri": "country" is countr+y
        roots.append(base[:-1])
    if len(base) > 2 and base[-1] in "bdglmnprt" and base[-2] in "aeiou":
        roots.append(base + base[-1])  # "planning", "planned"
    return list(dict.fromkeys(roots))


def _language(word: str) -> str:
    """Return the Snowball language of a word in plain Russian or English letters, else ""."""
    if _RUSSIAN.fullmatch(word):
        return "russian"
    if _ENGLISH.fullmatch(word):
        return "english"
    return ""


def _fold(word: str) -> str:
    """Return the word with ё as е, as Snowball's Russian stemmer reads it."""
    return word.replace("ё", "е")


def _stemmer(lang: str):
    """Return a new stemmer: the pure-Python ones keep state while stemming, so none is shared."""
    # snowballstemmer loads all its languages' stemmers (~20 ms): on the first word stemmed, not
    # with every command that imports the search module (the command line's parser does).
    import snowballstemmer  # noqa: PLC0415

    return snowballstemmer.stemmer(lang)
