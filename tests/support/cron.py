"""What the `once`-under-cron tests share: a config of one loopback feed source and the fake Bot
API, and the loopback site serving that synthetic feed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites

NOW = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
CHAT = "@presswatch_test"  # the one channel's chat


def cron_config(tmp_path: Path, *, feed: str, telegram: str) -> Path:
    """Write a config with one loopback feed source ("wire-a"), the Bot API at `telegram` and
    one channel ("main")."""
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "archive.db"}"\n\n'
        "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n\n"
        f'[telegram]\napi_base_url = "{telegram}"\n\n'
        f'[[channels]]\nname = "main"\nchat_id = "{CHAT}"\n\n'
        f'[[sources]]\nkey = "wire-a"\nkind = "feed"\nurl = "{feed}"\nfetch_pages = false\n'
        "robots = false\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def feed_site() -> Iterator[str]:
    """Serve one small synthetic feed on a loopback site; yield its address."""
    with FakeSites() as sites:
        body = atom_feed(sites.base_url, "wire-a", 2, random.Random(1))
        sites.add("/wire-a.xml", body, content_type="application/atom+xml")
        yield f"{sites.base_url}/wire-a.xml"
