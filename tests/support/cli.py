"""Run the `presswatch` command in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child_environment(token: str | None = None) -> dict[str, str]:
    """Return this environment without the tester's own token, config and terminal width, plus
    `token` if given."""
    # A tester's exported COLUMNS would cut the search tables the tests read whole.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PRESSWATCH_TELEGRAM_TOKEN", "PRESSWATCH_CONFIG", "COLUMNS", "LINES")
    }
    if token:
        env["PRESSWATCH_TELEGRAM_TOKEN"] = token
    return env


def presswatch(
    *args: str, token: str | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `presswatch ARGS` from the repository root; `token` is the Telegram token it gets, if
    any, `env` variables it gets besides."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_environment(token) | (env or {}),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def channel_only_config(tmp_path: Path, storage: str) -> Path:
    """Write a config with one channel and no sources (nothing to poll; status reads the outbox),
    its `[storage]` section holding `storage`."""
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f"sources = []\n[storage]\n{storage}\n"
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n',
        encoding="utf-8",
    )
    return config
