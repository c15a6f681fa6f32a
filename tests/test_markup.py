"""Capping start tags of thousands of attributes: what is cut, what is left, and that the fast
scan finds exactly what the regular expression it replaced found (synthetic markup)."""

from __future__ import annotations

import random
import re
from itertools import islice

from scrapers.markup import MAX_ATTRIBUTES, cap_attributes

# The substitution cap_attributes did before it cut the page at each "<": the reference.
_REFERENCE_TAG = re.compile(r"<([A-Za-z][^\s<>/]{0,64}+)([^<>]{512,}+)(>|(?=<))")
_REFERENCE_ATTRIBUTE = re.compile(
    r"""[^\s"'<>/=]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'<>]++))?+"""
)


def _reference(html: str) -> str:
    """Return the markup as the regular-expression substitution capped it."""

    def capped(match: re.Match[str]) -> str:
        name, rest, end = match.groups()
        kept = [a[0] for a in islice(_REFERENCE_ATTRIBUTE.finditer(rest), MAX_ATTRIBUTES + 1)]
        if len(kept) <= MAX_ATTRIBUTES:
            return match[0]
        close = "/" if rest.rstrip().endswith("/") else ""
        return f"<{name} {' '.join(kept[:MAX_ATTRIBUTES])}{close}{end}"

    return _REFERENCE_TAG.sub(capped, html) if len(html) > 512 else html


def _attributes(count: int) -> str:
    return " ".join(f'a{n}="{n}"' for n in range(count))


def test_a_tag_of_300_attributes_keeps_its_first_256_and_its_end() -> None:
    html = f"<html><body><div {_attributes(300)}>text</div><img {_attributes(300)} /></body></html>"
    capped = cap_attributes(html)
    assert capped.count('="') == 2 * MAX_ATTRIBUTES
    assert f"<div {_attributes(MAX_ATTRIBUTES)}>text</div>" in capped
    assert f"<img {_attributes(MAX_ATTRIBUTES)}/>" in capped
    assert 'a256="256"' not in capped


def test_a_tag_left_open_before_the_next_is_capped_and_one_open_at_the_end_is_left() -> None:
    open_before = f"<p>x</p><div {_attributes(300)}<p>after</p>"
    assert cap_attributes(open_before) == f"<p>x</p><div {_attributes(MAX_ATTRIBUTES)}<p>after</p>"
    open_at_end = f"<p>x</p><div {_attributes(300)}"
    assert cap_attributes(open_at_end) == open_at_end


def test_long_tags_with_few_attributes_and_short_pages_are_left_as_they_are() -> None:
    srcset = ", ".join(f"https://example.org/picture-{n}.jpg {n}w" for n in range(100))
    html = f'<html><body><img srcset="{srcset}" alt="a picture"><p>text</p></body></html>'
    assert cap_attributes(html) is html
    assert cap_attributes("<b a b c>") == "<b a b c>"


def test_the_fast_scan_caps_exactly_what_the_regular_expression_capped() -> None:
    # Seeded: the same pages every run. Pieces that meet the scan's edges: names longer than
    # 64 characters, slashes, quotes, "<" in a script's code, tags open at the end, no tags.
    pieces = [
        "<p>",
        "</p>",
        "text ",
        "<br/>",
        "<" + "x" * 70 + " ",
        "<svg d='" + "M0 0 " * 120 + "'>",
        f"<div {_attributes(257)}>",
        f"<div {_attributes(256)}>",
        f"<span {_attributes(400)} / >",
        "<script>if (a<b && " + "c = d; " * 300 + ") {}</script>",
        " b=1" * 300,
        "<" + "é" * 600,
        "<1" + "a " * 300 + ">",
        "\u00a0\n",
    ]
    rng = random.Random(11)
    for _ in range(300):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        assert cap_attributes(html) == _reference(html), html[:200]
