"""Pure choice of a site's rules: which configured source a URL belongs to, and what the source's
CSS selectors pick out of a page.

Selectors are CSS in soupsieve's dialect (the config validates them with soupsieve), so they
run on a BeautifulSoup of the page. Only sources with selectors pay for that second parse;
generic extraction reads the lxml tree alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex
from bs4 import BeautifulSoup, Tag

from . import userregex
from .errors import PatternTooSlow
from .models import Selectors, Source
from .normalize import canonical_or_none, clean_inline, clean_text

# The selectors that name one element each, in the order Selectors declares them.
_NAMED = ("title", "date", "author", "lead", "body")


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
    # The named selectors (of _NAMED) that matched nothing on the page: check-source and the
    # poll log tell them.
    missed: tuple[str, ...] = ()


def source_for_url(sources: Iterable[Source], url: str) -> Source | None:
    """Return the configured source whose site a URL is on, or None when no source's host matches.

    Hosts compare without scheme, port and a leading "www.". Where several sources share the
    host, the one whose link pattern matches the URL wins, then the one whose URL shares the most
    leading path segments with it (a feed at /en/rss.php for pages under /en/), then the first.
    """
    host = _host(url)
    path = _segments(urlsplit(url).path) if host else []
    best, best_rank = None, (-1, -1)
    for source in sources:
        if not host or _host(source.url) != host:
            continue
        rank = (_pattern_matches(source, url), _shared(source.url, path))
        if rank > best_rank:
            best, best_rank = source, rank
    return best


def _host(url: str) -> str:
    """Return a URL's lower-case host without a leading "www." ('' when it has none)."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").removeprefix("www.")


def _segments(path: str) -> list[str]:
    """Return the non-empty segments of a URL path."""
    return [part for part in path.split("/") if part]


def _shared(source_url: str, path: list[str]) -> int:
    """Count the leading path segments of a source's folder that a page's path shares."""
    folder = urlsplit(source_url).path
    # A source's URL names a listing folder ("/news/") or a file in one ("/en/rss.php").
    own = _segments(folder if folder.endswith("/") else folder.rpartition("/")[0])
    shared = 0
    for mine, theirs in zip(own, path):
        if mine != theirs:
            break
        shared += 1
    return shared


def _pattern_matches(source: Source, url: str) -> bool:
    """Tell whether a source's link pattern matches a URL as given or as discovery spells it."""
    if not source.link_pattern:
        return False
    spellings = {url, canonical_or_none(url, rewrites=source.url_rewrites) or url}
    try:
        return any(userregex.search("link_pattern", source.link_pattern, u) for u in spellings)
    except (regex.error, PatternTooSlow):
        return False  # a bad pattern, or one stuck on this URL, matches nothing


def pick(html: str, selectors: Selectors) -> Picked:
    """Apply `selectors` to a page: remove what they remove, read what they name."""
    if not (selectors.remove or any(getattr(selectors, name) for name in _NAMED)):
        return Picked()
    soup = BeautifulSoup(html, "lxml")
    for selector in selectors.remove:
        for tag in soup.select(selector):
            tag.decompose()
    nodes = {
        name: soup.select_one(css) if (css := getattr(selectors, name)) else None for name in _NAMED
    }
    # The order is the one of the reads before this module existed: reading text replaces <br>.
    title = _text(nodes["title"])
    date = nodes["date"]
    stamp = str(date.get("datetime") or date.get("content") or "") if date is not None else ""
    date_text = clean_text(date.get_text("\n")) if date is not None else ""
    page = str(soup) if selectors.remove else None
    body = nodes["body"]
    return Picked(
        html=page,
        title=title,
        date_found=date is not None,
        date_stamp=stamp,
        date_text=date_text,
        body=node_text(body) if body is not None else None,
        lead=_text(nodes["lead"]),
        author=_text(nodes["author"]),
        missed=tuple(n for n in _NAMED if getattr(selectors, n) and nodes[n] is None),
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


def _text(node: Tag | None) -> str:
    """Return the text of a selected element, or '' when the selector found none."""
    return node_text(node) if node is not None else ""
