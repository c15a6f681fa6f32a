"""Pure choice of an article's headline and of the element that shows it on the page.

The declared titles (JSON-LD, OpenGraph, Twitter, <title>) are often SEO or social variants, or
carry the site's name and section; the page's own heading is what a reader sees, but pages have
logo, menu and teaser headings too, and many print the SEO title again as the last step of a
breadcrumb trail. A heading outside such trails that a declared title contains is the headline;
where the heading runs a kicker into it ("Neue Leipziger Schule Judy Lybke, …"), the declared
title with the same words, or the one the heading ends with, is the headline without the markup's
layout.
"""

from __future__ import annotations

import re
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
# The trail of links to a page's sections: its last step is often the page's SEO title in an
# <h1>, while the headline a reader sees is another heading.
_CRUMB_TAGS = {"nav", "li"}
_CRUMB_MARK = re.compile(r"crumb", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def choose_headline(tree: _Element, meta: Metadata) -> tuple[str, _Element | None]:
    """Return the raw headline and the heading that shows it (None when it is not a heading).

    A heading (<h1>, then <h2>) outside breadcrumb trails that shows a declared title wins:
    all of it or most of it as the heading's text, the same words or the words after a kicker
    as the declared title's; otherwise the first declared title, the first <h1>, then <title>.
    """
    heads = headings(tree)
    declared = [(t, _fold(t)) for t in (*meta.titles, meta.page_title) if t]
    declared = [(title, own, _words(own)) for title, own in declared]
    for head in heads:
        text = text_of(head)
        if text and not _in_crumbs(head):
            shown = _shown_title(text, declared)
            if shown:
                return shown, head
    first_h1 = text_of(heads[0]) if heads and heads[0].tag == "h1" else ""
    return next(iter(meta.titles), "") or first_h1 or meta.page_title, None


def _shown_title(text: str, declared: list[tuple[str, str, list[str]]]) -> str:
    """Return the headline a heading shows of the declared titles ('' when it shows none).

    Its own text when it is a declared title or most of one (plus a site or section); a declared
    title's own spelling when the heading has the same words, its punctuation lost to the
    markup's layout ("Kicker Headline" for "Kicker: Headline"), or when the heading is a
    kicker followed by that title. `declared` holds each title, folded, and its words.
    """
    folded = _fold(text)
    titles = [(title, own) for title, own, _ in declared]
    if any(folded == own for _, own in titles):
        return text
    words = _words(folded)
    same = next((title for title, _, own in declared if words and own == words), "")
    if same:
        return same
    tail = next((title for title, own in titles if _after_kicker(folded, own)), "")
    if tail:
        return tail
    kicked = next((title for title, own in titles if _kicker_of(own, folded)), "")
    if kicked:
        return kicked
    return text if any(_part_of(folded, own) for _, own in titles) else ""


def _kicker_of(title: str, heading: str) -> bool:
    """Tell whether a folded title is a kicker and a colon before the folded heading."""
    kicker = title.removesuffix(heading)
    return kicker != title and kicker.endswith(": ") and len(kicker) < len(heading)


def _after_kicker(heading: str, title: str) -> bool:
    """Tell whether a folded heading is a short kicker followed by the folded title."""
    kicker = heading.removesuffix(title)
    return kicker != heading and kicker.endswith(" ") and len(kicker) < len(title)


def _in_crumbs(head: _Element) -> bool:
    """Tell whether a heading is part of a breadcrumb trail or a navigation list."""
    for node in (head, *head.iterancestors()):
        if node.tag in _CRUMB_TAGS or _CRUMB_MARK.search(
            f"{node.get('class') or ''} {node.get('id') or ''}"
        ):
            return True
    return False


def _words(folded: str) -> list[str]:
    """Return the words of a folded text, without its punctuation."""
    return _WORD.findall(folded)


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
