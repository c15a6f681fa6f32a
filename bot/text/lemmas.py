"""Turn a title and body into weighted lemma features for the topic model.

Words are lemmatised as simplemma does it, Cyrillic words as Russian and Latin ones as English,
so "миротворцев" and "миротворческие" meet their dictionary forms and a Russian text quoting
"COVID-19" or "PROXY" still counts them. Title and lead words weigh more than the rest.

simplemma is the source of truth, but only training calls it: loading its Russian dictionary
takes seconds and a quarter of a gigabyte. At run time the model brings a form table (each
word form whose simplemma lemma is one of the model's features, drawn from simplemma's
dictionaries when the model is trained), and a word not in the table is skipped: its lemma
would carry no weight anyway.

English phrases: where Russian packs a subject into one word ("телефонный", "минобороны",
"погранвойска"), English uses two ("telephone conversation", "defence minister", "border
guard"), so a model may also weigh pairs of adjacent English lemmas ("p:foreign minister").
The form table then also holds the function words (under the empty lemma), so that a pair is
formed across them at run time exactly as in training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache

TITLE_WEIGHT = 2.0  # a headline word says more about the subject than a body word
LEAD_WEIGHT = 1.5  # and so does a word of the lead, which wire copy writes as a summary
LEAD_CHARS = 300
WORD = re.compile(r"[^\W\d_]{2,}")
_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")
# Function words carry no topic; left in, a linear model gives them weights that say little
# and would crowd the explanations ("and +1.2").
STOP = frozenset(
    "the and of in on to an for with by at from as is was be are were been that this these it"
    " its he she they his her their has have had will would said also not or but which who"
    " и в во не на с со по к ко о об от из за для что как это этот его ее их он она они был"
    " быть а но же то также при до над под у же ли бы который свой весь".split()
)
Forms = Mapping[str, str]  # word form (as words() gives it) -> lemma


def words(text: str) -> list[str]:
    """Return a text's words as they are looked up: lower case, ё as е."""
    return WORD.findall(text.lower().replace("ё", "е"))


def script_language(text: str) -> str:
    """Return "ru" when a text has more Cyrillic than Latin letters, else "en" (as the set's lang)."""
    low = text.lower()
    return "ru" if len(_CYRILLIC.findall(low)) > len(_LATIN.findall(low)) else "en"


def simplemma_lemma(word: str) -> str:
    """Return simplemma's dictionary form of one lower-case word (uncached)."""
    import simplemma  # training only (the [train] extra): its first look-up loads dictionaries

    lang = "ru" if _CYRILLIC.search(word) else "en"
    return simplemma.lemmatize(word, lang=lang).lower()


lemma = lru_cache(maxsize=65536)(simplemma_lemma)


def lemmas(text: str, *, forms: Forms | None = None) -> list[str]:
    """Return a text's lemmas in order, function words left out (only words forms has, if given)."""
    return [found for found in _sequence(text, forms) if found is not None]


def _sequence(text: str, forms: Forms | None) -> list[str | None]:
    """Return a text's lemmas in order, function words left out, None where the table lacks a word."""
    # A word the form table lacks has a lemma no feature names, so no phrase may span it.
    if forms is None:
        return [found for word in words(text) if (found := lemma(word)) not in STOP]
    return [found for word in words(text) if (found := forms.get(word)) != ""]


def lemma_features(
    title: str, body: str, *, forms: Forms | None = None, phrases: bool = False
) -> dict[str, float]:
    """Return weighted, damped counts of lemmas ("w:lemma") and English pairs ("p:one two")."""
    counts: dict[str, float] = {}
    lead, rest = _split_lead(body)
    for text, weight in ((title, TITLE_WEIGHT), (lead, LEAD_WEIGHT), (rest, 1.0)):
        found = _sequence(text, forms)
        keys = ["w:" + one for one in found if one is not None]
        if phrases:
            keys += [f"p:{a} {b}" for a, b in zip(found, found[1:]) if _english(a) and _english(b)]
        for key in keys:
            counts[key] = counts.get(key, 0.0) + weight
    # Damped: a word repeated in a long text is not many times the evidence of one mention,
    # which keeps a 300-character lead and a full article on one scale.
    return {key: math.log1p(value) for key, value in counts.items()}


def _english(found: str | None) -> bool:
    """Tell whether a lemma is an English word (Latin letters), not a gap."""
    return found is not None and _LATIN.match(found) is not None


def _split_lead(body: str) -> tuple[str, str]:
    """Split the body after LEAD_CHARS characters, at a word boundary."""
    if len(body) <= LEAD_CHARS:
        return body, ""
    cut = body.find(" ", LEAD_CHARS)
    return (body, "") if cut < 0 else (body[:cut], body[cut:])
