"""Pure application of a source's CSS selectors: what the site's rules pick out of a page.

Selectors are CSS in soupsieve's dialect (the config validates them with soupsieve), so they
run on a BeautifulSoup of the page. Only sources with selectors pay for that second parse;
generic extraction reads the lxml tree alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

from .models import Selectors
from .normalize import clean_inline, clean_text


@dataclass(frozen=True, slots=True)
class Picked:
    """What a source's selectors found on a page; empty where a selector is unset or missed."""

    # The page after the `remove` selectors, or None when there was nothing to remove.
    html: str | None = None
    title: str = ""
    # The date element: whether it was found, its machine stamp and its text.
    date_found: bool = False
    date_stamp: str = ""
    date_text: str = ""
    # The body element's paragraphs, or None when the source names none or it is missing.
    body: str | None = None
    lead: str = ""
    author: str = ""


def pick(html: str, selectors: Selectors) -> Picked:
    """Apply `selectors` to a page: remove what they remove, read what they name."""
    if not (
        selectors.remove
        or selectors.title
        or selectors.date
        or selectors.author
        or selectors.lead
        or selectors.body
    ):
        return Picked()
    soup = BeautifulSoup(html, "lxml")
    for selector in selectors.remove:
        for tag in soup.select(selector):
            tag.decompose()
    # The order is the one of the reads before this module existed: reading text replaces <br>.
    title = _select_text(soup, selectors.title)
    date = soup.select_one(selectors.date) if selectors.date else None
    stamp = str(date.get("datetime") or date.get("content") or "") if date is not None else ""
    date_text = clean_text(date.get_text("\n")) if date is not None else ""
    page = str(soup) if selectors.remove else None
    body = soup.select_one(selectors.body) if selectors.body else None
    return Picked(
        html=page,
        title=title,
        date_found=date is not None,
        date_stamp=stamp,
        date_text=date_text,
        body=node_text(body) if body is not None else None,
        lead=_select_text(soup, selectors.lead),
        author=_select_text(soup, selectors.author),
    )


def node_text(node: Tag) -> str:
    """Return an element's text with block elements as paragraphs."""
    for br in node.find_all("br"):
        br.replace_with("\n")
    blocks = node.find_all(["p", "li", "h2", "h3", "h4", "blockquote"])
    if blocks:
        return "\n\n".join(
            clean_inline(b.get_text(" "))
            for b in blocks
            if not b.find_parent(["p", "li", "blockquote"]) or b.name == "p"
        )
    return clean_text(node.get_text("\n"))


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment with paragraphs kept."""
    if "<" not in fragment:
        return fragment
    return node_text(BeautifulSoup(fragment, "lxml"))


def _select_text(soup: BeautifulSoup, selector: str | None) -> str:
    """Return the text of the first element matching `selector`, or ''."""
    if not selector:
        return ""
    node = soup.select_one(selector)
    return node_text(node) if node else ""
