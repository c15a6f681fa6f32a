"""Pure inference for `presswatch add`: which of a page's links are articles, and the
`link_pattern` that matches them (bot/ingest/proposal.py proposes the rest of the source).

    DiscoveryError
    └── NoArticleLinks     no group of same-site links on the page looks like articles
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup

from scrapers.normalize import canonical_url, clean_inline, url_key

_PAGE_EXTENSIONS = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
# Path segments of pages that are never articles: tag, author and section indexes, paging, feeds,
# accounts, and AMP copies (tass.com serves /world/1451611/amp beside /world/1451611).
_NAV_SEGMENTS = frozenset(
    {
        "tag",
        "tags",
        "author",
        "authors",
        "category",
        "categories",
        "rubric",
        "rubrics",
        "topic",
        "topics",
        "search",
        "page",
        "pages",
        "feed",
        "rss",
        "login",
        "logout",
        "register",
        "user",
        "users",
        "profile",
        "about",
        "contact",
        "contacts",
        "subscribe",
        "print",
        "amp",
        "persons",
    }
)
_NUMERIC = ("id", "number")


class DiscoveryError(Exception):
    """A page cannot be turned into a source."""


class NoArticleLinks(DiscoveryError):
    """No group of same-site links on the page looks like articles."""


@dataclass(frozen=True, slots=True)
class LinkGroup:
    """Same-site links of one path shape, with the regular expression that matches them."""

    pattern: str
    shape: str  # e.g. "/article/<slug>/"
    urls: tuple[str, ...]
    score: float


@dataclass(frozen=True, slots=True)
class _Anchor:
    """One candidate link: canonical URL, path segments (extension apart) and anchor text."""

    url: str
    netloc: str
    segments: tuple[str, ...]
    extension: str
    text: str


def link_groups(html: str, *, base_url: str) -> list[LinkGroup]:
    """Return the page's same-site links grouped by path shape, the likeliest articles first."""
    # An anchor that wraps only an image says what it is in its title attribute, if anywhere.
    links = (
        (
            urljoin(base_url, str(tag["href"]).strip()),
            clean_inline(tag.get_text(" ") or str(tag.get("title") or "")),
        )
        for tag in BeautifulSoup(html, "lxml").find_all("a", href=True)
    )
    return group_links(links, base_url=base_url)


def group_links(links: Iterable[tuple[str, str]], *, base_url: str) -> list[LinkGroup]:
    """Return same-site (url, text) pairs grouped by path shape, the likeliest articles first."""
    anchors = [a for a in _anchors(links, base_url=base_url) if _articleness(a) >= 1.5]
    by_shape: dict[tuple, list[_Anchor]] = {}
    for anchor in anchors:
        by_shape.setdefault((tuple(map(_kind, anchor.segments)), anchor.extension), []).append(
            anchor
        )
    groups = [_group(members) for members in by_shape.values() if len(members) >= 2]
    return sorted((g for g in groups if g is not None), key=lambda g: -g.score)


def infer_link_pattern(html: str, *, base_url: str) -> LinkGroup:
    """Return the group of links that looks most like articles. Raises NoArticleLinks."""
    groups = link_groups(html, base_url=base_url)
    if not groups:
        raise NoArticleLinks(
            f"{base_url}: no group of links on this page looks like articles (the listing may be "
            "filled in by JavaScript: look for a feed, a sitemap or another listing page)"
        )
    return groups[0]


def _anchors(links: Iterable[tuple[str, str]], *, base_url: str) -> list[_Anchor]:
    """Return the same-site candidate links once each, with their longest text."""
    base = urlsplit(canonical_url(base_url))
    site, base_path = base.netloc.removeprefix("www."), base.path.rstrip("/")
    found: dict[str, _Anchor] = {}
    for raw, text in links:
        url = canonical_url(raw)
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        # The listing itself, its parents (breadcrumbs) and its paging are never articles.
        if (
            parts.scheme not in ("http", "https")
            or parts.netloc.removeprefix("www.") != site
            or f"{base_path}/".startswith(f"{path}/")
        ):
            continue
        anchor = _anchor(url, parts.netloc, path, text)
        if anchor is None:
            continue
        known = found.get(url_key(url))
        if known is None or len(anchor.text) > len(known.text):
            found[url_key(url)] = anchor
    return list(found.values())


def _anchor(url: str, netloc: str, path: str, text: str) -> _Anchor | None:
    """Return a candidate link, or None for files and navigation pages."""
    segments = [s for s in path.split("/") if s]
    extension = ""
    if segments and "." in segments[-1]:
        match = _PAGE_EXTENSIONS.search(segments[-1])
        if not match:
            return None  # An image, a PDF, a document: not a page.
        extension, segments[-1] = match.group(0), segments[-1][: match.start()]
    if not segments or any(unquote(s).lower() in _NAV_SEGMENTS for s in segments):
        return None
    return _Anchor(url, netloc, tuple(segments), extension, text)


def _kind(segment: str) -> str:
    """Classify a path segment: id, number, slug-id-year, slug-id, slug or word."""
    text = unquote(segment)
    if text.isdigit():
        return "id" if len(text) >= 3 and not re.fullmatch(r"(?:19|20)\d\d", text) else "number"
    # String tests, not ".*[^\W\d_].*-\d+-…" patterns: two .* in one pattern take time quadratic
    # in a segment's length, and a listing's links are the site's to choose.
    head, _, year = text.rpartition("-")
    slug, _, number = head.rpartition("-")
    if _year(year) and number.isdecimal() and _has_letter(slug):
        return "slug-id-year"
    digits = len(text) - len(_without_trailing_digits(text))
    if digits >= 3 and text[-digits - 1 : -digits] in ("-", "_"):
        if _has_letter(text[: -digits - 1]):
            return "slug-id"
    return "slug" if re.search(r"[-_+]", text) else "word"


def _without_trailing_digits(text: str) -> str:
    """Return text without the digits it ends in."""
    end = len(text)
    while end and text[end - 1].isdecimal():
        end -= 1
    return text[:end]


def _year(text: str) -> bool:
    """Tell whether text is a year of this or the last century (19xx, 20xx)."""
    return len(text) == 4 and text[:2] in ("19", "20") and text[2:].isdecimal()


def _has_letter(text: str) -> bool:
    """Tell whether text holds a letter (a word character that is no digit and no underscore)."""
    return any(c.isalnum() and not c.isdecimal() for c in text)


def _strength(segment: str) -> float:
    """Return how strongly one path segment says 'an article': ids and long slugs do, words do not."""
    kind = _kind(segment)
    if kind in ("id", "slug-id", "slug-id-year"):
        return 3.0
    if kind == "slug":
        text = unquote(segment)
        return 2.5 if len(re.split(r"[-_+]+", text)) >= 3 or len(text) >= 20 else 1.0
    return 0.5


def _articleness(anchor: _Anchor) -> float:
    """Score one link: its strongest path segment, times how headline-like its text is."""
    words = len(anchor.text.split())
    text = 2.0 if words >= 4 else 1.0 if words >= 2 else 0.6
    return max(map(_strength, anchor.segments)) * text


def _group(members: list[_Anchor]) -> LinkGroup | None:
    """Turn links of one shape into a LinkGroup, or None when fewer than two remain."""
    members = _main_section(members)
    if len(members) < 2:
        return None
    pattern, shape = _pattern(members)
    score = sum(map(_articleness, members)) * _text_bonus(members)
    return LinkGroup(
        pattern=pattern, shape=shape, urls=tuple(m.url for m in members), score=round(score, 2)
    )


def _main_section(members: list[_Anchor]) -> list[_Anchor]:
    """Drop the few links outside a section that holds most of them (a sidebar beside a listing)."""
    for i, segment in enumerate(members[0].segments):
        if _kind(segment) in _NUMERIC:
            continue
        values = Counter(m.segments[i] for m in members)
        top, count = values.most_common(1)[0]
        if 1 < len(values) < len(members) and count >= 0.75 * len(members):
            members = [m for m in members if m.segments[i] == top]
    return members


def _pattern(members: list[_Anchor]) -> tuple[str, str]:
    """Return the anchored regex that matches a group's links, and its shape for people."""
    parts, shape, fixed_before = [], [], False
    for i, segment in enumerate(members[0].segments):
        kind, same = _kind(segment), len({m.segments[i] for m in members}) == 1
        # Numbers are never literal: /2024/05/<slug>/ must still match next month.
        if same and kind not in _NUMERIC:
            parts.append(_escape(segment))
            shape.append(segment)
        else:
            parts.append(_segment_regex(kind, anchored=fixed_before))
            shape.append(_SHAPE_NAMES[kind])
        fixed_before = fixed_before or same or kind in _NUMERIC
    extension = members[0].extension
    query = r"(?:\?[^#]*)?" if any(urlsplit(m.url).query for m in members) else ""
    pattern = (
        f"^https?://{_host_regex(members)}/{'/'.join(parts)}"
        f"{_escape(extension) if extension else '/?'}{query}$"
    )
    return pattern, "/" + "/".join(shape) + (extension or "/")


_SHAPE_NAMES = {
    "id": "<id>",
    "number": "<n>",
    "slug-id-year": "<slug>-<id>-<year>",
    "slug-id": "<slug>-<id>",
    "slug": "<slug>",
    "word": "<section>",
}


def _segment_regex(kind: str, *, anchored: bool) -> str:
    """Return the regex for a varying path segment of one kind."""
    if kind in _NUMERIC:
        return r"\d+"
    # Never '?' or '#': "/news/[^/]+" would also match the listing's own "/news/?PAGEN_1=2".
    if kind == "slug-id-year":
        return r"[^/?#]+-\d+-\d{4}"
    if kind == "slug-id":
        return r"[^/?#]+[-_]\d+"
    if kind == "slug" and not anchored:
        # With no fixed segment before it, a bare [^/?#]+ would also match /about/ or /contacts/.
        return r"[^/?#]*[-_+][^/?#]*"
    return r"[^/?#]+"


def _text_bonus(members: list[_Anchor]) -> float:
    """Return a bonus for groups whose links read like headlines (median words per anchor)."""
    return 1.5 if statistics.median(len(m.text.split()) for m in members) >= 5 else 1.0


def _host_regex(members: list[_Anchor]) -> str:
    """Return the escaped host (and port) of a group; www. optional where sites mix both forms."""
    hosts = {m.netloc for m in members}
    bare = next(iter(hosts)).removeprefix("www.")
    # odkb-csto.org links itself with and without www.; a subdomain such as en. never gets one.
    if len(hosts) > 1 or bare.count(".") == 1:
        return r"(?:www\.)?" + _escape(bare)
    return _escape(bare)


def _escape(text: str) -> str:
    """Escape regex metacharacters only (re.escape also escapes '-', which reads badly in config)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)
