"""Pure parsing of a page into the lxml tree every reader shares, as leniently as a browser.

Real pages carry text before `<html>` (PHP warnings such as `<br />\\n<b>Deprecated</b>: …`,
stray whitespace or a byte-order mark), XML declarations naming an encoding the text no longer
has, XHTML, no `<html>` at all, or frames. A browser shows all of them, so none is refused: only
a feed (RSS, Atom, RDF), a text with no markup at all, or binary content is not a page.
"""

from __future__ import annotations

import re

from lxml.etree import ParserError, XPath
from lxml.html import HtmlElement, HTMLParser, document_fromstring
from trafilatura import load_html

from .errors import NotHTML

# What may precede a document's first element: whitespace, a BOM, an XML declaration or other
# processing instruction, comments, a doctype. Matched one item at a time (no backtracking).
_PROLOG_ITEM = re.compile(r"[\s\ufeff]+|<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>", re.I | re.S)
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:rdf)\b", re.I)
# Where the document itself starts, searched in the first 64 KiB: whatever comes before (server
# warnings, an XML declaration) is not the author's page.
_DOCUMENT_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_STARTED = re.compile(r"<(?:head|body)[\s>]", re.I)
_START_REACH = 65536
_ANY_TAG = re.compile(r"<[a-z!?]", re.I)
# Siblings in a row that trafilatura removes from a body's end one at a time (see _capped_runs).
_RUN_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "a")
_MAX_RUN = 256
# Parents of more than 256 elements (of the 257th child of any): only they can hold such a run.
_CROWDED_PARENTS = XPath(f"//*[{_MAX_RUN + 1}]/..")
# For pages trafilatura refuses: comments and processing instructions dropped, as its parser does.
_PARSER = HTMLParser(remove_comments=True, remove_pis=True)


def parse_page(html: str, *, url: str) -> tuple[HtmlElement, bool]:
    """Parse a page into the lxml tree trafilatura reads; raise NotHTML for what is no page.

    The flag is False for a document that trafilatura refuses: a tree to read metadata from,
    with no body to look for.
    """
    if _is_feed(html):
        raise NotHTML(f"{url}: an RSS or Atom feed, not an HTML page")
    if "\x00" in html[:1024] or html.lstrip("\ufeff \t\r\n").startswith("%PDF"):
        raise NotHTML(f"{url}: binary content, not an HTML document")
    if not _ANY_TAG.search(html):
        raise NotHTML(f"{url}: no markup at all, not an HTML document")
    page = document_part(html)
    tree = load_html(page)
    if tree is not None:
        return _capped_runs(tree), True
    try:
        return _capped_runs(document_fromstring(page, parser=_PARSER)), False
    except (ParserError, ValueError):
        return document_fromstring("<html></html>"), False


def document_part(html: str) -> str:
    """Return the page from its doctype or <html> tag on, without what a server printed before."""
    start = _DOCUMENT_START.search(html, 0, _START_REACH)
    if start is not None and not _STARTED.search(html, 0, start.start()):
        return html[start.start() :]
    # lxml refuses a text that declares its encoding, and trafilatura's way round that re-reads
    # the text in the declared one: the text is decoded already, so the declaration goes.
    return _XML_DECLARATION.sub("", html.lstrip("\ufeff \t\r\n"), count=1)


def _capped_runs(tree: HtmlElement) -> HtmlElement:
    """Drop the elements past the 256th of a run of sibling headings and links.

    trafilatura drops a body's trailing headings and links one at a time, counting the body's
    children each time: 20k headings and links at the end of an article took minutes. No page
    prints hundreds of them in a row; a page that does loses the rest (their tails stay).
    """
    # Found in C: walking every link and heading of the page in Python cost 0.2 ms a page.
    for parent in _CROWDED_PARENTS(tree):
        run: list[HtmlElement] = []
        for child in [*parent, None]:
            if child is not None and child.tag in _RUN_TAGS:
                run.append(child)
                continue
            if len(run) > _MAX_RUN:
                kept, dropped = run[_MAX_RUN - 1], run[_MAX_RUN:]
                kept.tail = (kept.tail or "") + "".join(el.tail or "" for el in dropped)
                for el in dropped:
                    parent.remove(el)
            run = []
    return tree


def _is_feed(html: str) -> bool:
    """Tell whether the first element of a text, after its prolog, is a feed's root."""
    position = 0
    while match := _PROLOG_ITEM.match(html, position):
        if match.end() == position:
            break
        position = match.end()
    return bool(_FEED_ROOT.match(html, position))
