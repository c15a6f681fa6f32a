"""`presswatch stats` lists every configured source, those with no article at 0: an analyst
looks for the silent ones (both backends)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.cli.counts import with_silent
from tests.support.archive import add
from tests.support.cli import presswatch
from tests.support.postgres import storage_setting


def _config(tmp_path: Path, storage: str) -> Path:
    """Write a config with three sources (synthetic feeds nobody fetches here)."""
    blocks = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "http://127.0.0.1:9/{key}.xml"\n\n'
        for key in ("tass-com", "tass-ru", "kremlin-en")
    )
    path = tmp_path / "presswatch.toml"
    path.write_text(f"channels = []\n\n[storage]\n{storage}\n\n{blocks}", encoding="utf-8")
    return path


def test_stats_lists_configured_sources_without_articles_at_zero(store, tmp_path) -> None:
    add(store, "Summit in Minsk", source="tass-com")
    add(store, "Саммит в Минске", source="tass-com", lang="ru")
    add(store, "Old wire story", source="dropped-wire")  # a source the config no longer has
    config = _config(tmp_path, storage_setting(store, tmp_path / "archive.db"))
    result = presswatch("stats", "--format", "json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["sources"]
    assert [(r["key"], r["articles"]) for r in rows] == [
        ("tass-com", 2),
        ("dropped-wire", 1),
        ("kremlin-en", 0),
        ("tass-ru", 0),
    ]
    assert rows[-1] == {"key": "tass-ru", "articles": 0, "reprints": 0, "first": None, "last": None}
    table = presswatch("stats", "--config", str(config)).stdout
    assert re.search(r"(?m)^kremlin-en +0 +0 +- +-$", table), table


def test_with_silent_keeps_the_counted_rows_and_appends_the_rest_by_key() -> None:
    counted = [{"key": "b", "articles": 3, "reprints": 1, "first": "x", "last": "y"}]
    assert [r["key"] for r in with_silent(counted, ["c", "b", "a"])] == ["b", "a", "c"]
    assert with_silent(counted, ["b"]) == counted
