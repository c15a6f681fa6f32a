"""The HTTP layer: conditional GET, caps, redirects, the address guard, retries, robots.txt."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import zlib

import httpx
import pytest
import respx

from scrapers import errors
from scrapers.fetch import Fetcher, FetchPolicy, make_client

URL = "https://site.example/news/1"


class Sleeps:
    """Record requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetch(
    url: str = URL, *, policy: FetchPolicy | None = None, sleeps: Sleeps | None = None, **kwargs
):
    """Run one Fetcher.get with a fresh client."""
    policy = policy or FetchPolicy(allow_private_addresses=True, min_delay_per_host=0)

    async def go():
        async with make_client(policy) as client:
            return await Fetcher(client, policy, sleep=sleeps or Sleeps()).get(url, **kwargs)

    return asyncio.run(go())


@respx.mock
def test_conditional_get_sends_validators_and_reports_304() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(304, headers={"ETag": '"v2"'}))
    page = fetch(etag='"v1"', last_modified="Mon, 16 May 2022 12:00:00 GMT", robots=False)
    sent = route.calls.last.request.headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Mon, 16 May 2022 12:00:00 GMT"
    assert page.not_modified and page.etag == '"v2"'


@respx.mock
def test_user_agent_and_accept_encoding_are_sent() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(200, text="<html></html>"))
    fetch(
        policy=FetchPolicy(
            user_agent="presswatch/9 (+ops@example.org)",
            allow_private_addresses=True,
            min_delay_per_host=0,
        ),
        robots=False,
    )
    headers = route.calls.last.request.headers
    assert headers["User-Agent"] == "presswatch/9 (+ops@example.org)"
    assert headers["Accept-Encoding"] == "gzip, deflate"


@respx.mock
def test_gzip_body_is_decoded() -> None:
    body = "<html><body>Привет</body></html>".encode()
    respx.get(URL).mock(
        return_value=httpx.Response(
            200,
            content=gzip.compress(body),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8"},
        )
    )
    assert "Привет" in fetch(robots=False).text


@respx.mock
def test_compression_bomb_stops_at_the_cap() -> None:
    bomb = zlib.compress(b"\0" * 50_000_000, 9)  # 50 MB of zeros in about 50 KB
    respx.get(URL).mock(
        return_value=httpx.Response(200, content=bomb, headers={"Content-Encoding": "deflate"})
    )
    policy = FetchPolicy(max_bytes=1_000_000, allow_private_addresses=True, min_delay_per_host=0)
    with pytest.raises(errors.ResponseTooLarge, match="larger than 1000000 bytes"):
        fetch(policy=policy, robots=False)


@respx.mock
def test_plain_body_over_the_cap_is_refused() -> None:
    respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 20_001))
    policy = FetchPolicy(max_bytes=20_000, allow_private_addresses=True, min_delay_per_host=0)
    with pytest.raises(errors.ResponseTooLarge):
        fetch(policy=policy, robots=False)


@respx.mock
def test_windows_1251_without_charset_header_is_decoded() -> None:
    html = '<html><head><meta charset="windows-1251"></head><body>Генеральный секретарь ОДКБ</body></html>'
    respx.get(URL).mock(
        return_value=httpx.Response(
            200, content=html.encode("cp1251"), headers={"Content-Type": "text/html"}
        )
    )
    assert "Генеральный секретарь ОДКБ" in fetch(robots=False).text


@respx.mock
def test_windows_1251_without_any_declaration_is_guessed() -> None:
    text = (
        "Генеральный секретарь ОДКБ провёл брифинг для журналистов в пресс-центре агентства. " * 5
    )
    respx.get(URL).mock(
        return_value=httpx.Response(
            200,
            content=f"<html><body>{text}</body></html>".encode("cp1251"),
            headers={"Content-Type": "text/html"},
        )
    )
    assert "Генеральный секретарь ОДКБ" in fetch(robots=False).text


@respx.mock
def test_more_than_five_redirects_fail() -> None:
    for i in range(7):
        respx.get(f"https://site.example/r{i}").mock(
            return_value=httpx.Response(302, headers={"Location": f"https://site.example/r{i + 1}"})
        )
    with pytest.raises(errors.FetchError, match="more than 5 redirects"):
        fetch("https://site.example/r0", robots=False)


@respx.mock
def test_redirect_to_a_private_address_is_refused_on_the_hop(monkeypatch) -> None:
    async def fake_resolve(host: str, port: int):
        return [
            ipaddress.ip_address(
                "169.254.169.254" if host == "metadata.example" else "93.184.216.34"
            )
        ]

    monkeypatch.setattr("scrapers.fetch._resolve", fake_resolve)
    respx.get(URL).mock(
        return_value=httpx.Response(302, headers={"Location": "http://metadata.example/latest"})
    )
    metadata = respx.get("http://metadata.example/latest").mock(return_value=httpx.Response(200))
    with pytest.raises(errors.BlockedAddress, match="non-public address 169.254.169.254"):
        fetch(policy=FetchPolicy(min_delay_per_host=0), robots=False)
    assert not metadata.called


def test_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(errors.BlockedAddress, match="allow_private_addresses"):
        fetch("http://127.0.0.1:9/x", policy=FetchPolicy(min_delay_per_host=0), robots=False)


def test_non_http_scheme_is_refused() -> None:
    with pytest.raises(errors.FetchError):
        fetch("file:///etc/passwd", robots=False)


@respx.mock
def test_server_errors_are_retried_with_backoff_then_succeed() -> None:
    route = respx.get(URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(200, text="<html>ok</html>"),
        ]
    )
    sleeps = Sleeps()
    page = fetch(sleeps=sleeps, robots=False)
    assert page.status == 200 and route.call_count == 3
    assert len(sleeps.calls) == 2 and sleeps.calls[1] > sleeps.calls[0]


@respx.mock
def test_client_errors_are_not_retried() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(404))
    with pytest.raises(errors.HTTPStatusError, match="HTTP 404") as caught:
        fetch(robots=False)
    assert route.call_count == 1 and caught.value.status == 404


@respx.mock
def test_retry_after_is_honoured() -> None:
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, text="<html></html>"),
        ]
    )
    sleeps = Sleeps()
    fetch(sleeps=sleeps, robots=False)
    assert sleeps.calls and sleeps.calls[0] >= 7


@respx.mock
def test_a_very_long_retry_after_gives_up_at_once() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "86400"}))
    with pytest.raises(errors.HTTPStatusError, match="429") as caught:
        fetch(robots=False)
    assert route.call_count == 1
    assert str(caught.value).endswith(": rate-limited, asked to wait 86400 s")
    assert caught.value.retry_after == 86400


@respx.mock
def test_a_retry_after_longer_than_a_read_is_not_slept_through() -> None:
    # Two minutes asked: the poll fails at once rather than holding the round (max 10 s inline).
    route = respx.get(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "120"}))
    sleeps = Sleeps()
    with pytest.raises(errors.HTTPStatusError, match="asked to wait 120 s"):
        fetch(sleeps=sleeps, robots=False)
    assert route.call_count == 1 and sleeps.calls == []


@respx.mock
def test_a_retry_after_of_hundreds_of_digits_fails_the_fetch_as_rate_limited() -> None:
    # float("9" * 400) is infinite: saying how long it asked for raised OverflowError instead.
    route = respx.get(URL).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "9" * 400})
    )
    with pytest.raises(errors.HTTPStatusError, match="asked to wait 31536000 s$"):
        fetch(robots=False)
    assert route.call_count == 1


@respx.mock
def test_a_retry_after_on_a_not_found_page_does_not_call_it_rate_limited() -> None:
    respx.get(URL).mock(return_value=httpx.Response(404, headers={"Retry-After": "120"}))
    with pytest.raises(errors.HTTPStatusError) as caught:
        fetch(robots=False)
    assert str(caught.value).endswith("HTTP 404 Not Found")


@respx.mock
def test_connection_errors_are_retried() -> None:
    route = respx.get(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, text="<p>x</p>")]
    )
    assert fetch(robots=False).status == 200 and route.call_count == 2


@respx.mock
def test_robots_txt_disallow_is_honoured_and_cached() -> None:
    robots = respx.get("https://site.example/robots.txt").mock(
        return_value=httpx.Response(
            200, text="User-agent: *\nDisallow: /news/\nAllow: /news/public/\n"
        )
    )
    page = respx.get(URL).mock(return_value=httpx.Response(200))
    policy = FetchPolicy(allow_private_addresses=True, min_delay_per_host=0)

    async def go():
        async with make_client(policy) as client:
            fetcher = Fetcher(client, policy, sleep=Sleeps())
            with pytest.raises(errors.RobotsDisallowed):
                await fetcher.get(URL)
            respx.get("https://site.example/news/public/2").mock(return_value=httpx.Response(200))
            await fetcher.get("https://site.example/news/public/2")

    asyncio.run(go())
    assert robots.call_count == 1 and not page.called


@respx.mock
def test_missing_robots_txt_allows_everything() -> None:
    respx.get("https://site.example/robots.txt").mock(return_value=httpx.Response(404))
    respx.get(URL).mock(return_value=httpx.Response(200, text="<html></html>"))
    assert fetch().status == 200


def test_slow_drip_server_hits_the_whole_request_deadline(sites) -> None:
    sites.add("/slow", b"<html>" + b"x" * 400 + b"</html>", drip=0.02)
    policy = FetchPolicy(timeout=0.5, allow_private_addresses=True, min_delay_per_host=0, retries=0)
    with pytest.raises(errors.DeadlineExceeded, match="no complete answer within 0.5s"):
        fetch(f"{sites.base_url}/slow", policy=policy, robots=False)


def test_requests_to_one_host_are_spaced_by_the_delay(sites) -> None:
    sites.add("/a", "<html>a</html>")
    policy = FetchPolicy(min_delay_per_host=5.0, allow_private_addresses=True)
    sleeps = Sleeps()

    async def go():
        async with make_client(policy) as client:
            fetcher = Fetcher(client, policy, sleep=sleeps)
            await fetcher.get(f"{sites.base_url}/a", robots=False)
            await fetcher.get(f"{sites.base_url}/a", robots=False)

    asyncio.run(go())
    assert len(sleeps.calls) == 1 and 4.0 < sleeps.calls[0] <= 5.0


def test_a_fetch_tries_no_import(sites, monkeypatch) -> None:
    """httpcore asks for sniffio on every request: installed, it is found once, not searched for
    along sys.path on each fetch (a failed import is not remembered)."""
    import sys

    sites.add("/a", "<html>a</html>")
    tried: list[str] = []

    class Recorder:
        def find_spec(self, name, path=None, target=None):
            tried.append(name)

    async def go():
        async with make_client(FetchPolicy(allow_private_addresses=True)) as client:
            fetcher = Fetcher(client, FetchPolicy(allow_private_addresses=True), sleep=Sleeps())
            await fetcher.get(f"{sites.base_url}/a", robots=False)  # lazy imports happen here
            monkeypatch.setattr(sys, "meta_path", [Recorder(), *sys.meta_path])
            page = await fetcher.get(f"{sites.base_url}/a", robots=False)
            return page.status

    assert asyncio.run(go()) == 200
    assert tried == []
