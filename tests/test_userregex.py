"""Operators' regexes applied to what sites serve: `re`'s meaning, and a stuck one fails fast,
naming its config key (issue 16: the config's vetting cannot see every polynomial pattern)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config.checks import flexible_pattern, pattern
from scrapers import PatternTooSlow, Source, userregex
from scrapers.dates import iter_datelines
from scrapers.discover import read_listing
from scrapers.normalize import canonical_url, strip_lines

# Three `.*` in a row and a literal the text lacks: cubic in the text, yet no nested quantifier.
SLOW = r"/.*-.*-.*-x$"
# Long enough that the slow patterns need seconds of CPU (SLOW took 4 s on 12,000 dashes here),
# well past userregex.WALL_CAP: however busy the machine, no retry can let them finish.
LONG = 12_000
DASHES = "http://example.org/news/" + "-" * LONG


def test_the_slow_pattern_passes_the_config_vetting() -> None:
    assert pattern(SLOW) and flexible_pattern(SLOW)


def test_a_link_pattern_stuck_on_a_listing_link_names_the_key() -> None:
    source = Source(key="m", name="M", url="http://example.org/news/", link_pattern=SLOW)
    with pytest.raises(PatternTooSlow, match=r"^link_pattern '/\.\*-.*took over 0\.05s"):
        read_listing(f'<a href="{DASHES}">x</a>', base_url=source.url, source=source)


def test_a_url_rewrite_stuck_on_a_link_names_the_key() -> None:
    with pytest.raises(PatternTooSlow, match="^url_rewrites "):
        canonical_url(DASHES, rewrites=((SLOW, "/"),))


def test_a_drop_line_stuck_on_a_paragraph_names_the_key() -> None:
    with pytest.raises(PatternTooSlow, match="^drop_lines "):
        strip_lines("Text.\n" + "-" * LONG, drop=(".*-.*-.*-x",))


def test_a_dateline_stuck_on_a_page_names_the_key() -> None:
    slow = r"(?P<day>\d+).*-.*-.*-(?P<month>x)"
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(PatternTooSlow, match="^dateline "):
        list(iter_datelines("1" + "-" * LONG, slow, zone=ZoneInfo("UTC"), now=now))


def test_patterns_keep_the_meaning_they_had_in_re() -> None:
    source = Source(key="m", name="M", url="http://example.org/", link_pattern=r"/News/\d+$")
    listing = '<a href="/News/1">One</a><a href="/news/2">Two</a>'
    links = read_listing(listing, base_url=source.url, source=source).links
    assert [link.url for link in links] == ["http://example.org/News/1"]  # case-sensitive
    assert strip_lines("Keep\nREAD MORE\nKeep too", drop=("read more",)) == "Keep\nKeep too"
    rewrites = ((r"^(https?://)m\.(.*)$", r"\1\2"),)
    assert canonical_url("http://m.example.org/a", rewrites=rewrites) == "http://example.org/a"


class _Clocks:
    """Wall and CPU clocks a test moves by hand: a thread descheduled, or one computing."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    @property
    def pair(self) -> userregex.Clocks:
        return (lambda: self.wall, lambda: self.cpu)


def _timing_out(clocks: _Clocks, *, cpu_share: float, answers: int | None = None):
    """Return a match that spends its whole wall bound, `cpu_share` of it computing, and times
    out, except on try number `answers` (counted from 1), which returns the bounds seen."""
    bounds: list[float] = []

    def match(bound: float) -> list[float]:
        bounds.append(bound)
        if len(bounds) == answers:
            return bounds
        clocks.wall += bound
        clocks.cpu += bound * cpu_share
        raise TimeoutError("regex timed out")

    return match


def test_a_pattern_kept_waiting_past_its_wall_bound_is_tried_again_not_failed() -> None:
    # The thread computed for 2% of the bound (waiting for the GIL or a core the rest), as the
    # in-process bench saw on a 30-character link: not the pattern's fault.
    clocks = _Clocks()
    match = _timing_out(clocks, cpu_share=0.02, answers=3)
    bounds = userregex.within_budget("link_pattern", "^x$", "x" * 30, match, clocks.pair)
    # The first timeout is not measured; the same bound again is, then twice as long.
    assert bounds == [userregex.CPU_BUDGET, userregex.CPU_BUDGET, 2 * userregex.CPU_BUDGET]


def test_a_pattern_that_spent_its_cpu_budget_fails_naming_the_key() -> None:
    # Its first timeout is not measured; the second, all of it CPU, fails it.
    clocks = _Clocks()
    match = _timing_out(clocks, cpu_share=1.0, answers=3)
    with pytest.raises(PatternTooSlow, match=r"^dateline 'a\.\*' took over 0\.05s on a text of 30"):
        userregex.within_budget("dateline", "a.*", "x" * 30, match, clocks.pair)


def test_a_thread_never_given_the_cpu_fails_at_the_wall_cap_not_later() -> None:
    clocks = _Clocks()
    match = _timing_out(clocks, cpu_share=0.0)
    with pytest.raises(
        PatternTooSlow, match=r"^drop_lines 'a' took over 1s \(the CPU was too busy"
    ):
        userregex.within_budget("drop_lines", "a", "x", match, clocks.pair)
    # The last try was cut to what the cap left, so the whole took exactly the cap.
    assert clocks.wall == pytest.approx(userregex.WALL_CAP)
