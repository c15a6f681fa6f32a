"""Pure article extraction: metadata from the page, body from trafilatura, fixed by site rules."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

from .body import extract_body, remove_keeping_tail, reveal_hidden_story
from .boilerplate import (
    drop_author_lines,
    drop_headline_repeats,
    drop_notices,
    drop_signup_boxes,
    drop_teaser_cards,
)
from .bylines import choose_authors
from .datelines import fixed_zone, pick_time, read_dateline
from .dates import guess_date, iter_datelines, parse_machine_date, plausible
from .document import parse_page
from .headline import choose_headline, find_heading
from .hydration import payload_html
from .images import lead_image, same_image
from .language import detect_language
from .lead import choose_lead, drop_captions, folded
from .markup import cap_attributes
from .metadata import Metadata, content_text, read_metadata
from .models import Article, Extraction, Link, Source
from .normalize import (
    canonical_or_none,
    clean_inline,
    clean_text,
    normalize_author,
    same_text,
    strip_lines,
)
from .selection import Picked, html_to_text, pick

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
_NAMED_UTC = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)\s*(?:GMT|UTC)$")
_WRITTEN_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_MAX_FEED_LEAD = 600
# A body shorter than this may be a page rendered in the browser (see scrapers/hydration.py).
_FEW_CHARACTERS = 200
_NEXT = "self.__next_f.push"


def extract_article(
    html: str,
    *,
    url: str,
    source: Source | None = None,
    now: datetime | None = None,
    site_image: str = "",
    dated_elsewhere: bool = False,
) -> Article:
    """Extract one article from an HTML page, as extract_page does, without the missed selectors."""
    return extract_page(
        html,
        url=url,
        source=source,
        now=now,
        site_image=site_image,
        dated_elsewhere=dated_elsewhere,
    ).article


def extract_page(
    html: str,
    *,
    url: str,
    source: Source | None = None,
    now: datetime | None = None,
    site_image: str = "",
    dated_elsewhere: bool = False,
) -> Extraction:
    """Extract one article from an HTML page, with the source's selectors that matched nothing
    there (`dated_elsewhere`: the caller has its time).

    Each field takes the first plausible candidate of a cascade: the source's rules, then the
    page's own reading (visible headline, the dateline and byline under it, JSON-LD, OpenGraph,
    meta tags, <time>), then trafilatura's byline reader and htmldate; a date is plausible
    between 1990 and `now`, the fetch time (default: the current time). The body comes from
    trafilatura, cleaned of the title, date lines and trailers; the lead image is the first real
    picture that is not `site_image`, the listing's own (images.py). Raises `NotHTML` for a feed
    or for what has no markup at all.
    """
    # Without a source, the page's time zone is unknown (a day alone is then noon UTC).
    zone = ZoneInfo(source.timezone) if source else None
    source = source or Source(key="", url=url)
    now = now or datetime.now(UTC)
    html = cap_attributes(html)
    # One lxml parse serves metadata, date lines and the body; a source's CSS selectors alone
    # need BeautifulSoup, and what they remove is gone before the rest is read.
    tree, whole = parse_page(html, url=url)
    meta = read_metadata(tree)
    image = lead_image(
        tree, url=url, site_image=site_image
    )  # before the body's captions and chrome are cut away
    picked = pick(html, source.selectors)
    if picked.html is not None:
        tree, whole = parse_page(picked.html, url=url)
    # Read before the scripts go: a page rendered in the browser ships its story in them.
    # (Only kept here; decoded only for a page whose markup turns out to hold next to no story.)
    shipped = (
        [el.text for el in tree.iter("script") if el.text and _NEXT in el.text]
        if _NEXT in html
        else []
    )
    _drop_code(tree)
    captions = drop_captions(tree)
    reveal_hidden_story(tree)
    raw, heading = (picked.title, None) if picked.title else choose_headline(tree, meta)
    title = _title(raw, meta, source, url=url)
    dated = _dateline(tree, source, picked, title=title, now=now)
    shown = heading if heading is not None else find_heading(tree, title)
    published = dated[0] if dated else _published(shown, meta, source, now=now)
    # The cascade's last resort: htmldate, then nothing. A time the caller has (a feed item's)
    # wins anyway, and htmldate's search is a sixth of a feed item's whole reading.
    if not (published or dated_elsewhere):
        published = guess_date(html, url=url, zone=zone, now=now)
    author = choose_authors(
        tree,
        ruled=(dated[1] if dated else "") or picked.author,
        declared=meta.authors,
        metas=meta.meta_authors,
        headline=shown,
        site_names=(meta.site_name, source.name, *_site_labels(url)),
    )
    # Only now, as an author's box with its "follow" button or a heading above a form is
    # still read for the byline and the headline: sign-up boxes are no body text.
    drop_signup_boxes(tree)
    drop_teaser_cards(tree)
    body = _body(
        tree if whole else None, picked, url=url, source=source, title=title, shipped=shipped
    )
    body = drop_notices(drop_headline_repeats(body, (title, raw, *meta.titles)))
    picked_lead = picked.lead if source.selectors.lead else None
    lead = choose_lead(tree, meta, picked_lead, source, title=title, body=body, captions=captions)
    article = Article(
        url=url,
        canonical_url=_canonical(meta.canonical, url=url, source=source),
        title=title,
        published=published,
        author=author,
        lang=detect_language(f"{title}\n{body}", declared=meta.lang or source.lang or ""),
        lead=lead,
        body=drop_author_lines(body, author),
        image=image,
    )
    # Known from the one reading of the page: check-source and the poll log name them.
    return Extraction(article, missed=picked.missed)


def article_from_link(link: Link, *, source: Source, now: datetime | None = None) -> Article:
    """Build an article from a feed item that carries the full text (Atom content, yandex:full-text)."""
    if link.content_html:
        wrapped = f"<html><body><article><h1>{escape(link.title, quote=False)}</h1>{link.content_html}</article></body></html>"
        article = extract_article(
            wrapped,
            url=link.url,
            source=source,
            now=now,
            site_image=link.site_image,
            dated_elsewhere=link.published is not None,
        )
        body = article.body or html_to_text(link.content_html)
    else:
        body = ""
        article = Article(url=link.url, canonical_url=link.canonical_url, title=link.title)
    summary = clean_text(html_to_text(link.summary)) if link.summary else ""
    lead, body = _feed_lead(summary, title=link.title, body=body)
    return Article(
        url=link.url,
        canonical_url=link.canonical_url,
        title=link.title or article.title,
        published=link.published or article.published,
        author=normalize_author(link.author) if link.author else article.author,
        lang=detect_language(f"{link.title}\n{body or lead}", declared=source.lang or ""),
        # The site's own lines are cut from the feed's lead as from a page's (extract_article).
        lead=strip_lines(lead, trailers=source.trailers, drop=source.drop_lines),
        body=strip_lines(body, trailers=source.trailers, drop=source.drop_lines),
        image=link.image or _own_image(article.image, link),
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
    if body and folded(body).startswith(folded(summary).rstrip(".… ")):
        return "", body  # An excerpt of the opening paragraph, not a lead of its own.
    return summary, body


def merge_link(article: Article, link: Link) -> Article:
    """Fill what the page lacked from what the feed or listing said about it."""
    return replace(
        article,
        title=article.title or link.title,
        published=article.published or link.published,
        author=article.author or normalize_author(link.author),
        lead=article.lead or (clean_text(html_to_text(link.summary)) if link.summary else ""),
        image=_own_image(article.image, link) or link.image,
    )


def _own_image(image: str, link: Link) -> str:
    """Return the page's image unless it is the site's own, which the listing shows for itself."""
    return "" if image and link.site_image and same_image(image, link.site_image) else image


def _drop_code(tree: HtmlElement) -> None:
    """Remove scripts and styles, read by nothing after the metadata, keeping JSON-LD.

    trafilatura discards them too, but only after copying the tree three times over: on the Zyte
    set, removing the large inline scripts of news pages first saves about 0.8 ms of the body's
    10 ms a page, with the same body on every page. It reads JSON-LD (a fallback takes the
    articleBody), so those scripts stay.
    """
    for el in list(tree.getroottree().getroot().iter("script", "style")):
        if el.tag == "style" or "json" not in str(el.get("type") or "").lower():
            remove_keeping_tail(el)  # text after a script is page text


def _title(raw: str, meta: Metadata, source: Source, *, url: str) -> str:
    """Return the headline without a trailing date or site name ("… | TASS", "… - Digg")."""
    title = _TRAILING_DATE.sub("", raw)
    site_names = {n.casefold() for n in (meta.site_name, source.name) if n}
    # The site's name as its domain spells it: "digg" of digg.com, "morebikes" of morebikes.co.uk,
    # "golemde" of golem.de.
    domain = _site_labels(url)
    parts = _TITLE_SEPARATORS.split(title)
    last = parts[-1].casefold()
    named = last in site_names or re.sub(r"\W", "", last) in domain
    if len(parts) > 1 and (named or len(last) <= 3):
        title = title[: title.rfind(parts[-1])].rstrip(" |–—-")
    return clean_inline(title)


def _dateline(
    tree: HtmlElement, source: Source, picked: Picked, *, title: str, now: datetime
) -> tuple[datetime, str] | None:
    """Return (time, author) from the source's date selector or date-line pattern, if either matches.

    Without a selector the pattern is searched in the text outside page chrome from the headline
    on, since sidebars of latest news carry other stories' dates (odkb-csto.org); failing that,
    the nearest match above the headline (eng.belta.by prints the date over the title).
    """
    zone = ZoneInfo(source.timezone)
    if source.selectors.date:
        if not picked.date_found:
            return None
        if picked.date_stamp:
            try:
                return parse_machine_date(
                    picked.date_stamp, zone=zone, trust_offset=source.trust_offset
                ), ""
            except ValueError:
                pass
        for pattern in (source.dateline,) if source.dateline else GENERIC_DATELINES:
            hit = next(_plausible(picked.date_text, pattern, zone=zone, now=now), None)
            if hit:
                return hit
        return None
    if not source.dateline:
        return None
    text = content_text(tree)
    start = max(text.find(title), 0) if title else 0
    after = next(_plausible(text[start:], source.dateline, zone=zone, now=now), None)
    before = list(_plausible(text[:start], source.dateline, zone=zone, now=now))
    return after or (before[-1] if before else None)


def _plausible(
    text: str, pattern: str, *, zone: ZoneInfo, now: datetime
) -> Iterator[tuple[datetime, str]]:
    """Yield the date lines in `text` whose time is plausible, in page order."""
    return (
        hit
        for hit in iter_datelines(text, pattern, zone=zone, now=now)
        if plausible(hit[0], now=now)
    )


def _published(
    shown: HtmlElement | None, meta: Metadata, source: Source, *, now: datetime
) -> datetime | None:
    """Return the publication time that the metadata and the dateline under `shown` agree on."""
    printed = read_dateline(shown) if shown is not None else None
    zone = ZoneInfo(source.timezone)
    stamps = []
    for raw in meta.dates:
        # "2019-11-18 17:19:53 GMT" (digg.com's <time>): ISO but for the zone's name.
        raw = _NAMED_UTC.sub(r"\1+00:00", raw.strip())
        try:
            moment = parse_machine_date(raw, zone=zone, trust_offset=source.trust_offset)
        except ValueError:
            continue
        if plausible(moment, now=now):
            written = _WRITTEN_OFFSET.search(raw) if source.trust_offset else None
            shown = fixed_zone(written[0]) if written else None
            stamps.append((moment, moment.astimezone(shown or zone)))
    moment = pick_time(printed, stamps, zone=zone)
    if moment is not None and not plausible(moment, now=now):
        return stamps[0][0] if stamps else None
    return moment


def _body(
    tree: HtmlElement | None,
    picked: Picked,
    *,
    url: str,
    source: Source,
    title: str,
    shipped: Sequence[str] = (),
) -> str:
    """Return the article body as paragraphs, cleaned of titles, date lines and trailers.

    `shipped` are the page's scripts that push a hydration payload, read for the story when the
    page's own markup holds next to nothing.
    """
    # A body selector that finds nothing means another template of the site (belta.by's
    # /special/ pages), not an empty article: generic extraction takes over.
    if picked.body is not None:
        text = picked.body
    else:
        text = extract_body(tree, url=url) if tree is not None else ""
        if shipped and len(text) < _FEW_CHARACTERS and (story := payload_html(shipped)):
            page = f"<html><body><article>{story}</article></body></html>"
            text = extract_body(page, url=url) or text
    text = clean_text(text)
    # A line that is only the date line goes; a paragraph that opens with one ("МОСКВА,
    # 27 декабря. /ТАСС/. …", however short) is the story.
    drop = source.drop_lines + ((f"(?:{source.dateline})\\W*",) if source.dateline else ())
    text = strip_lines(text, trailers=source.trailers, drop=drop)
    first, _, rest = text.partition("\n\n")
    if title and (same_text(first, title) or same_text(_TRAILING_DATE.sub("", first), title)):
        text = rest
    return text


def _canonical(declared: str, *, url: str, source: Source) -> str:
    """Return the page's canonical URL when it is on the same site, else the fetched URL."""
    try:
        candidate = urljoin(url, declared) if declared else url
    except ValueError:
        candidate = url  # a canonical URL that cannot be parsed ("http://[::1") is absent
    rewrites = source.url_rewrites
    if candidate != url and _site(candidate) == _site(url):
        found = canonical_or_none(candidate, rewrites=rewrites)
        if found is not None:
            return found
    return canonical_or_none(url, rewrites=rewrites) or url


def _site_labels(url: str) -> set[str]:
    """Return the ways a site's name is spelt by its host: long labels, and the host unbroken."""
    host = _site(url)
    return {label for label in host.split(".") if len(label) > 3} | {re.sub(r"\W", "", host)}


def _site(url: str) -> str:
    """Return a URL's host without a leading www. ('' for a URL that cannot be parsed)."""
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""
