"""A loopback copy of the shipped sources and a config that points presswatch at it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.app import poll_context
from bot.config import load_config
from bot.delivery.publish import Relay
from bot.delivery.telegram import TelegramSender
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import Store
from tests.fakes.sites import FakeSites, rebase, serve_fixture
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.clocks import HandClock

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

# Each shipped source's real origin and which saved page answers which path on its loopback copy.
MOUNTS: dict[str, tuple[str, dict[str, str]]] = {
    "interaffairs-en": (
        "https://en.interaffairs.ru",
        {
            "/": "listing.html",
            "/article/briefing-by-csto-secretary-general-stanislav-zas/": "article-zas-briefing.html",
            "/article/greeting-from-deputy-chairman-of-federation-council-k-i-kosachev-on-the-centenary-of-international-a/": "article-kosachev-greeting.html",
            "/article/the-world-after-the-pandemic-is-still-a-world-of-states/": "article-world-after-pandemic.html",
        },
    ),
    "tass-com": (
        "https://tass.com",
        {
            "/rss/v2.xml": "feed.xml",
            "/politics/1451189": "article-1451189.html",
            "/politics/1451110": "article-1451110.html",
            "/society/1451077": "article-1451077.html",
        },
    ),
}


class World:
    """One loopback server per shipped source, each serving that site's saved pages."""

    def __init__(self, keys: tuple[str, ...] = tuple(MOUNTS)) -> None:
        self.keys = keys
        self.sites = {key: FakeSites() for key in keys}

    def __enter__(self) -> World:
        for server in self.sites.values():
            server.__enter__()
        origins = self.origins()
        for key in self.keys:
            _, files = MOUNTS[key]
            serve_fixture(self.sites[key], FIXTURES / key, files=files, origins=origins)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.sites.values():
            server.__exit__(*exc)

    def site(self, key: str) -> FakeSites:
        """Return the server playing one source's site."""
        return self.sites[key]

    def url(self, key: str, path: str) -> str:
        """Return the loopback URL of a path on one source's site."""
        return self.sites[key].base_url + path

    def origins(self) -> dict[str, str]:
        """Map each real origin to its loopback origin."""
        return {MOUNTS[key][0]: server.base_url for key, server in self.sites.items()}


def write_config(
    tmp_path: Path,
    world: World,
    *,
    telegram_url: str | None = None,
    backfill: int = 0,
    channels: str = '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n',
    extra_telegram: str = "",
) -> Path:
    """Write a config: the shipped example, rebased onto loopback, fast and permissive."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = rebase(text, world.origins())
    text = re.sub(r'(?m)^path = "presswatch.db".*$', f'path = "{tmp_path / "archive.db"}"', text)
    text = re.sub(r"(?m)^min_delay_per_host = .*$", "min_delay_per_host = 0", text)
    text = re.sub(r"(?m)^allow_private_addresses = .*$", "allow_private_addresses = true", text)
    text = re.sub(r"(?m)^timeout = .*$", "timeout = 5", text)
    text = re.sub(r"(?m)^retries = .*$", "retries = 0", text)
    text = re.sub(r"(?m)^per_chat_interval = .*$", "per_chat_interval = 0", text)
    text = re.sub(r"(?m)^per_chat_per_minute = .*$", "per_chat_per_minute = 60", text)
    text = re.sub(r"(?m)^backfill = .*$", f"backfill = {backfill}", text)
    if telegram_url:
        text = text.replace(
            'api_base_url = "https://api.telegram.org/bot"', f'api_base_url = "{telegram_url}"'
        )
    for key in re.findall(r"(?m)^(\w+)\s*=", extra_telegram):
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)  # the extra setting replaces the example's
    text = text.replace("[telegram]\n", f"[telegram]\n{extra_telegram}")
    text = re.sub(
        r"(?ms)^\[\[channels\]\]\nname = \"main\"\nchat_id = \"@my_channel\"[^\n]*\n",
        channels,
        text,
    )
    text = _only_sources(text, world.keys)
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_without(tmp_path: Path, world: World, key: str) -> Path:
    """Write the config of `write_config` without source `key` (the one a test adds)."""
    config = write_config(tmp_path, world)
    keys = tuple(k for k in world.keys if k != key)
    config.write_text(_only_sources(config.read_text(encoding="utf-8"), keys), encoding="utf-8")
    return config


def cycle(
    config_path: Path, clock: HandClock, *, keys: tuple[str, ...] = ("interaffairs-en", "tass-com")
) -> None:
    """Poll the sources once and deliver everything due, as one `once` round does."""
    config = load_config(config_path, environ={"PRESSWATCH_TELEGRAM_TOKEN": DEFAULT_TOKEN})

    async def go() -> None:
        store = Store.open(config.storage_path)
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=config.telegram.api_base_url, timeout=5
        )
        await sender.start()
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(
                    config, fetcher=Fetcher(client, config.fetch), store=store, clock=clock
                )
                for key in keys:
                    await poll_source(config.source(key), ctx)
            await Relay(
                store=store, sender=sender, config=config.delivery, clock=clock
            ).deliver_due()
        finally:
            await sender.close()
            store.close()

    asyncio.run(go())


def _only_sources(text: str, keys: tuple[str, ...]) -> str:
    """Drop [[sources]] blocks whose key is not in `keys`, keeping what follows the last one."""
    head, *blocks = text.split("\n[[sources]]\n")
    # The last block runs into the topic and entity tables after the next "# ----" rule.
    last, rule, tail = blocks[-1].partition("\n# ----")
    blocks[-1] = last
    kept = [b for b in blocks if re.search(r'^key = "([^"]+)"', b, re.M).group(1) in keys]
    return "\n[[sources]]\n".join([head, *kept]) + rule + tail
