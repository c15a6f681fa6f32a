"""Pure inference for `presswatch add`: what a page is, which of its links are articles, and the
TOML block that makes it a source.

    DiscoveryError
    └── NoArticleLinks     no group of same-site links on the page looks like articles
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup

from scrapers.feedscan import feed_head
from scrapers.language import detect_language
from scrapers.normalize import canonical_url, clean_inline, url_key

_FEED_TYPES = {"application/rss+xml", "application/atom+xml"}
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
# Top-level domains whose sites print local times in one zone (Moscow and Minsk are UTC+3 all
# year), then the zone a language most often implies; both only a first guess.
_ZONE_BY_TLD = {
    "ru": "Europe/Moscow",
    "su": "Europe/Moscow",
    "by": "Europe/Minsk",
    "kz": "Asia/Almaty",
    "kg": "Asia/Bishkek",
    "tj": "Asia/Dushanbe",
    "am": "Asia/Yerevan",
    "uz": "Asia/Tashkent",
    "az": "Asia/Baku",
    "ge": "Asia/Tbilisi",
    "ua": "Europe/Kyiv",
    "md": "Europe/Chisinau",
}
_ZONE_BY_LANG = {
    "ru": "Europe/Moscow",
    "be": "Europe/Minsk",
    "kk": "Asia/Almaty",
    "hy": "Asia/Yerevan",
    "uk": "Europe/Kyiv",
}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu"}
_NUMERIC = ("id", "number")


class DiscoveryError(Exception):
    """A page cannot be turned into a source."""


class NoArticleLinks(DiscoveryError):
    """No group of same-site links on the page looks like articles."""


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page or feed says about its site."""

    name: str = ""
    lang: str = ""
    feeds: tuple[str, ...] = ()  # advertised feed URLs, the likeliest first


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


def is_feed(content: bytes) -> bool:
    """Return True when a body is an RSS or Atom document rather than a web page."""
    head = feed_head(content)
    if not head.startswith(b"<") or b"<html" in head or b"<!doctype html" in head:
        return False
    return any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf"))


def page_facts(html: str, *, base_url: str) -> PageFacts:
    """Return a page's site name (og:site_name, else <title>), language and advertised feeds."""
    soup = BeautifulSoup(html, "lxml")
    site = soup.find("meta", attrs={"property": "og:site_name"})
    title = soup.title.get_text(" ") if soup.title else ""
    name = clean_inline(str(site.get("content") or "") if site else "") or _site_title(title)
    root = soup.find("html")
    declared = str(root.get("lang") or "") if root else ""
    lang = detect_language(soup.get_text(" "), declared=declared) or _short_lang(declared)
    feeds = []
    for tag in soup.find_all("link", href=True):
        rel = {r.lower() for r in (tag.get("rel") or [])}
        kind = str(tag.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in _FEED_TYPES:
            label = str(tag.get("title") or "").lower()
            # WordPress and others also advertise comment feeds; the news feed goes first.
            url = urljoin(base_url, str(tag["href"]).strip())
            feeds.append((("comment" in label, len(feeds)), url))
    ordered = (url for _, url in sorted(feeds))
    return PageFacts(name=name, lang=lang, feeds=tuple(dict.fromkeys(ordered)))


def feed_facts(content: bytes) -> PageFacts:
    """Return a feed's title and declared language."""
    feed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False).get(
        "feed", {}
    )
    return PageFacts(
        name=clean_inline(str(feed.get("title", ""))),
        lang=_short_lang(str(feed.get("language", ""))),
    )


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


def source_key(url: str, *, taken: tuple[str, ...] = ()) -> str:
    """Return a key made from the host: en.interaffairs.ru → interaffairs-en, tass.com → tass-com."""
    parts = urlsplit(url)
    host = (parts.hostname or "site").lower().removeprefix("www.")
    labels = host.split(".")
    if _is_ip(host) or len(labels) < 2:
        key = "-".join([*labels, *([str(parts.port)] if parts.port else [])])
    else:
        cut = 3 if len(labels) > 2 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
        name, rest = labels[-cut], labels[:-cut]
        key = f"{name}-{rest[0] if rest else labels[-1]}"
    key = re.sub(r"[^a-z0-9_-]+", "-", key).strip("-_")[:60] or "site"
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def guess_timezone(url: str, *, lang: str) -> tuple[str, str]:
    """Return an IANA zone guessed from the domain or the language, and why."""
    host = (urlsplit(url).hostname or "").lower()
    tld = host.rsplit(".", 1)[-1]
    if not _is_ip(host) and tld in _ZONE_BY_TLD:
        return _ZONE_BY_TLD[tld], f"a guess from the .{tld} domain"
    if lang in _ZONE_BY_LANG:
        return _ZONE_BY_LANG[lang], f"a guess from the language ({lang})"
    return "UTC", "no clue on the page: set the zone the site prints its times in"


def toml_block(fields: list[tuple[str, object, str]]) -> str:
    """Return a [[sources]] TOML block from (key, value, comment) rows; None values are skipped."""
    lines = ["[[sources]]"]
    for key, value, comment in fields:
        if value is None:
            continue
        line = f"{key} = {_toml_value(value)}"
        lines.append(f"{line:<40} # {comment}" if comment else line)
    return "\n".join(lines) + "\n"


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
    if re.fullmatch(r".*[^\W\d_].*-\d+-(?:19|20)\d\d", text):
        return "slug-id-year"
    if re.fullmatch(r".*[^\W\d_].*[-_]\d{3,}", text):
        return "slug-id"
    return "slug" if re.search(r"[-_+]", text) else "word"


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


def _site_title(title: str) -> str:
    """Return the site's part of a <title> such as 'Latest news | TASS' (the last part)."""
    parts = [p.strip() for p in re.split(r"\s+[|–—·-]\s+", clean_inline(title)) if p.strip()]
    return parts[-1] if parts else ""


def _short_lang(code: str) -> str:
    """Return the primary subtag of a language code: 'en-US' → 'en'."""
    return code.replace("_", "-").split("-")[0].strip().lower()


def _is_ip(host: str) -> bool:
    """Return True for an IP address literal."""
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _toml_value(value: object) -> str:
    """Return a TOML literal: strings single-quoted when possible (regexes read as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if re.search(r"[\x00-\x1f\x7f]", text) or ("'" in text and re.search(r'["\\]', text)):
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    return f'"{text}"' if not re.search(r'["\\]', text) else f"'{text}'"
