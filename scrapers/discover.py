"""Pure discovery: article links from RSS/Atom feeds and from HTML listing pages, each unreadable
item skipped with its reason rather than failing the rest."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser
from bs4 import BeautifulSoup, Tag

from . import userregex
from .dates import parse_machine_date
from .errors import NoLinksFound, NotAFeed, PatternTooSlow
from .feedscan import PrunedFeed, as_utf8, feed_head, prune_feed
from .images import Candidate, absolute, choose_image, pixels
from .markup import cap_attributes, cap_attributes_bytes, fix_charrefs, fix_declaration
from .models import Link, Listing, Skipped, Source
from .normalize import canonical_or_none, canonical_url, clean_inline, scrub, url_key

# feedparser asks xml.sax for libxml2's driver before expat on every parse; the driver is not
# installed, and an import that fails is not remembered, so each feed read searched every folder
# of sys.path for it again: 51 µs a parse against 3 (about 1 % of a one-new-item poll's parsing).
# expat, the parser every feed met anyway, is asked for directly.
feedparser.api.PREFERRED_XML_PARSERS = []


def links_from_feed(
    content: bytes, *, source: Source, skip: frozenset[str] = frozenset()
) -> tuple[Link, ...]:
    """Return the feed's items, newest first as the feed lists them. Raises NotAFeed, NoLinksFound."""
    return read_feed(content, source=source, skip=skip).links


def read_feed(content: bytes, *, source: Source, skip: frozenset[str] = frozenset()) -> Listing:
    """Return the feed's links, newest first as the feed lists them, and the items skipped as
    unreadable (a link that is no URL). Raises NotAFeed, NoLinksFound.

    Items whose URL identity is in `skip` (already archived) come back as bare links, url
    only, without feedparser reading them: a changed feed usually adds one item to fifty.
    """
    content = as_utf8(content)
    head = feed_head(content, 512)
    if not head.startswith(b"<") or b"<html" in head:
        raise NotAFeed(f"{source.url}: not an RSS or Atom feed")
    content = fix_charrefs(fix_declaration(cap_attributes_bytes(content)))
    pruned = _pruned(content, source=source, skip=skip)
    parsed = _parse(pruned.document if pruned else content, source=source)
    if pruned and len(parsed.entries) != pruned.kept:
        # feedparser saw the items otherwise than lxml did: read the whole feed after all.
        pruned = None
        parsed = _parse(content, source=source)
    if parsed.get("bozo") and not parsed.entries and not pruned:
        reason = parsed.get("bozo_exception")
        raise NotAFeed(f"{source.url}: not a valid RSS or Atom feed ({reason})")
    if not parsed.get("version") and not parsed.entries and not pruned:
        raise NotAFeed(f"{source.url}: not an RSS or Atom feed")
    zone = ZoneInfo(source.timezone)
    # The feed's own <image> is the site's logo: an item showing it shows no picture of its own.
    logo = absolute(str((parsed.feed.get("image") or {}).get("href") or ""), base=source.url)
    read = (
        _feed_link(entry, source=source, zone=zone, site_image=logo) if entry.get("link") else None
        for entry in parsed.entries
    )
    items = list(_in_feed_order(read, pruned, source=source))
    skipped = tuple(item for item in items if isinstance(item, Skipped))
    every = _unique(item for item in items if isinstance(item, Link))
    links = tuple(link for link in every if _wanted(link.url, link.canonical_url, source))
    if not links:
        raise _feed_matched_none(source, every, skipped)
    return Listing(links, skipped)


def _feed_matched_none(
    source: Source, links: tuple[Link, ...], skipped: tuple[Skipped, ...]
) -> NoLinksFound:
    """Return the error for a feed with no article link, naming two of the links it does have."""
    seen = [f"{len(skipped)} unreadable: {skipped[0].reason}"] if skipped else []
    if links:  # what the pattern was meant to match: the operator corrects it from these
        such = " and ".join(link.url for link in links[:2])
        seen.insert(0, f"{len(links)} item{'s' * (len(links) != 1)} with links such as {such}")
    return NoLinksFound(
        f"{source.url}: the feed has no items"
        + (
            f" matching link_pattern {userregex.as_written(source.link_pattern)}"
            if source.link_pattern
            else ""
        )
        + (" with an http(s) link" if links and not source.link_pattern else "")
        + (f" ({'; '.join(seen)})" if seen else "")
    )


def links_from_listing(html: str, *, base_url: str, source: Source) -> tuple[Link, ...]:
    """Return the article links of a listing page in page order. Raises NoLinksFound."""
    return read_listing(html, base_url=base_url, source=source).links


def read_listing(html: str, *, base_url: str, source: Source) -> Listing:
    """Return the article links of a listing page in page order, and the links matching
    link_pattern that are no URL (a bad port or host). Raises NoLinksFound."""
    if not source.link_pattern:
        raise NoLinksFound(f"{source.url}: an html source needs a link_pattern")
    soup = BeautifulSoup(cap_attributes(html), "lxml")
    shared = _declared_image(soup, base_url)
    found: dict[str, Link] = {}
    skipped: dict[str, Skipped] = {}
    missed: list[str] = []  # only to tell the operator what the page links to, when nothing matches
    for anchor in soup.find_all("a", href=True):
        url = _absolute(str(anchor["href"]).strip(), base_url)
        canonical = canonical_or_none(url, rewrites=source.url_rewrites)
        if canonical is None:
            # An unrelated link with a bad port or host is no concern; an article link is noted.
            if _looks_wanted(url, source.link_pattern):
                skipped.setdefault(url, Skipped(url, "the link is not a valid URL"))
            continue
        if not (_matches(url, source.link_pattern) or _matches(canonical, source.link_pattern)):
            missed.append(url)
            continue
        text, key = _anchor_text(anchor), url_key(canonical)
        # Listings link one article several times (picture, headline, "more"), even under
        # several spellings (http://www. and https:// on odkb-csto.org); keep the longest text.
        if key not in found or len(text) > len(found[key].title):
            found[key] = Link(
                url=found[key].url if key in found else url,
                canonical_url=canonical,
                title=text,
                site_image=shared,
            )
    links = tuple(found.values())
    if not links:
        raise _matched_none(source, base_url, missed)
    return Listing(links, tuple(skipped.values()))


def _matched_none(source: Source, base_url: str, urls: list[str]) -> NoLinksFound:
    """Return the error for a listing none of whose links matches, naming one it does have."""
    host = urlsplit(base_url).hostname
    own = list(dict.fromkeys(url for url in urls if urlsplit(url).hostname == host))
    if own:
        # The deepest address is the likeliest article: what the pattern was meant to match.
        sample = max(own, key=lambda url: urlsplit(url).path.rstrip("/").count("/"))
        seen = f"{len(own)} link{'s' * (len(own) != 1)} to the page's own host, such as {sample}"
    else:
        seen = (
            "the page has no links to its own host: is the list drawn by JavaScript? try its feed"
        )
    return NoLinksFound(
        f"{source.url}: no links match link_pattern {userregex.as_written(source.link_pattern)} ({seen})"
    )


def _parse(content: bytes, *, source: Source):
    """Return feedparser's reading of a feed; its own failures make the feed unreadable."""
    try:
        return feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a library failure on hostile bytes is the feed's
        raise NotAFeed(
            f"{source.url}: the feed cannot be read ({type(exc).__name__}: {exc})"
        ) from exc


def _absolute(href: str, base_url: str) -> str:
    """Return a link made absolute against the page, without its fragment (as given if it
    cannot be parsed)."""
    try:
        return urljoin(base_url, href).split("#", 1)[0]
    except ValueError:
        return href


def _pruned(content: bytes, *, source: Source, skip: frozenset[str]) -> PrunedFeed | None:
    """Cut the skipped items out of the feed; give None when nothing is to be cut."""
    if not skip:
        return None

    def settled(url: str) -> bool:
        # An unparseable URL is left to feedparser's reading.
        canonical = canonical_or_none(url, rewrites=source.url_rewrites)
        return canonical is not None and url_key(canonical) in skip

    pruned = prune_feed(content, settled)
    return pruned if pruned and pruned.kept < len(pruned.order) else None


def _in_feed_order(read, pruned: PrunedFeed | None, *, source: Source):
    """Yield what feedparser read (None for an item without a link), with bare links for the
    cut items in their places."""
    if pruned is None:
        yield from read
        return
    for url in pruned.order:
        yield (
            next(read)
            if url is None
            else Link(url=url, canonical_url=canonical_url(url, rewrites=source.url_rewrites))
        )


def _wanted(url: str, canonical: str, source: Source) -> bool:
    """Tell whether a feed item's link is an article link by the source's link_pattern."""
    return _matches(canonical, source.link_pattern) or _matches(url, source.link_pattern)


def _declared_image(soup: BeautifulSoup, base_url: str) -> str:
    """Return the share image a listing page declares for itself (og:image, twitter:image), or ""."""
    for name in ("og:image", "og:image:secure_url", "twitter:image"):
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        found = absolute(str(tag.get("content") or ""), base=base_url) if tag else ""
        if found:
            return found
    return ""


def _media_candidate(media) -> Candidate:
    """Return a media:content or media:thumbnail element as a picture candidate of the feed."""
    width, height = (pixels(str(media.get(side) or "")) for side in ("width", "height"))
    return Candidate(str(media.get("url") or ""), width, height, "feed")


def _entry_image(entry, *, base: str, site_image: str) -> str:
    """Return a feed item's picture: media:content, media:thumbnail, then an image enclosure."""
    candidates = [
        _media_candidate(m)
        for m in entry.get("media_content") or ()
        if str(m.get("medium") or "image") == "image"
        and str(m.get("type") or "image/").startswith("image/")
    ]
    candidates += [_media_candidate(m) for m in entry.get("media_thumbnail") or ()]
    candidates += [
        Candidate(str(e.get("href") or ""), where="feed")
        for e in entry.get("enclosures") or ()
        if str(e.get("type") or "").startswith("image/")
    ]
    return choose_image(candidates, base=base, site=site_image)


def _feed_link(entry, *, source: Source, zone: ZoneInfo, site_image: str = "") -> Link | Skipped:
    """Turn one feedparser entry into a Link, or a Skipped item with the reason."""
    url = str(entry.get("link", "")).strip()
    try:
        return _entry_link(entry, url, source=source, zone=zone, site_image=site_image)
    except ValueError as exc:
        return Skipped(url, f"the link is not a valid URL ({exc})")
    except PatternTooSlow:
        raise  # the source's config, not this item: the poll fails naming the key
    except Exception as exc:  # noqa: BLE001 - one unreadable item must not hide the others
        return Skipped(url, f"unexpected {type(exc).__name__} reading the item: {exc}")


def _entry_link(entry, url: str, *, source: Source, zone: ZoneInfo, site_image: str) -> Link:
    """Build the Link of one feed entry. Raises ValueError for a link that is no URL."""
    content = ""
    if entry.get("content"):
        content = str(entry["content"][0].get("value", ""))
    # tass.ru's aggregator feed carries the whole article in <yandex:full-text>.
    content = str(entry.get("yandex_full-text", "")) or content
    return Link(
        url=url,
        canonical_url=canonical_url(url, rewrites=source.url_rewrites),
        title=clean_inline(str(entry.get("title", ""))),
        published=_entry_date(entry, source=source, zone=zone),
        summary=scrub(str(entry.get("summary", ""))),
        author=clean_inline(str(entry.get("author", ""))),
        content_html=scrub(content),
        image=_entry_image(entry, base=url, site_image=site_image),
        site_image=site_image,
    )


def _entry_date(entry, *, source: Source, zone: ZoneInfo) -> datetime | None:
    """Return the entry's publication time, read from the raw string so a bad offset can be fixed."""
    for field in ("published", "updated", "created"):
        raw = entry.get(field)
        if raw:
            try:
                return parse_machine_date(str(raw), zone=zone, trust_offset=source.trust_offset)
            except ValueError:
                continue
    return None


def _anchor_text(anchor: Tag) -> str:
    """Return an anchor's visible text, or its title attribute when it wraps only an image."""
    return clean_inline(anchor.get_text(" ")) or clean_inline(str(anchor.get("title") or ""))


def _matches(url: str, pattern: str | None) -> bool:
    """Return True when the URL is http(s) and matches the pattern (if any)."""
    if not _looks_http(url):
        return False
    return pattern is None or userregex.search("link_pattern", pattern, url)


def _looks_wanted(url: str, pattern: str | None) -> bool:
    """Tell whether a link that is no valid URL would have been an article link."""
    return url.lower().startswith(("http://", "https://")) and _matches(url, pattern)


def _looks_http(url: str) -> bool:
    """Tell whether a URL's scheme is http or https."""
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return url.lower().startswith(("http://", "https://"))


def _unique(links) -> tuple[Link, ...]:
    """Return links once per URL identity, first occurrence kept."""
    seen: dict[str, Link] = {}
    for link in links:
        seen.setdefault(url_key(link.canonical_url), link)
    return tuple(seen.values())
