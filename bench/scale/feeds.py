"""Loopback Atom feeds that gain one new article on every request (the one-new-article poll)."""

from __future__ import annotations

import functools
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_WORDS = (
    "ministry statement council summit treaty security cooperation defence meeting delegation "
    "agreement region border forces talks minister secretary president parliament economy trade "
    "energy grain exercise peacekeeping union assembly"
).split()
_SHOWN = 3  # entries in each answer: the newest is new, the two before were seen already


@functools.lru_cache(maxsize=1 << 14)
def entry(key: str, n: int, base: str) -> str:
    """Return entry n of a source's feed: the same text every time it is asked for (rendered
    once: a feed's answer repeats the entries of its last two)."""
    rng = random.Random(f"{key}-{n}")
    words = " ".join(rng.choice(_WORDS) for _ in range(150))
    stamp = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)).isoformat()
    return (
        f"<entry><id>urn:{key}:{n}</id><title>{key} release {n}: {words[:70]}</title>"
        f'<link href="{base}/{key}/{n}"/><updated>{stamp}</updated><published>{stamp}</published>'
        f'<content type="html">&lt;p&gt;{words}.&lt;/p&gt;&lt;p&gt;{words[::-1]}.&lt;/p&gt;</content>'
        "</entry>"
    )


class GrowingFeeds:
    """Serve /KEY.xml on 127.0.0.1; each request to a feed adds one entry to it."""

    def __init__(self, *, slow: float = 0.0) -> None:
        self.slow = slow  # seconds a feed whose key starts with "slow" takes to answer
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def body(self, key: str) -> bytes:
        """Return the feed after counting this request: its newest entries, one of them new."""
        with self._lock:
            n = self._counts[key] = self._counts.get(key, _SHOWN - 1) + 1
        entries = "".join(entry(key, i, self.base_url) for i in range(n, n - _SHOWN, -1))
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{key}</title><id>urn:{key}</id><updated>2026-01-01T00:00:00+00:00</updated>"
            f"{entries}</feed>"
        ).encode()

    def __enter__(self) -> GrowingFeeds:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(feeds: GrowingFeeds) -> type[BaseHTTPRequestHandler]:
    """Return the request handler class bound to `feeds`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            key = self.path.strip("/").removesuffix(".xml")
            if key.startswith("slow"):
                time.sleep(feeds.slow)  # a slow site: the poll is under way long enough to kill
            body = feeds.body(key)
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except BrokenPipeError:
                pass  # a worker killed mid-poll: the bench's own doing

        def log_message(self, *args: object) -> None:
            """Stay quiet."""

    return Handler
