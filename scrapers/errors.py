"""Errors raised by the scrapers package.

    ScrapeError
    ├── FetchError                 the site could not be read
    │   ├── BlockedAddress         the target resolves to a private address, or a bad scheme
    │   ├── RobotsDisallowed       robots.txt forbids the URL for our user agent
    │   ├── ResponseTooLarge       the decoded body passed the configured cap
    │   ├── HTTPStatusError        the server answered with an error status
    │   └── DeadlineExceeded       the whole request took longer than the timeout
    └── ParseError                 the content could not be understood
        ├── NotHTML                the page is not an HTML document
        ├── NotAFeed               the feed is not RSS or Atom
        ├── NoLinksFound           a listing or feed yielded no article links
        ├── TooSlowToParse         parsing passed its deadline; its worker process was killed
        ├── TooLargeToParse        parsing needed more memory than a worker may take
        ├── PatternTooSlow         an operator's regex (link_pattern, url_rewrites, drop_lines,
        │                          dateline) passed its match timeout on what a site served
        └── ParserFailed           the parser raised an unexpected error (logged), or its
                                   worker process died

Every error carries a one-line message a person can act on.
"""

from __future__ import annotations


class ScrapeError(Exception):
    """Base of every scraping failure."""


class FetchError(ScrapeError):
    """The site could not be read."""

    def __init__(self, message: str, *, url: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.url = url
        self.retryable = retryable


class BlockedAddress(FetchError):
    """The target resolves to a private, loopback or link-local address, or uses a bad scheme."""


class RobotsDisallowed(FetchError):
    """robots.txt forbids the URL for our user agent."""


class ResponseTooLarge(FetchError):
    """The decoded body passed the configured cap."""


class DeadlineExceeded(FetchError):
    """The whole request took longer than the configured timeout."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(
        self, message: str, *, url: str = "", status: int, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url, retryable=status == 429 or status >= 500)
        self.status = status
        self.retry_after = retry_after

    @property
    def asked_wait(self) -> float | None:
        """Return the seconds the server asked to be left alone (a 429 or 503's Retry-After)."""
        # Only these two statuses mean "come back later"; a 404 that sends the header is a 404.
        return self.retry_after if self.status in (429, 503) else None


class ParseError(ScrapeError):
    """The content could not be understood."""


class NotHTML(ParseError):
    """The page is not an HTML document."""


class NotAFeed(ParseError):
    """The feed is not RSS or Atom."""


class NoLinksFound(ParseError):
    """A listing or feed yielded no article links."""


class TooSlowToParse(ParseError):
    """Parsing passed its deadline; its worker process was killed."""


class TooLargeToParse(ParseError):
    """Parsing needed more memory than a worker may take."""


class PatternTooSlow(ParseError):
    """An operator's regex passed its match timeout on what a site served (naming the key)."""


class ParserFailed(ParseError):
    """The parser raised an unexpected error (logged with its traceback), or its worker died."""
