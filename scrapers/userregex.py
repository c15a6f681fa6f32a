"""An operator's regexes (link_pattern, url_rewrites, drop_lines, dateline) applied under a timeout.

The config refuses patterns with nested quantifiers and tries each on repetitive probes, but a
pattern of a few `.*` passes that and is still polynomial in what it reads: link_pattern
`^https?://[^/]+/.*/.*/.*/\\d+$` took 171 s in `re` on one link of 3,000 slashes. Here every
match runs in the `regex` module (version 0, `re`'s semantics) under TIMEOUT, and a pattern that
passes it raises PatternTooSlow naming the config key, which the poll records against its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import regex

from .errors import PatternTooSlow

TIMEOUT = 0.05  # seconds one pattern may spend on one text; a sane one needs microseconds
IGNORECASE, MULTILINE = regex.IGNORECASE, regex.MULTILINE


@lru_cache(maxsize=512)
def _compiled(pattern: str, flags: int) -> regex.Pattern[str]:
    """Compile a pattern once, with `re`'s semantics."""
    return regex.compile(pattern, flags | regex.VERSION0)


def _too_slow(key: str, pattern: str, text: str) -> PatternTooSlow:
    """Return the error for a pattern that passed its timeout, naming the key."""
    return PatternTooSlow(
        f"{key} {pattern!r} took over {TIMEOUT:g}s on a text of {len(text):,} characters "
        f"({text[:60]!r}…); simplify it (fewer .* in a row)"
    )


def search(key: str, pattern: str, text: str, flags: int = 0) -> bool:
    """Tell whether the pattern occurs in the text. Raises PatternTooSlow."""
    try:
        return _compiled(pattern, flags).search(text, timeout=TIMEOUT) is not None
    except TimeoutError:
        raise _too_slow(key, pattern, text) from None


def fullmatch(key: str, pattern: str, text: str, flags: int = 0) -> bool:
    """Tell whether the pattern matches the whole text. Raises PatternTooSlow."""
    try:
        return _compiled(pattern, flags).fullmatch(text, timeout=TIMEOUT) is not None
    except TimeoutError:
        raise _too_slow(key, pattern, text) from None


def sub(key: str, pattern: str, replacement: str, text: str) -> str:
    """Replace the pattern's matches in the text. Raises PatternTooSlow."""
    try:
        return _compiled(pattern, 0).sub(replacement, text, timeout=TIMEOUT)
    except TimeoutError:
        raise _too_slow(key, pattern, text) from None


def finditer(key: str, pattern: str, text: str, flags: int = 0) -> Iterator[regex.Match[str]]:
    """Yield the pattern's matches in the text, each under the timeout. Raises PatternTooSlow."""
    try:
        yield from _compiled(pattern, flags).finditer(text, timeout=TIMEOUT)
    except TimeoutError:
        raise _too_slow(key, pattern, text) from None
