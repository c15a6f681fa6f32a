"""Pure decisions about failures: is an article's error for good, what to store of an article
whose page failed, how long a failing source waits."""

from __future__ import annotations

from scrapers import Article, FetchError, Link, ScrapeError, Source
from scrapers.language import detect_language


def permanent_failure(exc: ScrapeError) -> bool:
    """Return True for article errors that retrying will not fix (a 4xx, robots, not HTML…)."""
    if isinstance(exc, FetchError):
        return not exc.retryable
    return True


def from_link_only(link: Link, source: Source) -> Article:
    """Return an article made of what the listing or feed said, when its page cannot be read."""
    return Article(
        url=link.url,
        canonical_url=link.canonical_url,
        # No title stays none: a post is then headed by its link, not by its address twice.
        title=link.title,
        published=link.published,
        # In the source's language (or the title's script): a `languages` filter, the post's
        # labels and `search --lang` read it, and an empty one matches no language at all.
        lang=detect_language(link.title, declared=source.lang or ""),
    )


def backoff_seconds(every: int, failures: int, most: int) -> int:
    """Return how long a source waits after `failures` consecutive failures: doubling, capped."""
    # Integers never overflow, and past the cap's bit length another doubling cannot matter, so
    # the exponent stops there (10,000 failures would otherwise build a 3,000-digit number).
    exponent = min(max(failures, 0), max(most, 1).bit_length())
    return min(max(every, 1) * 2**exponent, most)
