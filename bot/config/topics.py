"""The taxonomy a config gets: its own [topics]/[entities] tables, the shipped default, or none.

A config that defines neither table gets the default taxonomy shipped in the package
(bot/text/default_taxonomy.toml, the tables config.example.toml shows), so a hand-written config
has topics too; `topics = false` turns topics off.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from bot.config.fields import ConfigError
from bot.text.classify import Taxonomy, taxonomy_from_dict

DEFAULT_TAXONOMY = "default_taxonomy.toml"  # in the bot.text package


def taxonomy_from_config(data: dict) -> Taxonomy:
    """Take the taxonomy's keys out of the parsed config and compile them; raise ConfigError."""
    topics = data.pop("topics", None)
    entities = data.pop("entities", None)
    if isinstance(topics, bool):
        if topics:
            raise ConfigError("topics: true is the default; leave it out, or write false")
        return _compile({"topics": {}, "entities": entities or {}})
    if topics is None and entities is None:
        return default_taxonomy()
    return _compile({"topics": topics or {}, "entities": entities or {}})


@cache
def default_taxonomy() -> Taxonomy:
    """Return the taxonomy shipped with presswatch (compiled once per process)."""
    text = resources.files("bot.text").joinpath(DEFAULT_TAXONOMY).read_text(encoding="utf-8")
    return taxonomy_from_dict(tomllib.loads(text))


def unlabelled(taxonomy: Taxonomy) -> tuple[str, ...]:
    """Say which topics and entities lack a label in a language others of the taxonomy have:
    readers in that language see their `label` (a fallback the config probably did not mean)."""
    groups = (("topics", taxonomy.topics), ("entities", taxonomy.entities))
    found = []
    for table, members in groups:
        given = {lang for member in members for lang, _ in member.labels}
        for lang in sorted(given):
            missing = [m.key for m in members if lang not in dict(m.labels)]
            if missing:
                found.append(
                    f"{table} {', '.join(missing)}: no label in {lang!r}, which other {table} "
                    f"have; readers in {lang!r} see their `label` instead"
                )
    return tuple(found)


def _compile(tables: dict) -> Taxonomy:
    """Compile taxonomy tables, turning a bad one into a ConfigError that names the key."""
    try:
        return taxonomy_from_dict(tables)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
