"""Operators' regexes applied to what sites serve: `re`'s meaning, and a stuck one fails fast,
naming its config key (issue 16: the config's vetting cannot see every polynomial pattern)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config.checks import flexible_pattern, pattern
from scrapers import PatternTooSlow, Source
from scrapers.dates import iter_datelines
from scrapers.discover import read_listing
from scrapers.normalize import canonical_url, strip_lines

# Three `.*` in a row and a literal the text lacks: cubic in the text, yet no nested quantifier.
SLOW = r"/.*-.*-.*-x$"
DASHES = "http://example.org/news/" + "-" * 6000


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
        strip_lines("Text.\n" + "-" * 6000, drop=(".*-.*-.*-x",))


def test_a_dateline_stuck_on_a_page_names_the_key() -> None:
    slow = r"(?P<day>\d+).*-.*-.*-(?P<month>x)"
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(PatternTooSlow, match="^dateline "):
        list(iter_datelines("1" + "-" * 6000, slow, zone=ZoneInfo("UTC"), now=now))


def test_patterns_keep_the_meaning_they_had_in_re() -> None:
    source = Source(key="m", name="M", url="http://example.org/", link_pattern=r"/News/\d+$")
    listing = '<a href="/News/1">One</a><a href="/news/2">Two</a>'
    links = read_listing(listing, base_url=source.url, source=source).links
    assert [link.url for link in links] == ["http://example.org/News/1"]  # case-sensitive
    assert strip_lines("Keep\nREAD MORE\nKeep too", drop=("read more",)) == "Keep\nKeep too"
    rewrites = ((r"^(https?://)m\.(.*)$", r"\1\2"),)
    assert canonical_url("http://m.example.org/a", rewrites=rewrites) == "http://example.org/a"
