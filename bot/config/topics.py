"""The taxonomy a config gets: its own [topics]/[entities] tables, the shipped default, or none.

A config that defines neither table gets the default taxonomy shipped in the package
(bot/text/default_taxonomy.toml, the tables config.example.toml shows), so a hand-written config
has topics too; `topics = false` turns topics off.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib import resources

from bot.config.fields import ConfigError
from bot.text.classify import MAX_HITS, RULE_MOST, Taxonomy, taxonomy_from_dict
from bot.text.plural import counted
from bot.text.taxonomy import Topic

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
        taxonomy = taxonomy_from_dict(tables)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    for table, members in (("topics", taxonomy.topics), ("entities", taxonomy.entities)):
        for member in members:
            entry = tables.get(table, {}).get(member.key)
            if problem := _member_problem(member, isinstance(entry, dict) and "threshold" in entry):
                raise ConfigError(f"{table}.{member.key}.{problem}")
    return taxonomy


def most_points(topic: Topic) -> float:
    """Return the most rule points an article can earn for `topic` (its rules' weights times a
    rule's most: MAX_HITS hits, each in the title, each worth DECAY of the one before)."""
    return RULE_MOST * sum(rule.weight for rule in topic.rules)


def _member_problem(member: Topic, written: bool) -> str:
    """Say what is wrong with a compiled topic or entity ("label: ..."), or ""; `written`: the
    file gives its threshold."""
    if not member.label.strip():
        return f"label: expected the name readers see, such as 'Economy', got {member.label!r}"
    reach = most_points(member)
    # A threshold no article can reach silences the topic for good; the model decides a model
    # topic and never reads its threshold, so that one is left unchecked.
    if member.threshold > reach and not member.model:
        got = (
            f"got {member.threshold:g}"
            if written
            else f"left out, so the default {member.threshold!r}"
        )
        return (
            f"threshold: expected a number above 0 and at most {_down(reach)}, the most its "
            f"{counted(len(member.rules), 'rule')} can earn (a rule at most {_down(RULE_MOST)}: "
            f"{MAX_HITS} hits, each in the title), {got}"
            + ("" if written else "; raise its rules' `weights`, or set a lower `threshold`")
        )
    return ""


def _down(points: float) -> str:
    """Show points to two decimals, rounded down: a maximum shown rounded up is no maximum."""
    return f"{math.floor(points * 100) / 100:.2f}"
