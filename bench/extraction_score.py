"""Score one extraction of one real page: title, date, authors and body, the fundus README's way.

- title: equal after NFKC, case folding and collapsed whitespace (bench.scoring.same_title, which
  also folds typographic quotes);
- published: the same calendar day as the truth in the truth's own offset (a day string, what
  htmldate gives, is the page's local day), and, where the truth has a time, the same minute;
- authors: the same set of names after the same folding; "first" only asks that the first name
  found is one of the true names;
- body: ROUGE-LSum F1 (the `rouge-score` package) of the body against the true paragraphs, one per
  line, and token F1 (bag of `\\w+` tokens, case folded). rouge-score's own tokenizer keeps only
  [a-z0-9], which would empty Russian or Japanese text: tokens here are case-folded `\\w+` runs,
  with every Han, kana and Thai character a token of its own (those scripts have no spaces);
- must-have: the share of true paragraphs of 8+ tokens whose 4-token shingles are 80% present in
  the body; boilerplate-free: the share of the body's paragraphs of 8+ tokens whose shingles are
  80% present in the truth. Both are means over the pages where they are defined.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from bench.extraction_data import Case
from bench.scoring import fold_title, same_day, same_minute, same_title, shingles

_TOKEN = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\W_]+|_")
_MIN_TOKENS, _PRESENT = 8, 0.8


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one extractor says about a page (None: it failed on the page)."""

    title: str | None = None
    published: datetime | str | None = None
    authors: tuple[str, ...] = ()
    body: str = ""
    error: str = ""  # the exception's type name, when the extractor raised


@dataclass(frozen=True, slots=True)
class PageScore:
    """One extraction's scores on one page (None where the truth has no such field)."""

    title: bool | None
    day: bool | None
    minute: bool | None
    authors: bool | None
    first_author: bool | None
    rouge: float
    token_f1: float
    must_have: float | None
    clean: float | None
    error: str


class _Tokenizer:
    """rouge-score's tokenizer interface over any script."""

    def tokenize(self, text: str) -> list[str]:
        """Return the case-folded tokens of a text."""
        return tokens(text)


@lru_cache(maxsize=1)
def _rouge():
    """Return the ROUGE-LSum scorer (rouge-score, a [bench] extra, imported on first use)."""
    from rouge_score import rouge_scorer  # noqa: PLC0415 - so the bench's tools load without it

    return rouge_scorer.RougeScorer(["rougeLsum"], tokenizer=_Tokenizer())


def tokens(text: str) -> list[str]:
    """Return the case-folded word tokens of a text (single characters in unspaced scripts)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text or "").casefold())


def fold_name(name: str) -> str:
    """Return a name for comparison, as titles are folded."""
    return fold_title(name)


def score(case: Case, got: Extracted) -> PageScore:
    """Return one extraction's scores on one page."""
    truth_day = case.published
    names = {fold_name(a) for a in case.authors or ()}
    found = [fold_name(a) for a in got.authors if a.strip()]
    return PageScore(
        title=None if case.title is None else same_title(got.title, case.title),
        day=None if truth_day is None else same_day(got.published, truth_day),
        minute=None
        if truth_day is None or truth_day.moment is None
        else isinstance(got.published, datetime) and same_minute(got.published, truth_day),
        authors=None if not names else set(found) == names,
        first_author=None if not names else bool(found) and found[0] in names,
        rouge=rouge_lsum(case.body, got.body),
        token_f1=token_f1(case.body, got.body),
        must_have=_covered(_paragraphs(case.body), got.body),
        clean=_covered(_paragraphs(got.body), case.body),
        error=got.error,
    )


@lru_cache(maxsize=4096)
def rouge_lsum(truth: str, body: str) -> float:
    """Return the ROUGE-LSum F1 of a body against the truth, one paragraph per line."""
    if not body.strip() or not truth.strip():
        return float(body.strip() == truth.strip())
    return (
        _rouge()
        .score("\n".join(_paragraphs(truth)), "\n".join(_paragraphs(body)))["rougeLsum"]
        .fmeasure
    )


def token_f1(truth: str, body: str) -> float:
    """Return the F1 of the bags of tokens of a body and the truth."""
    want, got = Counter(tokens(truth)), Counter(tokens(body))
    common = sum((want & got).values())
    if not common:
        return float(not want and not got)
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _paragraphs(text: str) -> list[str]:
    """Return the non-blank lines of a text."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _covered(paragraphs: list[str], other: str) -> float | None:
    """Return the share of long paragraphs whose shingles are mostly in `other` (None: none)."""
    long = [tokens(p) for p in paragraphs]
    long = [t for t in long if len(t) >= _MIN_TOKENS]
    if not long:
        return None
    hay = shingles(tokens(other))
    present = 0
    for words in long:
        own = shingles(words)
        present += sum((own & hay).values()) >= _PRESENT * sum(own.values())
    return present / len(long)
