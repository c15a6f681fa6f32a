"""Config errors name a source by its key beside its index (`sources[2] (gamma).url`): an index
alone sent operators counting [[sources]] blocks in a file of twenty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_dict
from tests.support.cli import presswatch
from tests.test_config_errors import CASES, config_text


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    changes = [(block, line) for _, block, line, _ in CASES[:6]]  # the six, in one file
    changes.append(("sources[2]", "link_patern = '/n/'"))
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text(changes), encoding="utf-8")
    result = presswatch("sources", "--config", str(path))
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and result.stdout == ""
    assert all(re.match(r"presswatch: config error: [a-z_\[\]0-9. ()]+: ", line) for line in lines)
    named = {line.split(": ")[2] for line in lines}
    assert named == {
        "sources[1] (beta).link_pattern",
        "sources[1] (beta).url_rewrites[0]",
        "sources[0] (alpha).every",
        "health.max_backoff",
        "sources[0] (alpha).url",
        "storage.path",
        "sources[2] (gamma).link_patern",
    }
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("sources", "said"),
    [
        # No key to name it by: the index alone, and the missing key said.
        ([{"url": "https://a.example/feed", "kind": "feed"}], "sources[0].key: required"),
        ([{"key": 5, "url": "https://a.example/feed", "kind": "feed"}], "sources[0].key: expected"),
        # The tenth entry is not the first's: sources[1] names only sources[1]'s keys.
        (
            [
                {"key": f"s{i}", "url": f"https://s{i}.example/feed", "kind": "feed"}
                for i in range(10)
            ]
            + [{"key": "s10", "url": "https://s10.example/", "kind": "html"}],
            "sources[10] (s10).link_pattern: required",
        ),
        (
            [
                {
                    "key": "a",
                    "url": "https://a.example/",
                    "kind": "html",
                    "link_pattern": "/n/",
                    "selectors": {"bdy": "p"},
                }
            ],
            "sources[0] (a).selectors.bdy: unknown key",
        ),
    ],
)
def test_a_source_is_named_by_its_key_where_it_gives_one(sources, said) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"channels": [], "sources": sources}, path=Path("presswatch.toml"))
    assert str(caught.value).startswith(said), str(caught.value)
