"""A failed connection is named by its cause (TLS, name resolution) and by the source's address."""

from __future__ import annotations

import asyncio
import socket
import ssl

import httpx
import pytest

from bot.ingest.failures import permanent_failure
from bot.ingest.health import advice
from scrapers import errors
from scrapers.fetch import Fetcher, FetchPolicy, make_client

URL = "https://site.example/feed.xml"
ROBOTS = "https://site.example/robots.txt"


class Sleeps:
    """Record requested sleeps (each one a retry) instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetch(url: str = URL, *, policy: FetchPolicy | None = None, sleeps: Sleeps | None = None):
    """Run one Fetcher.get (robots.txt first) with a fresh client."""
    policy = policy or FetchPolicy(allow_private_addresses=True, min_delay_per_host=0, retries=2)

    async def go():
        async with make_client(policy) as client:
            return await Fetcher(client, policy, sleep=sleeps or Sleeps()).get(url)

    return asyncio.run(go())


class Body(httpx.AsyncByteStream):
    """A response body streamed once, as from a socket (a Response made with content is read)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):
        yield self.data


class Failing(httpx.AsyncBaseTransport):
    """A transport that fails to connect to some URLs as httpcore does: while handling `cause`
    (respx would replace that chain with its own); other URLs answer 404."""

    def __init__(self, cause: OSError, *urls: str, then: bytes | None = None) -> None:
        self.cause, self.urls, self.then, self.calls = cause, set(urls), then, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) not in self.urls:
            return httpx.Response(404)
        self.calls += 1
        if self.then is not None and self.calls > 1:
            return httpx.Response(200, stream=Body(self.then))
        try:
            raise self.cause
        except OSError:
            raise httpx.ConnectError(str(self.cause), request=request)  # noqa: B904 - as httpcore


def fetch_through(transport: Failing, *, sleeps: Sleeps | None = None, policy=None):
    """Run one Fetcher.get of URL (robots.txt first) through a stub transport."""
    policy = policy or FetchPolicy(allow_private_addresses=True, min_delay_per_host=0, retries=2)

    async def go():
        async with httpx.AsyncClient(transport=transport) as client:
            return await Fetcher(client, policy, sleep=sleeps or Sleeps()).get(URL)

    return asyncio.run(go())


def test_https_to_a_plain_http_port_is_a_tls_failure_named_by_the_source(sites) -> None:
    """The ux14 walkthrough's source: https:// on the loopback plain-HTTP server (no network)."""
    url = f"{sites.base_url.replace('http://', 'https://')}/feed.xml"
    with pytest.raises(errors.FetchError) as caught:
        fetch(url)
    said = str(caught.value)
    assert said.startswith(f"{url}: fetching robots.txt of 127.0.0.1 failed: TLS handshake failed")
    assert "WRONG_VERSION_NUMBER" in said and "connection failed" not in said
    assert caught.value.retryable  # a connection error as before: never an article "for good"
    assert "seldom passes by itself" in advice(said) and "scheme and port" in advice(said)


def test_a_certificate_that_fails_verification_is_a_tls_failure() -> None:
    # Synthetic: the error Python's ssl module raises for a self-signed certificate.
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    transport = Failing(cause, URL)
    with pytest.raises(errors.FetchError, match=r"^https://site.example/feed.xml: TLS handshake"):
        fetch_through(transport)
    assert transport.calls == 3  # a certificate can lapse for an hour: retried, as before
    assert "certificate" in advice(f"{URL}: TLS handshake failed ({cause})")


def test_a_tls_failure_of_an_article_page_is_not_for_good() -> None:
    """review14c: a page that failed its handshake is tried again at the next poll, not posted
    from its listing as a page gone for good."""
    cause = ssl.SSLError(1, "[SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error")
    with pytest.raises(errors.FetchError) as caught:
        fetch_through(Failing(cause, URL), policy=FetchPolicy(min_delay_per_host=0, retries=0))
    assert "TLS handshake failed" in str(caught.value)
    assert not permanent_failure(caught.value)


def test_a_reset_raised_while_ssl_waited_for_data_is_a_dropped_connection() -> None:
    """review14c: the chain's root is ssl's flow-control error, not a refused handshake."""
    try:
        try:
            raise ssl.SSLWantReadError(2, "The operation did not complete (read)")  # synthetic
        except ssl.SSLWantReadError:
            raise ConnectionResetError(104, "Connection reset by peer")  # noqa: B904 - as anyio
    except ConnectionResetError as reset:
        cause = reset
    transport = Failing(cause, URL, then=b"<rss/>")
    assert fetch_through(transport).status == 200 and transport.calls == 2


def test_a_resolver_that_does_not_answer_is_told_as_this_machines_dns() -> None:
    said = f"{URL}: name not resolved (site.example: Temporary failure in name resolution)"
    assert "DNS resolver did not answer" in advice(said) and "spelling" not in advice(said)


def test_a_handshake_cut_short_is_a_dropped_connection_and_retried() -> None:
    cause = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")  # synthetic
    transport = Failing(cause, URL, then=b"<rss/>")
    assert fetch_through(transport).status == 200 and transport.calls == 2


def test_a_name_that_does_not_resolve_names_the_source_not_robots_txt() -> None:
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")  # synthetic
    with pytest.raises(errors.FetchError) as caught:
        fetch_through(Failing(cause, ROBOTS), policy=FetchPolicy(min_delay_per_host=0, retries=0))
    said = str(caught.value)
    assert said == (
        f"{URL}: fetching robots.txt of site.example failed: "
        "name not resolved (site.example: Name or service not known)"
    )
    assert caught.value.url == URL and caught.value.retryable
    assert "host name does not resolve" in advice(said) and "down, slow" not in advice(said)


def test_the_address_guard_names_an_unresolved_host_with_its_url(monkeypatch) -> None:
    async def resolve(host: str, port: int):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("scrapers.fetch._resolve", resolve)
    policy = FetchPolicy(min_delay_per_host=0, retries=0)
    with pytest.raises(errors.FetchError, match=r"^https://site.example/feed.xml: fetching robots"):
        fetch(policy=policy)


def test_a_refused_connection_is_still_a_passing_outage() -> None:
    policy = FetchPolicy(allow_private_addresses=True, min_delay_per_host=0, retries=0)
    with pytest.raises(errors.FetchError, match="connection failed") as caught:
        fetch("http://127.0.0.1:9/feed.xml", policy=policy)  # loopback; nothing listens on 9
    assert "down, slow or unreachable" in advice(str(caught.value))
