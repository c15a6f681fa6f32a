"""Pure article extraction: metadata from the page, body from trafilatura, fixed by site rules."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from .body import extract_body
from .dates import iter_datelines, parse_machine_date, plausible
from .errors import NotHTML
from .language import detect_language
from .metadata import Metadata, chrome_text, content_text, page_title, read_metadata
from .models import Article, Link, Source
from .normalize import (
    canonical_url, clean_inline, clean_text, normalize_author, same_text, strip_lines,
)

log = logging.getLogger(__name__)

# Date lines common across news sites, tried on a date selector's text when the source has no
# pattern of its own: "11:12 08.02.2021", "08.02.2021 11:12", "May 16, 2022, 17:51",
# "01 July 2021, 18:22", "08 января 2026, 19:51".
GENERIC_DATELINES = (
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s+(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})",
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:\s*[|,]?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?",
    r"(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}), (?P<year>\d{4})(?:,? (?P<hour>\d{1,2}):(?P<minute>\d{2}))?",
    r"(?P<day>\d{1,2}) (?P<month>[A-Za-zА-Яа-яё]{3,9}),? (?P<year>\d{4})(?:,? (?P<hour>\d{1,2}):(?P<minute>\d{2}))?",
)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+")
_TRAILING_DATE = re.compile(r"\s+\d{1,2}\.\d{1,2}\.\d{4}$")
_MIN_LEAD = 25
_MAX_FEED_LEAD = 600


def extract_article(
    html: str, *, url: str, source: Source | None = None, now: datetime | None = None
) -> Article:
    """Extract one article from an HTML page.

    Metadata comes from JSON-LD, OpenGraph, meta tags and <time>; the body from trafilatura.
    A `source` corrects both with its selectors, date-line pattern, time zone and trailers.
    `now` bounds dates without a year (default: the current time). Raises `NotHTML`.
    """
    source = source or Source(key="", url=url)
    now = now or datetime.now(UTC)
    soup = _parse(html, url=url)
    meta = read_metadata(soup)
    for selector in source.selectors.remove:
        for tag in soup.select(selector):
            tag.decompose()
    title = _title(soup, meta, source)
    dated = _dateline(soup, source, title=title, now=now)
    body = _body(soup, html, url=url, source=source, title=title)
    lead = _lead(soup, meta, source, title=title)
    if lead and _folded(body).startswith(_folded(lead).rstrip(".…")):
        lead = ""  # An excerpt of the body's opening, not a standfirst of its own.
    published = dated[0] if dated else _metadata_date(meta, source, now=now)
    author = (dated[1] if dated else "") or _select_text(soup, source.selectors.author)
    author = normalize_author(author or next(iter(meta.authors), ""))
    return Article(
        url=url,
        canonical_url=_canonical(meta.canonical, url=url, source=source),
        title=title,
        published=published,
        author=author,
        lang=detect_language(f"{title}\n{body}", declared=meta.lang or source.lang or ""),
        lead=lead,
        body=body,
    )


def article_from_link(link: Link, *, source: Source, now: datetime | None = None) -> Article:
    """Build an article from a feed item that carries the full text (Atom content, yandex:full-text)."""
    if link.content_html:
        wrapped = f"<html><body><article><h1>{escape(link.title, quote=False)}</h1>{link.content_html}</article></body></html>"
        article = extract_article(wrapped, url=link.url, source=source, now=now)
        body = article.body or _html_to_text(link.content_html)
    else:
        body = ""
        article = Article(url=link.url, canonical_url=link.canonical_url, title=link.title)
    summary = clean_text(_html_to_text(link.summary)) if link.summary else ""
    lead, body = _feed_lead(summary, title=link.title, body=body)
    return Article(
        url=link.url,
        canonical_url=link.canonical_url,
        title=link.title or article.title,
        published=link.published or article.published,
        author=normalize_author(link.author) if link.author else article.author,
        lang=detect_language(f"{link.title}\n{body or lead}", declared=source.lang or ""),
        lead=lead,
        body=strip_lines(body, trailers=source.trailers, drop=source.drop_lines),
    )


def _feed_lead(summary: str, *, title: str, body: str) -> tuple[str, str]:
    """Split a feed item's text into (lead, body): its summary, else its opening paragraph."""
    first, _, rest = body.partition("\n\n")
    if not summary:
        # Full-text items with an empty summary (en.kremlin.ru): the opening paragraph is the lead.
        return (first, rest) if rest and len(first) <= _MAX_FEED_LEAD else ("", body)
    if same_text(summary, title):
        return "", body
    if same_text(first, summary):
        return summary, rest  # The standfirst repeated as the first paragraph (tass.ru).
    if body and _folded(body).startswith(_folded(summary).rstrip(".… ")):
        return "", body  # An excerpt of the opening paragraph, not a lead of its own.
    return summary, body


def merge_link(article: Article, link: Link) -> Article:
    """Fill what the page lacked from what the feed or listing said about it."""
    return replace(
        article,
        title=article.title or link.title,
        published=article.published or link.published,
        author=article.author or normalize_author(link.author),
        lead=article.lead or (clean_text(_html_to_text(link.summary)) if link.summary else ""),
    )


def _parse(html: str, *, url: str) -> BeautifulSoup:
    """Parse HTML, refusing documents that are not HTML at all."""
    head = html.lstrip()[:1024].lower()
    # A feed quotes article HTML (tass.ru's yandex:full-text) but is no page to extract.
    if re.match(r"(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:rdf)\b", head, re.DOTALL):
        raise NotHTML(f"{url}: an RSS or Atom feed, not an HTML page")
    if not head or not ("<html" in head or "<!doctype html" in head or "<head" in head
                        or "<body" in head or re.search(r"<(div|p|article|h1)\b", head)):
        raise NotHTML(f"{url}: not an HTML document")
    return BeautifulSoup(html, "lxml")


def _title(soup: BeautifulSoup, meta: Metadata, source: Source) -> str:
    """Return the headline: the source's selector, else metadata, else <title>, minus site suffixes."""
    raw = _select_text(soup, source.selectors.title) or next(iter(meta.titles), "") or page_title(soup)
    title = _TRAILING_DATE.sub("", raw)
    site_names = {n.casefold() for n in (meta.site_name, source.name) if n}
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) > 1 and (parts[-1].casefold() in site_names or len(parts[-1]) <= 3):
        title = title[: title.rfind(parts[-1])].rstrip(" |–—-")
    return clean_inline(title)


def _dateline(
    soup: BeautifulSoup, source: Source, *, title: str, now: datetime
) -> tuple[datetime, str] | None:
    """Return (time, author) from the source's date selector or date-line pattern, if either matches.

    Without a selector the pattern is searched in the text outside page chrome from the headline
    on, since sidebars of latest news carry other stories' dates (odkb-csto.org); failing that,
    the nearest match above the headline (eng.belta.by prints the date over the title).
    """
    zone = ZoneInfo(source.timezone)
    if source.selectors.date:
        found = soup.select_one(source.selectors.date)
        if found is None:
            return None
        stamp = str(found.get("datetime") or found.get("content") or "")
        if stamp:
            try:
                return parse_machine_date(stamp, zone=zone, trust_offset=source.trust_offset), ""
            except ValueError:
                pass
        text = clean_text(found.get_text("\n"))
        for pattern in (source.dateline,) if source.dateline else GENERIC_DATELINES:
            hit = next(_plausible(text, pattern, zone=zone, now=now), None)
            if hit:
                return hit
        return None
    if not source.dateline:
        return None
    text = content_text(soup)
    start = max(text.find(title), 0) if title else 0
    after = next(_plausible(text[start:], source.dateline, zone=zone, now=now), None)
    before = list(_plausible(text[:start], source.dateline, zone=zone, now=now))
    return after or (before[-1] if before else None)


def _plausible(
    text: str, pattern: str, *, zone: ZoneInfo, now: datetime
) -> Iterator[tuple[datetime, str]]:
    """Yield the date lines in `text` whose time is plausible, in page order."""
    return (hit for hit in iter_datelines(text, pattern, zone=zone, now=now)
            if plausible(hit[0], now=now))


def _metadata_date(meta: Metadata, source: Source, *, now: datetime) -> datetime | None:
    """Return the first plausible machine-readable publication time in the metadata."""
    zone = ZoneInfo(source.timezone)
    for raw in meta.dates:
        try:
            moment = parse_machine_date(raw, zone=zone, trust_offset=source.trust_offset)
        except ValueError:
            continue
        if plausible(moment, now=now):
            return moment
    return None


def _body(soup: BeautifulSoup, html: str, *, url: str, source: Source, title: str) -> str:
    """Return the article body as paragraphs, cleaned of titles, date lines and trailers."""
    node = soup.select_one(source.selectors.body) if source.selectors.body else None
    # A body selector that finds nothing means another template of the site (belta.by's
    # /special/ pages), not an empty article: generic extraction takes over.
    if node is not None:
        text = _node_text(node)
    else:
        text = extract_body(str(soup) if source.selectors.remove else html, url=url)
    text = clean_text(text)
    # A line that is only the date line goes; a paragraph that opens with one ("МОСКВА,
    # 27 декабря. /ТАСС/. …", however short) is the story.
    drop = source.drop_lines + ((f"(?:{source.dateline})\\W*",) if source.dateline else ())
    text = strip_lines(text, trailers=source.trailers, drop=drop)
    first, _, rest = text.partition("\n\n")
    if title and (same_text(first, title) or same_text(_TRAILING_DATE.sub("", first), title)):
        text = rest
    return text


def _lead(soup: BeautifulSoup, meta: Metadata, source: Source, *, title: str) -> str:
    """Return the publisher's standfirst when it is a real lead, not the title or boilerplate."""
    # A source that names its standfirst element has no lead where that element is missing; its
    # description is then the site's self-description (interaffairs.ru).
    lead = (_select_text(soup, source.selectors.lead) if source.selectors.lead
            else next(iter(meta.descriptions), ""))
    lead = strip_lines(clean_text(lead), trailers=source.trailers, drop=source.drop_lines)
    if len(lead) < _MIN_LEAD or same_text(lead, title) or title.casefold().startswith(
        lead.rstrip(".… ").casefold()
    ):
        return ""
    if meta.site_name and same_text(lead, meta.site_name):
        return ""
    # A description that the page also shows in its header or footer is the site's slogan
    # ("TASS is Russia's leading news agency"), not this article's lead.
    if " ".join(lead.casefold().split()) in " ".join(chrome_text(soup).casefold().split()):
        return ""
    return lead


def _folded(text: str) -> str:
    """Return text casefolded with whitespace collapsed, for prefix comparisons."""
    return " ".join(text.casefold().split())


def _canonical(declared: str, *, url: str, source: Source) -> str:
    """Return the page's canonical URL when it is on the same site, else the fetched URL."""
    candidate = urljoin(url, declared) if declared else url
    same_site = _site(candidate) == _site(url)
    return canonical_url(candidate if same_site else url, rewrites=source.url_rewrites)


def _site(url: str) -> str:
    """Return a URL's host without a leading www."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _select_text(soup: BeautifulSoup, selector: str | None) -> str:
    """Return the text of the first element matching `selector`, or ''."""
    if not selector:
        return ""
    node = soup.select_one(selector)
    return _node_text(node) if node else ""


def _node_text(node: Tag) -> str:
    """Return an element's text with block elements as paragraphs."""
    for br in node.find_all("br"):
        br.replace_with("\n")
    blocks = node.find_all(["p", "li", "h2", "h3", "h4", "blockquote"])
    if blocks:
        return "\n\n".join(clean_inline(b.get_text(" ")) for b in blocks
                           if not b.find_parent(["p", "li", "blockquote"]) or b.name == "p")
    return clean_text(node.get_text("\n"))


def _html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment with paragraphs kept."""
    if "<" not in fragment:
        return fragment
    return _node_text(BeautifulSoup(fragment, "lxml"))
