"""The HTTP side of the fake Bot API: a threading server and a handler per connection."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from .records import ApiError

if TYPE_CHECKING:
    from .api import FakeTelegram

logger = logging.getLogger(__name__)


class Server(ThreadingHTTPServer):
    """A threading HTTP server that tracks open connections so stop() can cut them."""

    daemon_threads = True  # never keep the interpreter alive; server_close() still joins them

    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup: tests stay offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        """Shut down every open connection so idle keep-alive handlers return."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    """Turn one HTTP request into Bot API parameters and write the fake's answer."""

    protocol_version = "HTTP/1.1"  # keep-alive, like Telegram, for PTB's pooled httpx client
    disable_nagle_algorithm = True  # headers and body are two writes: don't wait on delayed ACKs
    server: Server

    def do_GET(self) -> None:
        self._answer(self._query())

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.headers.get_content_type() == "application/json":
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            else:  # PTB's form body: nested objects arrive as JSON strings, booleans as 'true'
                body = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except ValueError:
            error = ApiError(400, "Bad Request: can't parse request body")
            return self._write(error.status, error.envelope())
        self._answer(self._query() | body)

    def _query(self) -> dict:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def _answer(self, params: dict) -> None:
        status, payload, call = self.server.fake._serve(urlsplit(self.path).path, params)
        self.server.fake._answering(call)  # not before: `frozen` may be holding the answer back
        if payload is None:  # hang or drop: the client gets a closed socket and nothing else
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(status, payload, drip=call.drip, blanks=call.blanks if call.drip else 0)

    def _write(
        self, status: int, payload: dict | str, *, drip: float = 0.0, blanks: int = 0
    ) -> None:
        html = isinstance(payload, str)  # a proxy's error page rather than the API's JSON
        body = payload.encode("utf-8") if html else json.dumps(payload, ensure_ascii=False).encode()
        # A dripped answer opens with blanks (JSON allows them), one per `drip` seconds, unless
        # the client closes the connection or the fake stops first.
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if html else "application/json")
            self.send_header("Content-Length", str(blanks + len(body)))
            self.end_headers()
            for _ in range(blanks):
                if self.server.fake._stopping.wait(drip):
                    self.close_connection = True
                    return
                self.wfile.write(b" ")
                self.wfile.flush()
            self.wfile.write(body)
        except OSError:  # the client gave up first (a timed-out hang, a stopped server)
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        """Keep stderr quiet: tests read fake.requests, the CLI logs in _serve."""
