"""A loopback ministry site and one feed source of it, polled through the parsing sandbox;
the config of one source alone and its one poll, which other tests share; the config file of an
html source with a body selector, and its row in `presswatch status`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import poll_context
from bot.cli.main import main
from bot.config import Config, config_from_dict
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Parser, Sandbox
from storage import Store
from tests.fakes.sites import FakeSites

TOPICS = ("border security", "grain exports", "a water treaty", "the rail corridor", "climate aid")


def page(n: int) -> str:
    """Return release n's page: its own text, so no release is a near-duplicate of another."""
    topic = TOPICS[n % len(TOPICS)]
    story = " ".join(
        f"Delegates discussed {topic} in round {n}.{k} of the talks." for k in range(9)
    )
    return f"<html><body><h1>Release {n} on {topic}</h1><p>{story}</p></body></html>"


def synthetic_listing(*numbers: int) -> str:
    """Return a synthetic listing page linking releases `numbers`, newest first."""
    links = "".join(f'<a href="/press/{n}">Release {n}</a>' for n in numbers)
    return f"<html><body>{links}</body></html>"


def synthetic_story(n: int) -> str:
    """Return release n's synthetic page with its story in the element the selector names."""
    return page(n).replace("<p>", '<div class="story"><p>').replace("</p>", "</p></div>")


SELECTOR_CONFIG = """[storage]
path = "{db}"
[fetch]
min_delay_per_host = 0
allow_private_addresses = true
retries = 0
[[channels]]
name = "main"
chat_id = "@main"
[[sources]]
key = "ministry"
url = "{base}/press/"
robots = false
link_pattern = '/press/\\d+$'
recheck = "{recheck}"
[sources.selectors]
body = "{body}"
"""


def selector_config(
    tmp_path: Path, sites: FakeSites, *, body: str = "div.story", recheck: str = "0"
) -> Path:
    """Write the config file of the site's html source "ministry" with `selectors.body`, for
    polls and `presswatch status` to read; return its path."""
    path = tmp_path / "presswatch.toml"
    text = SELECTOR_CONFIG.format(
        db=tmp_path / "archive.db", base=sites.base_url, body=body, recheck=recheck
    )
    path.write_text(text, encoding="utf-8")
    return path


def status_note(config_path: Path, capsys) -> str:
    """Return what `presswatch status` prints in source "ministry"'s row after its poll times."""
    main(["status", "--config", str(config_path)])  # its exit status: the service is not up
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ministry ")]
    return row.split(" UTC  ", 2)[-1]


def one_source_config(db: Path, source: dict) -> Config:
    """Return a config polling `source` alone into the archive `db`: loopback, no delay, no retry."""
    return config_from_dict(
        {
            "storage": {"path": str(db)},
            "fetch": {"min_delay_per_host": 0, "allow_private_addresses": True, "retries": 0},
            "channels": [{"name": "main", "chat_id": "@main"}],
            "sources": [source],
        },
        path=db.parent / "presswatch.toml",
    )


async def poll_once(config: Config, *, parser: Parser | None = None, key: str | None = None):
    """Poll the config's source `key` (by default its first) once, into its archive, parsing
    through `parser` when given (in this process otherwise); return the run."""
    store = Store.open(config.storage_path)
    try:
        async with make_client(config.fetch) as client:
            fetcher = Fetcher(client, config.fetch)
            ctx = poll_context(config, fetcher=fetcher, store=store, parser=parser)
            return await poll_source(config.source(key) if key else config.sources[0], ctx)
    finally:
        store.close()


class Ministry:
    """A loopback ministry site and one source of it, polled through the sandbox."""

    def __init__(self, sites: FakeSites, tmp_path: Path, fork_server, **source) -> None:
        self.sites, self.fork_server = sites, fork_server
        self.source = {
            "key": "ministry",
            "kind": "feed",
            "url": f"{sites.base_url}/rss",
            "link_pattern": r"/news/\d+$",
            "robots": False,
            "backfill": 0,
            **source,
        }
        self.db = tmp_path / "archive.db"

    def feed(self, *items: int, bad: bytes = b"") -> None:
        """Serve a feed of `items` (newest first), each linking to a page of the site."""
        entries = "".join(
            f"<item><title>Release {n}</title><link>{self.url(n)}</link>"
            f"<pubDate>Mon, {n:02d} Jun 2026 10:00:00 +0000</pubDate></item>"
            for n in items
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>M</title>{entries}'
        self.sites.add("/rss", body.encode() + bad + b"</channel></rss>")

    def url(self, n: int) -> str:
        """Return the URL of release n's page."""
        return f"{self.sites.base_url}/news/{n}"

    def poll(self, *, deadline: float = 10.0):
        """Poll the source once through a fresh sandbox; return the run."""
        config = one_source_config(self.db, self.source)

        async def go():
            sandbox = Sandbox(deadline=deadline, memory_mb=512, server=self.fork_server)
            try:
                return await poll_once(config, parser=sandbox)
            finally:
                sandbox.close()

        return asyncio.run(go())

    def rows(self, sql: str) -> list[dict]:
        """Query the archive."""
        store = Store.open(self.db)
        try:
            return list(store.db.query(sql))
        finally:
            store.close()

    def posted(self) -> list[str]:
        """Return the URLs queued for posting, in order."""
        sql = "select a.url from outbox o join articles a on a.id = o.article_id order by o.id"
        return [row["url"] for row in self.rows(sql)]
