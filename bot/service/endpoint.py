"""The health and metrics endpoint: a minimal HTTP/1.1 server for `/healthz` and `/metrics`.

It serves one request per connection, GET or HEAD, to at most a few clients at a time, each under
a deadline: a slow or silent client is cut off and never queues work behind it.

AddressTaken     the address asked for cannot be listened on (another process has it)
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from urllib.parse import parse_qs

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.service.address import reachable
from bot.service.monitor import Monitor

log = logging.getLogger(__name__)

_MAX_CLIENTS = 8
_CLIENT_DEADLINE = 5.0  # seconds a client gets to send its request and read the answer
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


class AddressTaken(Exception):
    """`[service] http` (or `run --http`) cannot be listened on; the message says what to do."""


class MonitorServer:
    """A minimal HTTP/1.1 server for /healthz and /metrics: GET or HEAD, one request per connection."""

    def __init__(
        self, monitor: Monitor, *, host: str, port: int, setting: str = "[service] http"
    ) -> None:
        self._monitor, self._host, self._port = monitor, host, port
        self._setting = setting  # what the operator changes to choose another address
        self._server: asyncio.Server | None = None
        self._slots = asyncio.Semaphore(_MAX_CLIENTS)
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        """Return the port actually bound (useful with port 0)."""
        return self._server.sockets[0].getsockname()[1] if self._server else self._port

    async def start(self) -> None:
        """Listen; raise AddressTaken when the address cannot be had."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._port, limit=8192
            )
        except OSError as exc:
            # A monitor at that address would read another process's /healthz and take it for
            # ours, so the operator who asked for the endpoint gets no service without it.
            if exc.errno == errno.EADDRINUSE:
                advice = (
                    "whatever answers /healthz there is not this service: stop the other "
                    f"process or choose another {self._setting}"
                )
                if self._setting.startswith("["):  # a second worker of one config, likely
                    advice += " (another worker on this machine: presswatch run --http HOST:PORT)"
            else:  # no such address here, a port this user may not take: no process to stop
                advice = (
                    "this machine has no such address, or this user may not listen on that "
                    f"port: choose another {self._setting}"
                )
            named = "service.http" if self._setting.startswith("[") else self._setting
            raise AddressTaken(
                f"{named}: cannot listen on {self._host}:{self._port} "
                f"({_reason(exc)}); {advice}; not started"
            ) from exc
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self._host, self.port)
        # Port 0 binds any free one: the workers' registry names the one actually bound, and
        # this machine's name for a wildcard host (0.0.0.0 tells another machine nothing).
        self._monitor.serve_at(reachable(self._host, self.port))

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._server:
            self._server.close()
            for writer in list(self._open):  # Python 3.11 has no Server.close_clients()
                writer.transport.abort()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one request within a deadline; slow or excess clients are cut off."""
        if self._slots.locked():  # never queue work behind slow clients
            return await self._finish(writer, 503, "text/plain", b"busy\n")
        self._open.add(writer)
        async with self._slots:
            try:
                async with asyncio.timeout(_CLIENT_DEADLINE):
                    head = await reader.readuntil(b"\r\n\r\n")
                    status, ctype, body, method = await self._answer(head)
                    await self._finish(
                        writer, status, ctype, b"" if method == "HEAD" else body, length=len(body)
                    )
            except (
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ConnectionError,
            ):
                writer.close()
            finally:
                self._open.discard(writer)

    async def _answer(self, head: bytes) -> tuple[int, str, bytes, str]:
        """Return (status, content type, body, method) for one request head."""
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, "text/plain", b"bad request\n", ""
        method, (path, _, query) = parts[0], parts[1].partition("?")
        if path not in ("/healthz", "/metrics"):
            return 404, "text/plain", b"try /healthz or /metrics\n", method
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"GET or HEAD only\n", method
        if path == "/healthz":
            status, body = await self._monitor.healthz(strict=_strict(query))
            return status, "application/json", json.dumps(body, indent=1).encode() + b"\n", method
        return 200, CONTENT_TYPE_PLAIN_0_0_4, await self._monitor.metrics(), method

    @staticmethod
    async def _finish(
        writer: asyncio.StreamWriter,
        status: int,
        ctype: str,
        body: bytes,
        *,
        length: int | None = None,
    ) -> None:
        """Write the answer and close the connection."""
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            await asyncio.wait_for(writer.drain(), _CLIENT_DEADLINE)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


def _strict(query: str) -> bool:
    """Return True for `?strict` or `?strict=1` (not `?strict=0` or `?strict=false`)."""
    values = parse_qs(query, keep_blank_values=True).get("strict")
    return bool(values) and values[-1].lower() not in ("0", "false", "no")


def _reason(exc: OSError) -> str:
    """Return why a bind failed in the system's words (a name lookup's own words for its error)."""
    # asyncio's bind error wraps the errno in a sentence of its own; a gaierror's errno is < 0.
    return os.strerror(exc.errno) if exc.errno and exc.errno > 0 else str(exc.strerror or exc)
