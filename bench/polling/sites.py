"""The loopback sites the polling bench polls: one feed per source, served from one process."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import os
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

ITEMS = 50
FIRST_HOST = ipaddress.IPv4Address("127.0.0.2")
EN = (
    "security cooperation organization member states secretary general council ministers defence "
    "foreign affairs meeting summit statement briefing delegation agreement exercises forces "
    "peacekeeping border terrorism drug trafficking information pandemic economy trade region "
    "collective treaty session declaration president government parliament agency press service "
    "development relations partners military joint staff training mission situation stability "
    "the of and to in on for with that by was as at from has will this its their which"
).split()
RU = (
    "безопасность сотрудничество организация государства генеральный секретарь совет министры "
    "оборона иностранные дела встреча саммит заявление брифинг делегация соглашение учения силы "
    "миротворческие граница терроризм наркотрафик информационная пандемия экономика торговля регион "
    "коллективный договор сессия декларация президент правительство парламент агентство "
    "развитие отношения партнеры военный объединенный штаб подготовка миссия ситуация "
    "и в на по с что для от не как о к за"
).split()


@dataclass
class _Site:
    """One source's feed at /feed.xml, and the same items rebuilt under a new ETag at /rebuilt.xml.

    A fixed site answers 304 to its ETag. A publishing site adds one item per request of
    /feed.xml; /rebuilt.xml serves its current 50 items with a new lastBuildDate and ETag, as
    feeds regenerated on every request do.
    """

    index: int
    host: str
    changing: bool
    lang: str
    port: int = 0
    served: int = 0
    newest: int = ITEMS - 1
    items: deque = field(default_factory=lambda: deque(maxlen=ITEMS))
    body: bytes = b""
    etag: str = ""

    def start(self) -> None:
        """Publish the first 50 items."""
        for n in range(ITEMS):
            self.items.appendleft(self._item(n))
        self._render()

    def respond(self, head: bytes) -> bytes:
        """Answer one request head."""
        self.served += 1
        if head.startswith(b"GET /feed.xml ") and self.changing:
            self.newest += 1
            self.items.appendleft(self._item(self.newest))
            self._render()
        elif head.startswith(b"GET /rebuilt.xml ") and self.changing:
            self._render()
        elif not head.startswith(b"GET /feed.xml "):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        elif _header(head, b"if-none-match") == self.etag.encode():
            return f"HTTP/1.1 304 Not Modified\r\nETag: {self.etag}\r\n\r\n".encode()
        return (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
            f"Content-Encoding: gzip\r\nETag: {self.etag}\r\nContent-Length: {len(self.body)}\r\n"
            f"\r\n"
        ).encode() + self.body

    def _render(self) -> None:
        """Build the feed of the 50 newest items, gzipped, with a new ETag."""
        self.etag = f'"s{self.index}-{self.newest}-{self.served}"'
        built = format_datetime(datetime.now(UTC), usegmt=True)
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Bench source {self.index}</title><link>http://{self.host}:{self.port}/</link>"
            f"<description>Press releases</description><lastBuildDate>{built}</lastBuildDate>"
            f"{''.join(self.items)}</channel></rss>"
        )
        self.body = gzip.compress(xml.encode("utf-8"), compresslevel=6)

    def _item(self, n: int) -> str:
        """Return item n: a press release with a title, a lead and five paragraphs of full text."""
        rng = random.Random(f"{self.index}:{n}")
        words = EN if self.lang == "en" else RU

        def sentence(low: int, high: int) -> str:
            body = rng.choices(words, k=rng.randint(low, high))
            body.insert(rng.randrange(len(body)), str(rng.randint(1, 99999)))
            return " ".join(body).capitalize() + "."

        title = sentence(6, 12).rstrip(".")
        lead = sentence(18, 28)
        paragraphs = "".join(
            f"<p>{' '.join(sentence(12, 24) for _ in range(2))}</p>" for _ in range(5)
        )
        published = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=10 * n)
        url = f"http://{self.host}:{self.port}/news/{n}"
        return (
            f"<item><title>{escape(title)}</title><link>{url}</link><guid>{url}</guid>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>{escape(lead)}</description>"
            f"<content:encoded><![CDATA[<p>{lead}</p>{paragraphs}]]></content:encoded></item>"
        )


def _header(head: bytes, name: bytes) -> bytes | None:
    """Return a header's value from a raw request head (name in lower case)."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for GET requests without a body."""

    def __init__(self, site: _Site) -> None:
        self.site, self.buffer, self.transport = site, b"", None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.transport.write(self.site.respond(head))


def serve(specs: list[tuple[int, str, bool, str]], conn, core: int | None) -> None:
    """Serve the sites until told to stop; report ports first and CPU time last (child process)."""
    if core is not None:
        os.sched_setaffinity(0, {core})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sites, servers = [], []
        for index, host, changing, lang in specs:
            site = _Site(index, host, changing, lang)
            server = await loop.create_server(lambda s=site: _Connection(s), host, 0, backlog=128)
            site.port = server.sockets[0].getsockname()[1]
            site.start()
            sites.append(site)
            servers.append(server)
        sizes = [len(s.body) for s in sites]
        conn.send([(s.host, s.port) for s in sites] + [sizes])
        stop = asyncio.Event()
        loop.add_reader(conn.fileno(), stop.set)
        await stop.wait()
        conn.recv()
        times = os.times()
        conn.send({"cpu": times.user + times.system, "requests": sum(s.served for s in sites)})
        for server in servers:
            server.close()

    asyncio.run(main())
