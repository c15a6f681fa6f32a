"""A config whose sources and Telegram all refuse connections: the quick start on a machine offline."""

from __future__ import annotations

import socket
from pathlib import Path


def closed_port() -> int:
    """Return a loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_config(tmp_path: Path, *, telegram: str) -> Path:
    """Write a config whose two sources and Telegram all refuse connections."""
    port = closed_port()
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f"""[storage]
path = "{tmp_path / "archive.db"}"
[fetch]
allow_private_addresses = true
retries = 0
timeout = 5
[telegram]
api_base_url = "{telegram}"
[[channels]]
name = "main"
chat_id = "@presswatch_test"
[[sources]]
key = "alpha"
kind = "feed"
url = "http://127.0.0.1:{port}/feed"
[[sources]]
key = "beta"
url = "http://127.0.0.1:{port}/news/"
link_pattern = "/news/"
""",
        encoding="utf-8",
    )
    return path
