"""Score extractions: article bodies the way the Zyte benchmark does, titles and dates by label.

For bodies, the benchmark's definition (scrapinghub/article-extraction-benchmark,
evaluate.py): tokens are the `\\w+` runs of a text; shingles are runs of four consecutive
tokens, counted as a multiset (a text of one to three tokens is one short shingle, an empty
text has none); per page tp, fp and fn are shingle counts normalised by their sum; precision
and recall are averaged over the pages where they are defined and F1 is the harmonic mean of
those averages. Accuracy, our addition, is the share of pages whose token lists are identical.

Titles and publication dates are compared with hand labels (bench/labels.json): a title after
whitespace, case and quote folding; a date by calendar day in the page's own offset, and by
instant (to the minute) where the label has a time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

SHINGLE = 4
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class PageCounts:
    """Normalised shingle counts of one page, and whether its tokens match exactly."""

    tp: float
    fp: float
    fn: float
    exact: bool


@dataclass(frozen=True, slots=True)
class Scores:
    """Averaged precision and recall, their F1, and the share of exact pages."""

    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def tokens(text: str) -> list[str]:
    """Return the `\\w+` runs of a text, case kept."""
    return _TOKEN.findall(text or "")


def shingles(words: list[str], n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Return the multiset of n-token runs; a shorter non-empty list is one shingle of itself."""
    if not words:
        return Counter()
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))


def page_counts(true: str, pred: str) -> PageCounts:
    """Return one page's tp, fp and fn, divided by their sum so that every page weighs the same."""
    true_words, pred_words = tokens(true), tokens(pred)
    expected, got = shingles(true_words), shingles(pred_words)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageCounts(float(tp), float(fp), float(fn), true_words == pred_words)


def _precision(c: PageCounts) -> float:
    """Return a page's precision; a page with nothing wrong scores 1."""
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def _recall(c: PageCounts) -> float:
    """Return a page's recall; a page with nothing wrong scores 1."""
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def aggregate(counts: Iterable[PageCounts]) -> Scores:
    """Average precision over pages that predicted something, recall over pages with a truth."""
    pages = list(counts)
    precisions = [_precision(c) for c in pages if c.tp + c.fp > 0]
    recalls = [_recall(c) for c in pages if c.tp + c.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(c.exact for c in pages) / len(pages) if pages else 0.0
    return Scores(precision, recall, f1, accuracy, len(pages))


# -- Title and publication date against hand labels (bench/labels.json) --------------------------

# Quotes typed differently in a headline and its copies: all compare as straight quotes.
_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "″": '"',
        "«": '"',
        "»": '"',
    }
)


def fold_title(text: str | None) -> str:
    """Return a title for comparison: NFKC, casefolded, straight quotes, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").translate(_QUOTES).casefold().split())


def same_title(predicted: str | None, true: str) -> bool:
    """Tell whether a predicted title is the true one, but for whitespace, case and quotes."""
    return fold_title(predicted) == fold_title(true)


def title_contains(predicted: str | None, true: str) -> bool:
    """Tell whether a predicted title shows the whole true one, maybe with more (a site name)."""
    return bool(fold_title(predicted)) and fold_title(true) in fold_title(predicted)


@dataclass(frozen=True, slots=True)
class DateLabel:
    """A labelled publication date: the printed day, the instant where known, the page's offset."""

    day: date
    moment: datetime | None = None
    zone: tzinfo | None = None

    @classmethod
    def parse(cls, published: str, utc_offset: str | None = None) -> DateLabel:
        """Read "2019-11-19", or "2019-11-19T10:30-05:00"; `utc_offset` places a date-only label."""
        if "T" not in published:
            midnight = datetime.fromisoformat(f"{published}T00:00{utc_offset or ''}")
            return cls(midnight.date(), None, midnight.tzinfo)
        moment = datetime.fromisoformat(published)
        return cls(moment.date(), moment, moment.tzinfo)


def same_day(predicted: datetime | str | None, label: DateLabel) -> bool:
    """Tell whether a prediction falls on the labelled day.

    A date string (what htmldate returns) is the page's own local date. An instant is read in
    the label's offset where the page states one, else in UTC.
    """
    if predicted is None:
        return False
    if isinstance(predicted, str):
        return predicted[:10] == label.day.isoformat()
    return predicted.astimezone(label.zone or UTC).date() == label.day


def same_minute(predicted: datetime | None, label: DateLabel) -> bool:
    """Tell whether a predicted instant is the labelled one, to the minute."""
    if predicted is None or label.moment is None:
        return False
    return predicted.replace(second=0, microsecond=0) == label.moment.replace(
        second=0, microsecond=0
    )
