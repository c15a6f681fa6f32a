"""The default taxonomy ships with the package: a config without [topics] gets topics."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_dict
from bot.config.topics import default_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "bot" / "text" / "default_taxonomy.toml"
PEACEKEEPING = {
    "title": "CSTO peacekeepers complete their mission in Kazakhstan",
    "body": "The CSTO Collective Peacekeeping Forces completed their mission and began to "
    "withdraw from Kazakhstan, the Secretary General said in Moscow.",
}


def test_the_shipped_taxonomy_is_the_example_configs() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped == {"topics": example["topics"], "entities": example["entities"]}


def test_the_package_ships_the_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "text/default_taxonomy.toml" in pyproject["tool"]["setuptools"]["package-data"]["bot"]


def test_a_config_without_topics_gets_the_default_taxonomy() -> None:
    config = config_from_dict({}, path=Path("presswatch.toml"))
    assert config.taxonomy == default_taxonomy()
    assert len(config.taxonomy.topics) == 10 and len(config.taxonomy.entities) == 15
    # Channels may then filter on the default topics without copying them.
    config = config_from_dict(
        {"channels": [{"name": "pk", "chat_id": "@pk_channel", "topics": ["peacekeeping"]}]},
        path=Path("presswatch.toml"),
    )
    assert config.channels[0].topics == ("peacekeeping",)


def test_topics_false_turns_topics_off_and_own_tables_replace_the_default() -> None:
    off = config_from_dict({"topics": False}, path=Path("p.toml")).taxonomy
    assert off.topics == () and off.entities == ()
    own = config_from_dict(
        {"entities": {"nato": {"phrases": ["NATO"]}}}, path=Path("p.toml")
    ).taxonomy
    assert own.topics == () and [e.key for e in own.entities] == ["nato"]
    with pytest.raises(ConfigError, match="topics: true is the default"):
        config_from_dict({"topics": True}, path=Path("p.toml"))


def test_a_hand_written_config_classifies_with_topics(tmp_path) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(
        '[[sources]]\nkey = "tass-com"\nkind = "feed"\nurl = "https://tass.com/rss/v2.xml"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--config", str(config)],
        input=json.dumps(PEACEKEEPING) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert "peacekeeping" in line["topics"] and "csto" in line["entities"]


@pytest.mark.parametrize("path", [SHIPPED, ROOT / "config.example.toml"])
def test_the_comments_give_the_shipped_model_s_texts_and_threshold(path: Path) -> None:
    model = json.loads((ROOT / "bot" / "text" / "topics_model.json").read_text(encoding="utf-8"))
    texts = model["source"].split("(")[1].split()[0]  # "bench/data/… (792 texts)"
    comments = " ".join(line.lstrip("# ") for line in path.read_text(encoding="utf-8").splitlines())
    assert f"trained on {texts} real" in comments
    assert f"threshold shipped with the model ({model['threshold']:.2f}," in comments
