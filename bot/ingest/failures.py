"""Pure decisions about failures: is an article's error for good, how long a failing source waits."""

from __future__ import annotations

from scrapers import FetchError, ScrapeError


def permanent_failure(exc: ScrapeError) -> bool:
    """Return True for article errors that retrying will not fix (a 4xx, robots, not HTML…)."""
    if isinstance(exc, FetchError):
        return not exc.retryable
    return True


def backoff_seconds(every: int, failures: int, most: int) -> int:
    """Return how long a source waits after `failures` consecutive failures: doubling, capped."""
    # Integers never overflow, and past the cap's bit length another doubling cannot matter, so
    # the exponent stops there (10,000 failures would otherwise build a 3,000-digit number).
    exponent = min(max(failures, 0), max(most, 1).bit_length())
    return min(max(every, 1) * 2**exponent, most)
