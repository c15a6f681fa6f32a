"""Config errors name a source by its key beside its index (`sources[2] (gamma).url`): an index
alone sent operators counting [[sources]] blocks in a file of twenty. A name that several keys
hold ("csto") is answered with each of them, not one picked at random."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_dict, load_config
from bot.config.model import unknown_name


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


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("csto", "did you mean 'odkb-csto-ru' or 'odkb-csto-en'?"),
        ("tass", "did you mean 'tass-com', 'tass-ru' or 'tass-en'?"),
        ("odkb-csto", "did you mean 'odkb-csto-ru' or 'odkb-csto-en'?"),
        ("tass-cmo", "did you mean 'tass-com'?"),  # a typo: the one nearest
    ],
)
def test_a_name_several_keys_hold_lists_them_all(name: str, hint: str) -> None:
    known = ("odkb-csto-ru", "odkb-csto-en", "tass-com", "tass-ru", "tass-en", "mid-en")
    assert unknown_name("source", name, known, listed="configured") == (
        f"unknown source {name!r} ({hint})"
    )


@pytest.mark.parametrize(
    ("line", "said"),
    [
        # "peace" is short for peacekeeping: the hint `search --topic peace` gives, not none.
        ('topics = ["peace"]', "unknown topic 'peace' (did you mean 'peacekeeping'?)"),
        ('topics = ["Peacekeping"]', "unknown topic 'Peacekeping' (did you mean 'peacekeeping'?)"),
        ('sources = ["tass"]', "unknown source 'tass' (did you mean 'tass-com' or 'tass-ru'?)"),
    ],
)
def test_a_channel_s_unknown_name_gets_the_hint_search_gives(tmp_path, line, said) -> None:
    example = (Path(__file__).resolve().parents[1] / "config.example.toml").read_text("utf-8")
    channel = 'chat_id = "@my_channel"'
    config = tmp_path / "presswatch.toml"
    config.write_text(example.replace(channel, f"{channel}\n{line}", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert f"channels[0].{line.split()[0]}: {said}" in str(caught.value)
