"""HTTP fetching: one shared httpx client, politeness, robots.txt, retries and safety limits.

This is the only module of the package that imports httpx.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from protego import Protego

from .encoding import CappedDecoder, decode_html
from .errors import (
    BlockedAddress,
    DeadlineExceeded,
    FetchError,
    HTTPStatusError,
    RobotsDisallowed,
)
from .models import FetchPolicy, Page

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def make_client(policy: FetchPolicy) -> httpx.AsyncClient:
    """Build the shared client: redirects capped, every hop checked by the address guard."""
    guard = _AddressGuard(allow_private=policy.allow_private_addresses)
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=policy.max_redirects,
        timeout=httpx.Timeout(min(policy.timeout, 10.0), connect=min(policy.timeout, 5.0)),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        # Only encodings we can inflate with a bound; see CappedDecoder.
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        event_hooks={"request": [guard]},
        transport=httpx.AsyncHTTPTransport(retries=1),
    )


class Fetcher:
    """Fetch pages through one client with per-host pacing, robots.txt and retries."""

    def __init__(
        self, client: httpx.AsyncClient, policy: FetchPolicy, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._client, self._policy, self._sleep = client, policy, sleep
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_next: dict[str, float] = {}
        self._robots: dict[str, tuple[float, Protego | None]] = {}

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Page:
        """Fetch one URL politely, retrying transient failures. Raises FetchError."""
        if robots:
            await self._check_robots(url)
        request_headers = dict(headers)
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return await self._paced(url, request_headers)
            except FetchError as exc:
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    asked = _asked_to_wait(exc)
                    if asked is exc:
                        raise
                    raise asked from exc
                attempt += 1
                log.info("retrying %s in %.1fs after: %s", url, wait, exc)
                await self._sleep(wait)

    def _retry_wait(self, exc: FetchError, attempt: int) -> float | None:
        """Return how long to wait before retrying, or None when the error is final."""
        if not exc.retryable or attempt >= self._policy.retries:
            return None
        backoff = self._policy.backoff * 2**attempt * (1 + random.random() / 2)
        server_wait = getattr(exc, "asked_wait", None)
        if server_wait is not None:
            if server_wait > self._policy.max_retry_wait:
                # Slept through, a long pause would hold the whole round: give up now, and the
                # source waits as asked (bot/ingest/health.py `next_try`).
                return None
            return max(server_wait, backoff)
        return backoff

    async def _paced(self, url: str, headers: dict[str, str]) -> Page:
        """Fetch with at most one request at a time per host, spaced by the host's delay."""
        host = urlsplit(url).hostname or ""
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self._host_next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                return await self._fetch_once(url, headers)
            finally:
                self._host_next[host] = time.monotonic() + self._host_delay(host)

    def _host_delay(self, host: str) -> float:
        """Return the pause between requests to a host: ours, or robots.txt's Crawl-delay if longer."""
        _, parser = self._robots.get(host, (0.0, None))
        crawl_delay = parser.crawl_delay(self._policy.user_agent) if parser else None
        return max(self._policy.min_delay_per_host, min(float(crawl_delay or 0), 60.0))

    async def _fetch_once(self, url: str, headers: dict[str, str]) -> Page:
        """Make one request under the whole-request deadline."""
        try:
            async with asyncio.timeout(self._policy.timeout):
                return await self._stream(url, headers)
        except TimeoutError as exc:
            raise DeadlineExceeded(
                f"{url}: no complete answer within {self._policy.timeout:g}s",
                url=url,
                retryable=True,
            ) from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError(
                f"{url}: more than {self._policy.max_redirects} redirects", url=url
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"{url}: timed out ({type(exc).__name__})", url=url, retryable=True
            ) from exc
        except httpx.TransportError as exc:
            raise _transport_error(url, exc) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"{url}: invalid URL ({exc})", url=url) from exc

    async def _stream(self, url: str, headers: dict[str, str]) -> Page:
        """Stream the body through the capped decoder and build a Page."""
        async with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            if response.status_code == 304:
                return Page(
                    url=final_url,
                    status=304,
                    content=b"",
                    text="",
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
            if response.status_code >= 400:
                raise HTTPStatusError(
                    f"{url}: HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                    url=url,
                    status=response.status_code,
                    retry_after=_retry_after(response.headers.get("retry-after")),
                )
            decoder = CappedDecoder(
                response.headers.get("content-encoding", ""), limit=self._policy.max_bytes, url=url
            )
            async for chunk in response.aiter_raw():
                decoder.feed(chunk)
            content = decoder.finish()
        content_type = response.headers.get("content-type", "")
        return Page(
            url=final_url,
            status=response.status_code,
            content=content,
            text=decode_html(content, content_type=content_type),
            content_type=content_type,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )

    async def _check_robots(self, url: str) -> None:
        """Raise RobotsDisallowed when the host's robots.txt forbids the URL for our agent."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        fetched_at, parser = self._robots.get(host, (-1e18, None))
        if time.monotonic() - fetched_at > self._policy.robots_ttl:
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            try:
                parser = await self._load_robots(robots_url)
            except FetchError as exc:
                # robots.txt is the first request to a host, so it meets DNS and TLS failures
                # first; the source's own address sends an operator the right way, not robots.txt.
                reason = str(exc).removeprefix(f"{robots_url}: ")
                raise type(exc)(
                    f"{url}: fetching robots.txt of {host} failed: {reason}",
                    url=url,
                    retryable=exc.retryable,
                ) from exc
            self._robots[host] = (time.monotonic(), parser)
        if parser is not None and not parser.can_fetch(url, self._policy.user_agent):
            raise RobotsDisallowed(f"{url}: disallowed by robots.txt for our user agent", url=url)

    async def _load_robots(self, robots_url: str) -> Protego | None:
        """Fetch and parse robots.txt; None (allow all) when it does not exist (RFC 9309, 4xx)."""
        try:
            page = await self._paced(robots_url, {})
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                return None
            raise FetchError(
                f"{robots_url}: robots.txt unavailable (HTTP {exc.status})",
                url=robots_url,
                retryable=True,
            ) from exc
        return Protego.parse(page.content.decode("utf-8", errors="replace"))


class _AddressGuard:
    """A request hook that refuses non-HTTP schemes and, unless allowed, non-public addresses."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def __call__(self, request: httpx.Request) -> None:
        """Check one request, including every redirect hop."""
        url = request.url
        if url.scheme not in ("http", "https"):
            raise BlockedAddress(f"{url}: only http and https are fetched", url=str(url))
        if self._allow_private:
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await _resolve(url.host, port)
        except socket.gaierror as exc:
            raise _unresolved(str(url), url.host, exc) from exc
        for address in addresses:
            if not address.is_global:
                raise BlockedAddress(
                    f"{url}: {url.host} resolves to non-public address {address} "
                    "(set fetch.allow_private_addresses = true to allow)",
                    url=str(url),
                )


async def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Return every address a host name resolves to."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


_NOT_TLS = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    ssl.SSLWantReadError,
    ssl.SSLWantWriteError,
    ssl.SSLSyscallError,
)


def _transport_error(url: str, exc: httpx.TransportError) -> FetchError:
    """Name a transport failure by its root cause: TLS, name resolution, or the connection."""
    # httpcore raises its error while handling the socket's or ssl's, so the root is the context;
    # a chain can loop (an error re-raised while handling itself), hence the seen set.
    cause: BaseException = exc
    seen = {id(exc)}
    while (inner := cause.__cause__ or cause.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        cause = inner
    # Named apart so that the advice fits: a refused handshake or certificate that lasts does not
    # pass by waiting. Still retried as any connection error (an alert from a server's TLS stack,
    # a certificate lapsing for an hour can pass), and never "gone for good": an article page that
    # failed so is tried again at the next poll, not posted from its listing. An EOF, or ssl's
    # flow-control errors a reset was raised while handling, are a dropped connection.
    if (
        isinstance(exc, httpx.ConnectError)
        and isinstance(cause, ssl.SSLError)
        and not isinstance(cause, _NOT_TLS)
    ):
        return FetchError(f"{url}: TLS handshake failed ({exc})", url=url, retryable=True)
    if isinstance(cause, socket.gaierror):
        return _unresolved(url, urlsplit(url).hostname or "", cause)
    return FetchError(
        f"{url}: connection failed ({exc or type(exc).__name__})", url=url, retryable=True
    )


def _unresolved(url: str, host: str, exc: socket.gaierror) -> FetchError:
    """Name a host name that does not resolve, with the resolver's reason (retried)."""
    return FetchError(f"{url}: name not resolved ({host}: {exc.strerror})", url=url, retryable=True)


def _asked_to_wait(exc: FetchError) -> FetchError:
    """Return `exc`, or for a server that asked to be left alone a while (429/503 with
    Retry-After), the same error saying it was rate-limited and for how long."""
    wait = exc.asked_wait if isinstance(exc, HTTPStatusError) else None
    if wait is None:
        return exc
    return HTTPStatusError(
        f"{exc}: rate-limited, asked to wait {round(wait)} s",
        url=exc.url,
        status=exc.status,
        retry_after=wait,
    )


_LONGEST_ASK = 365 * 86400.0  # seconds


def _retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header given in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        # Hundreds of digits are an infinite float, which no message or clock can count: a year
        # is as long as any ask is taken to be (health.max_backoff caps the wait lower still).
        return min(float(value), _LONGEST_ASK)
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # HTTP dates are GMT; "-0000" parses as naive
        return max(0.0, moment.timestamp() - time.time())
    except (TypeError, ValueError):
        return None
