"""Pure choice of an article's headline and of the element that shows it on the page.

The declared titles (JSON-LD, OpenGraph, Twitter, <title>) are often SEO or social variants, or
carry the site's name and section; the page's own heading is what a reader sees, but pages have
logo, menu and teaser headings too. A heading that a declared title contains is the headline.
"""

from __future__ import annotations

import unicodedata

from lxml.etree import XPath, _Element

from .metadata import Metadata, headings, in_chrome, text_of, xml_safe

# Quotes and dashes typed differently in a heading and its declared title.
_FOLD = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
    }
)
_STRING_EQUAL = XPath("//body//text()[normalize-space(.) = $text]")


def choose_headline(tree: _Element, meta: Metadata) -> tuple[str, _Element | None]:
    """Return the raw headline and the heading that shows it (None when it is not a heading).

    A heading (<h1>, then <h2>) that is all or most of a declared title wins; otherwise the
    first declared title, the first <h1>, then <title>.
    """
    heads = headings(tree)
    declared = [_fold(t) for t in (*meta.titles, meta.page_title) if t]
    for head in heads:
        text = text_of(head)
        if text and any(_part_of(_fold(text), title) for title in declared):
            return text, head
    first_h1 = text_of(heads[0]) if heads and heads[0].tag == "h1" else ""
    return next(iter(meta.titles), "") or first_h1 or meta.page_title, None


def find_heading(tree: _Element, title: str) -> _Element | None:
    """Return the element that shows `title` on the page, else the first <h1> outside chrome."""
    folded = _fold(title)
    heads = headings(tree)
    for head in heads:
        if _fold(text_of(head)) == folded:
            return head
    if title:
        strings = _STRING_EQUAL(tree, text=xml_safe(title))
        if strings:
            owner = strings[0].getparent()  # of a tail, the element before it
            return owner if strings[0].is_text or owner.getparent() is None else owner.getparent()
    return next((h for h in heads if h.tag == "h1" and not in_chrome(h)), None)


def _part_of(heading: str, title: str) -> bool:
    """Tell whether a folded heading is a declared title, or most of it (plus site or section)."""
    return heading == title or (heading in title and 2 * len(heading) >= len(title))


def _fold(text: str) -> str:
    """Return text for comparison: NFKC, casefolded, quotes and dashes plain, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).casefold().split())
