"""Fetch, discover and extract articles. Knows HTTP and HTML; nothing about SQLite or Telegram."""

from .discover import links_from_feed, links_from_listing
from .errors import (
    BlockedAddress,
    DeadlineExceeded,
    FetchError,
    HTTPStatusError,
    NoLinksFound,
    NotAFeed,
    NotHTML,
    ParseError,
    ParserFailed,
    PatternTooSlow,
    ResponseTooLarge,
    RobotsDisallowed,
    ScrapeError,
    TooLargeToParse,
    TooSlowToParse,
)
from .extract import article_from_link, extract_article, merge_link
from .models import Article, Link, Page, Selectors, Source, text_fingerprint
from .normalize import canonical_url, url_key

__all__ = [
    "Article",
    "BlockedAddress",
    "DeadlineExceeded",
    "FetchError",
    "HTTPStatusError",
    "Link",
    "NoLinksFound",
    "NotAFeed",
    "NotHTML",
    "Page",
    "ParseError",
    "ParserFailed",
    "ResponseTooLarge",
    "RobotsDisallowed",
    "ScrapeError",
    "Selectors",
    "Source",
    "PatternTooSlow",
    "TooLargeToParse",
    "TooSlowToParse",
    "article_from_link",
    "canonical_url",
    "extract_article",
    "links_from_feed",
    "links_from_listing",
    "merge_link",
    "text_fingerprint",
    "url_key",
]
