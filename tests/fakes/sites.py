"""A loopback web server that plays the source sites: saved pages, feeds, ETags, faults."""

from __future__ import annotations

import gzip
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Route:
    """What the server answers for one path (query string included when given)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    gzip: bool = False
    drip: float = 0.0  # seconds between 1-byte writes: a slow-drip server
    cut: int | None = None  # reset the connection after this many bytes of the body


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


class FakeSites:
    """Serve routes on 127.0.0.1 from a background thread; record every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition()  # apart from _lock: its predicate takes _lock
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval lets shutdown() return quickly at the end of each test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT (no trailing slash)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeSites:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: str, body: bytes | str = b"", **kwargs) -> Route:
        """Serve `body` at `path` (e.g. '/ia/article/x/'); kwargs are Route fields."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **kwargs)
        with self._lock:
            self.routes[path] = route
        return route

    def remove(self, path: str) -> None:
        """Stop serving a path (it answers 404 afterwards)."""
        with self._lock:
            self.routes.pop(path, None)

    def hits(self, path: str) -> int:
        """Return how many GET requests reached `path`."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def route_for(self, path: str) -> Route | None:
        """Return the route that serves a request path."""
        with self._lock:
            return self.routes.get(path) or self.routes.get(path.split("?", 1)[0])

    def record(self, seen: Seen) -> None:
        """Remember one request."""
        with self._lock:
            self.requests.append(seen)
        with self._arrived:
            self._arrived.notify_all()

    def wait_for_hit(self, path: str, timeout: float) -> bool:
        """Block until `path` was requested; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.hits(path) > 0, timeout)


def _handler_for(sites: FakeSites) -> type[BaseHTTPRequestHandler]:
    """Build a request handler class bound to `sites`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            sites.record(Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = sites.route_for(self.path)
            if route is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self._send(304, b"", {"ETag": route.etag})
                return
            body, headers = route.body, {"Content-Type": route.content_type, **route.headers}
            if route.etag:
                headers["ETag"] = route.etag
            if route.gzip:
                body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
            self._send(route.status, body, headers, drip=route.drip, cut=route.cut)

        def _send(
            self,
            status: int,
            body: bytes,
            headers: dict[str, str],
            *,
            drip: float = 0.0,
            cut: int | None = None,
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                # SO_LINGER 0: close with a TCP reset, as a crashing server or a proxy would.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            if not drip:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                try:
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(drip)  # The point of this route: bytes arrive slowly.

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


def rebase(text: str, origins: dict[str, str]) -> str:
    """Replace real site origins with loopback ones, plain and regex-escaped (for link patterns)."""
    for real, local in origins.items():
        text = text.replace(real, local).replace(re.escape(real), re.escape(local))
    return text


def serve_fixture(
    sites: FakeSites, fixture_dir: Path, *, files: dict[str, str], origins: dict[str, str]
) -> None:
    """Serve saved fixture files at loopback paths, with real origins rewritten to loopback ones."""
    for path, name in files.items():
        raw = (fixture_dir / name).read_bytes()
        content_type = (
            "application/rss+xml; charset=utf-8"
            if name.endswith(".xml")
            else "text/html; charset=utf-8"
        )
        sites.add(
            path, rebase(raw.decode("utf-8"), origins).encode("utf-8"), content_type=content_type
        )
