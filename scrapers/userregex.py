"""An operator's regexes (link_pattern, url_rewrites, drop_lines, dateline) applied under a CPU budget.

The config refuses patterns with nested quantifiers and tries each on repetitive probes, but a
pattern of a few `.*` passes that and is still polynomial in what it reads: link_pattern
`^https?://[^/]+/.*/.*/.*/\\d+$` took 171 s in `re` on one link of 3,000 slashes. Here every
match runs in the `regex` module (version 0, `re`'s semantics), and a pattern that spends
CPU_BUDGET of CPU on one text raises PatternTooSlow naming the config key, which the poll records
against its source.

The `regex` module's timeout counts wall-clock time, which a thread waiting for the GIL or a
process the scheduler paused also spends: alone it failed trivial patterns on 30-character links
on a busy machine. So a match that times out is judged by the CPU its thread spent: past the
budget it was the pattern; under it the thread was kept waiting, and the match is tried again
with a longer wall bound, until WALL_CAP in all, past which it fails anyway (a poll never hangs).
A match that ends within its first bound, as nearly all do, reads no CPU clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import TypeVar

import regex

from .errors import PatternTooSlow

CPU_BUDGET = 0.05  # seconds of CPU one pattern may spend on one text; a sane one needs microseconds
WALL_CAP = 1.0  # seconds one pattern may take on one text in all, however busy the machine
IGNORECASE, MULTILINE = regex.IGNORECASE, regex.MULTILINE

T = TypeVar("T")
# The clocks a match is judged by (tests pass their own to play a descheduled thread).
Clocks = tuple[Callable[[], float], Callable[[], float]]
THREAD_CLOCKS: Clocks = (time.monotonic, time.thread_time)


@lru_cache(maxsize=512)
def _compiled(pattern: str, flags: int) -> regex.Pattern[str]:
    """Compile a pattern once, with `re`'s semantics."""
    return regex.compile(pattern, flags | regex.VERSION0)


def within_budget(
    key: str, pattern: str, text: str, match: Callable[[float], T], clocks: Clocks = THREAD_CLOCKS
) -> T:
    """Return match(wall_timeout), tried again with a doubled bound while a timeout was spent
    waiting rather than computing. Raises PatternTooSlow past CPU_BUDGET of CPU or WALL_CAP."""
    wall, cpu = clocks
    began = wall()
    try:
        # The usual case, a match done in microseconds: the CPU clock (a system call) unread.
        return match(CPU_BUDGET)
    except TimeoutError:
        pass
    bound = CPU_BUDGET  # tried again at the same bound, now measured, then doubled
    while True:
        left = WALL_CAP - (wall() - began)
        if left <= 0:
            raise _too_slow(key, pattern, text, f"{WALL_CAP:g}s (the CPU was too busy to tell)")
        cpu_before = cpu()
        try:
            return match(min(bound, left))
        except TimeoutError:
            if cpu() - cpu_before >= CPU_BUDGET:
                raise _too_slow(key, pattern, text, f"{CPU_BUDGET:g}s") from None
        bound *= 2


def as_written(pattern: str) -> str:
    """Quote a pattern as a TOML literal string, the way a config holds it."""
    # Not repr(): it doubles each backslash, and a pattern pasted back from it is another one.
    return f"'''{pattern}'''" if "'" in pattern else f"'{pattern}'"


def _too_slow(key: str, pattern: str, text: str, spent: str) -> PatternTooSlow:
    """Return the error for a pattern that passed its budget, naming the key."""
    return PatternTooSlow(
        f"{key} {as_written(pattern)} took over {spent} on a text of {len(text):,} characters "
        f"({text[:60]!r}…); simplify it (fewer .* in a row)"
    )


def search(key: str, pattern: str, text: str, flags: int = 0) -> bool:
    """Tell whether the pattern occurs in the text. Raises PatternTooSlow."""
    compiled = _compiled(pattern, flags)
    found = within_budget(key, pattern, text, lambda t: compiled.search(text, timeout=t))
    return found is not None


def fullmatch(key: str, pattern: str, text: str, flags: int = 0) -> bool:
    """Tell whether the pattern matches the whole text. Raises PatternTooSlow."""
    compiled = _compiled(pattern, flags)
    found = within_budget(key, pattern, text, lambda t: compiled.fullmatch(text, timeout=t))
    return found is not None


def sub(key: str, pattern: str, replacement: str, text: str) -> str:
    """Replace the pattern's matches in the text. Raises PatternTooSlow."""
    compiled = _compiled(pattern, 0)
    return within_budget(key, pattern, text, lambda t: compiled.sub(replacement, text, timeout=t))


def finditer(key: str, pattern: str, text: str, flags: int = 0) -> Iterator[regex.Match[str]]:
    """Yield the pattern's matches in the text, all found within the budget. Raises PatternTooSlow."""
    compiled = _compiled(pattern, flags)
    # All at once: a match tried again must start over, which a generator half-consumed cannot.
    yield from within_budget(key, pattern, text, lambda t: list(compiled.finditer(text, timeout=t)))
