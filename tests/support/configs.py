"""A small valid config, one block per section, and a way to change one key of it at a time."""

from __future__ import annotations

from pathlib import Path

from bot.cli.main import main

BLOCKS = {
    "storage": '[storage]\npath = "archive.db"',
    "fetch": "[fetch]\ntimeout = 20",
    "telegram": "[telegram]\nper_second = 25",
    "health": "[health]\nalert_after_failures = 3",
    "dedup": "[dedup]\nthreshold = 0.7",
    "service": "[service]",
    "summary": "[summary]\nmax_chars = 600",
    "channels[0]": '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"',
    "sources[0]": '[[sources]]\nkey = "alpha"\nkind = "feed"\nurl = "https://alpha.example/feed"',
    "sources[1]": '[[sources]]\nkey = "beta"\nurl = "https://beta.example/"\nlink_pattern = \'^https://beta\\.example/news/\\d+$\'',
    "sources[2]": '[[sources]]\nkey = "gamma"\nurl = "https://gamma.example/"\nlink_pattern = "/n/"',
}


def config_text(changes: dict[str, str] | list | None = None, top: str = "") -> str:
    """Return the valid config with lines set in blocks: `key = value` replaces or adds that key."""
    blocks = dict(BLOCKS)
    pairs = changes.items() if isinstance(changes, dict) else changes or []
    for block, line in pairs:
        key = line.split("=", 1)[0].strip()
        lines = [x for x in blocks[block].split("\n") if x.split("=", 1)[0].strip() != key]
        blocks[block] = "\n".join([*lines, line] if line.strip() != key else lines)
    return top + "\n\n".join(blocks.values()) + "\n"


def run_sources(tmp_path: Path, text: str, capsys) -> tuple[int, list[str]]:
    """Run `presswatch sources` on a config in-process; return the status and stderr lines."""
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    status = main(["sources", "--config", str(path)])
    return status, capsys.readouterr().err.splitlines()
