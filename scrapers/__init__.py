"""Fetch, discover and extract articles. Knows HTTP and HTML; nothing about SQLite or Telegram."""

from __future__ import annotations

from importlib import import_module

# Each public name and the module that defines it, imported on first use (PEP 562): a command
# that needs only the data types or the errors does not load the HTML parsers, CSS selectors
# and date grammars (~170 ms) that discovery and extraction need.
_HOMES = {
    "Article": "models",
    "BlockedAddress": "errors",
    "DeadlineExceeded": "errors",
    "FetchError": "errors",
    "HTTPStatusError": "errors",
    "Link": "models",
    "NoLinksFound": "errors",
    "NotAFeed": "errors",
    "NotHTML": "errors",
    "Page": "models",
    "ParseError": "errors",
    "ParserFailed": "errors",
    "PatternTooSlow": "errors",
    "ResponseTooLarge": "errors",
    "RobotsDisallowed": "errors",
    "ScrapeError": "errors",
    "Selectors": "models",
    "Source": "models",
    "TooLargeToParse": "errors",
    "TooSlowToParse": "errors",
    "article_from_link": "extract",
    "canonical_url": "normalize",
    "extract_article": "extract",
    "links_from_feed": "discover",
    "links_from_listing": "discover",
    "merge_link": "extract",
    "text_fingerprint": "models",
    "url_key": "normalize",
}
__all__ = list(_HOMES)


def __getattr__(name: str) -> object:
    """Return a public name, importing the module that defines it the first time."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # later look-ups find it without this hook
    return value


def __dir__() -> list[str]:
    """List the public names too, before any is loaded."""
    return sorted({*globals(), *_HOMES})
