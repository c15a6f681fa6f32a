"""Turn a title and body into weighted lemma features for the topic model.

Words are lemmatised as simplemma does it, Cyrillic words as Russian and Latin ones as English,
so "миротворцев" and "миротворческие" meet their dictionary forms and a Russian text quoting
"COVID-19" or "PROXY" still counts them. Title and lead words weigh more than the rest.

simplemma is the source of truth, but only training calls it: loading its Russian dictionary
takes seconds and a quarter of a gigabyte. At run time the model brings a form table (each
word form whose simplemma lemma is one of the model's features, drawn from simplemma's
dictionaries when the model is trained), and a word not in the table is skipped: its lemma
would carry no weight anyway.
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


def simplemma_lemma(word: str) -> str:
    """Return simplemma's dictionary form of one lower-case word (uncached)."""
    import simplemma  # training only (the [train] extra): its first look-up loads dictionaries

    lang = "ru" if _CYRILLIC.search(word) else "en"
    return simplemma.lemmatize(word, lang=lang).lower()


lemma = lru_cache(maxsize=65536)(simplemma_lemma)


def lemmas(text: str, *, forms: Forms | None = None) -> list[str]:
    """Return a text's lemmas in order, function words left out (only words forms has, if given)."""
    if forms is None:
        return [found for word in words(text) if (found := lemma(word)) not in STOP]
    return [found for word in words(text) if (found := forms.get(word)) is not None]


def lemma_features(title: str, body: str, *, forms: Forms | None = None) -> dict[str, float]:
    """Return each lemma's weighted count, damped, keyed "w:lemma"."""
    counts: dict[str, float] = {}
    lead, rest = _split_lead(body)
    for text, weight in ((title, TITLE_WEIGHT), (lead, LEAD_WEIGHT), (rest, 1.0)):
        for found in lemmas(text, forms=forms):
            key = "w:" + found
            counts[key] = counts.get(key, 0.0) + weight
    # Damped: a word repeated in a long text is not many times the evidence of one mention,
    # which keeps a 300-character lead and a full article on one scale.
    return {key: math.log1p(value) for key, value in counts.items()}


def _split_lead(body: str) -> tuple[str, str]:
    """Split the body after LEAD_CHARS characters, at a word boundary."""
    if len(body) <= LEAD_CHARS:
        return body, ""
    cut = body.find(" ", LEAD_CHARS)
    return (body, "") if cut < 0 else (body[:cut], body[cut:])
