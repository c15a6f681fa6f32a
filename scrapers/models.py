"""The scrapers' vocabulary: what a source is, what discovery yields, what extraction returns."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SourceKind = Literal["html", "feed"]


@dataclass(frozen=True, slots=True)
class Selectors:
    """Optional CSS selectors that override generic extraction for one site."""

    title: str | None = None
    date: str | None = None
    author: str | None = None
    lead: str | None = None
    body: str | None = None
    remove: tuple[str, ...] = ()

    def css_of(self, name: str) -> str:
        """Return the CSS text of the one-element selector `name` ("" where unset or unknown)."""
        # A stored note may name a selector of an older config; `remove` is a list, never one.
        value = getattr(self, name, None) if name != "remove" else None
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Source:
    """One watched site or feed and the rules for reading its pages."""

    key: str
    url: str
    name: str = ""
    kind: SourceKind = "html"
    link_pattern: str | None = None
    lang: str | None = None
    timezone: str = "UTC"
    every_seconds: int = 600
    backfill: int = 0
    fetch_pages: bool = True
    robots: bool = True
    # A regular expression with named groups (day, month, year, hour, minute, author) that finds
    # the publication line in the page text; it wins over page metadata when it matches.
    dateline: str | None = None
    # False where a site prints a wrong UTC offset: the wall time is read in `timezone` instead.
    trust_offset: bool = True
    trailers: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    url_rewrites: tuple[tuple[str, str], ...] = ()
    selectors: Selectors = field(default_factory=Selectors)
    max_silence_seconds: int | None = None
    # Older listing or feed pages, for backfill: a URL template with {page} (e.g. "?PAGEN_1={page}").
    pages: str | None = None
    # How long after discovery an article is re-read now and then to catch corrections (0: never).
    recheck_seconds: int = 6 * 3600
    headers: tuple[tuple[str, str], ...] = ()
    # A new item whose page answers 404 or 410 is tried again at each poll for this long (an
    # official site often lists an item before its page answers), then given up (0: at once).
    missing_page_wait_seconds: int = 6 * 3600
    # What becomes of an item whose page never answered: "archive" (kept from its listing, not
    # posted) or "post" (posted with what the listing said, its title).
    missing_page: str = "archive"

    @property
    def display_name(self) -> str:
        """Return the name readers see, falling back to the key."""
        return self.name or self.key


@dataclass(frozen=True, slots=True)
class Link:
    """One candidate article found on a listing page or in a feed."""

    url: str
    canonical_url: str
    title: str = ""
    published: datetime | None = None
    summary: str = ""
    author: str = ""
    # Full article HTML when the feed carries it (Atom content, yandex:full-text).
    content_html: str = ""
    # The item's picture (media:content, media:thumbnail, an image enclosure), checked already.
    image: str = ""
    # The picture the listing page or feed declares for itself: shown with every article, so an
    # article's image equal to it is the site's default, not the article's.
    site_image: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A listed item that could not be read, and why."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class Listing:
    """What a feed or listing page lists: its article links, and the items skipped as unreadable."""

    links: tuple[Link, ...]
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched HTTP response, decoded, with what conditional GET needs next time."""

    url: str
    status: int
    content: bytes
    text: str
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """Return True when the server answered 304 Not Modified."""
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Article:
    """One extracted article; every datetime is timezone-aware UTC."""

    url: str
    canonical_url: str
    title: str
    published: datetime | None = None
    author: str = ""
    lang: str = ""
    lead: str = ""
    body: str = ""
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    summary: str = ""
    image: str = ""  # the lead image, an absolute http(s) URL (scrapers/images.py), or ""

    @property
    def content_hash(self) -> str:
        """Return the SHA-256 of the normalised body (the title when there is no body)."""
        return text_fingerprint(self.body or self.title)


@dataclass(frozen=True, slots=True)
class Extraction:
    """An article read from a page, and the source's named selectors that matched nothing there."""

    article: Article
    # Of title, date, author, lead and body (set ones only): each left to generic extraction.
    missed: tuple[str, ...] = ()


def text_fingerprint(text: str) -> str:
    """Return a hash that ignores case, Unicode form and whitespace differences."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How politely and how defensively to fetch."""

    user_agent: str = "presswatch/0.1"
    timeout: float = 20.0
    min_delay_per_host: float = 1.0
    allow_private_addresses: bool = False
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 2.0
    # The longest Retry-After honoured inside a poll, as long as a read may take (httpx's read
    # timeout is capped at 10 s): a longer one would hold the whole round (`once` waits for every
    # poll before it posts), so the poll fails as rate-limited and the source waits that long.
    max_retry_wait: float = 10.0
    robots_ttl: float = 3600.0
    # Parsing what was fetched, in the sandbox's worker processes (scrapers/sandbox.py): the
    # deadline of one document, and the memory a worker may take beyond its start.
    parse_timeout: float = 10.0
    parse_memory_mb: int = 512
