"""Workers of one PostgreSQL archive as their tests start them: configs on synthetic loopback
feeds and the fake Bot API, the feeds' entries, and what the fake was sent."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import FakeTelegram

SOURCES = [f"wire-{n}" for n in range(6)]
CHATS = ("-1001000000001", "-1001000000002")
PROBE = "-1001000000099"


def write_config(folder: Path, name: str, *, url: str, sites: FakeSites, telegram, port: int):
    """Write one worker's config: the shared archive and sources, its own /healthz port."""
    sources = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{sites.base_url}/{key}.xml"\n'
        'lang = "en"\nevery = "2s"\nbackfill = 1000\nfetch_pages = false\nrobots = false\n\n'
        for key in SOURCES
    )
    channels = "".join(
        f'[[channels]]\nname = "ch{i}"\nchat_id = "{c}"\n\n' for i, c in enumerate(CHATS)
    )
    path = folder / f"{name}.toml"
    path.write_text(
        f'[storage]\nurl = "{url}"\n\n[service]\nhttp = "127.0.0.1:{port}"\n\n'
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\ntimeout = 5\n\n"
        f'[telegram]\napi_base_url = "{telegram.base_url}"\nuncertain = "probe"\n'
        f'probe_chat_id = "{PROBE}"\nper_chat_per_minute = 55\nper_chat_interval = 0.05\n'
        "request_timeout = 5\n\n" + channels + sources,
        encoding="utf-8",
    )
    return path


def publish(sites: FakeSites, count: int) -> None:
    """Serve every synthetic feed with its first `count` entries."""
    for key in SOURCES:
        sites.add(f"/{key}.xml", atom_feed(sites.base_url, key, count, random.Random(key)),
                  content_type="application/atom+xml")  # fmt: skip


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.2) -> None:
    """Poll an observable condition until it holds, or fail naming it past `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)  # the interval between looks, not a guess at when it will hold


def posted(telegram: FakeTelegram) -> Counter:
    """Count the messages per (chat, article link) the fake accepted."""
    return Counter(
        (chat, link)
        for chat in CHATS
        for message in telegram.messages_for(int(chat))
        for link in {part.split('"')[0] for part in message.text.split('href="')[1:]}
        if "/wire-" in link
    )
