"""What a channel's filters may name: the configured sources, topics and entities.

A name that matches none would silence the channel (a typo in `sources = ["tass-ru"]`), so each
is checked and the closest known names suggested; a name is left unchecked when the list it
belongs to has its own mistake, told once where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config.fields import ABSENT, Table
from bot.config.model import closest_names, did_you_mean
from bot.text.classify import Taxonomy
from bot.text.taxonomy import find_topic


def source_keys(entries: object) -> tuple[str, ...] | None:
    """Return every [[sources]] block's key, a block with its own mistake too (it is not also an
    unknown source); None when `sources` is no array of tables (its one problem is told)."""
    if not isinstance(entries, list):
        return None
    keys = (entry.get("key") for entry in entries if isinstance(entry, dict))
    return tuple(key for key in keys if isinstance(key, str))


_NOUNS = {"topics": "topic", "entities": "entity"}


@dataclass(frozen=True, slots=True)
class Known:
    """The sources, topics and entities a channel's filters may name (a typo would silence it)."""

    sources: tuple[str, ...] | None  # every [[sources]] block's key; None: unchecked, as below
    taxonomy: Taxonomy | None  # None: the taxonomy has its own mistake, names go unchecked

    def sources_of(self, t: Table) -> Any:
        """Read a channel's `sources`, each a configured key."""
        keys, known = t.strings("sources"), list(self.sources or ())
        for key in () if keys is ABSENT or self.sources is None else keys:
            if key not in known:
                t.report("sources", f"unknown source {key!r}{_hint(closest_names(key, known))}")
        return keys

    def named(self, t: Table, field: str) -> Any:
        """Read a channel's `topics` or `entities`, each named by key, label or hashtag, as keys."""
        names = t.strings(field)
        if names is ABSENT or self.taxonomy is None:
            return names
        pools = {"topics": self.taxonomy.topics, "entities": self.taxonomy.entities}
        elsewhere = "entities" if field == "topics" else "topics"
        own, other, noun = pools[field], pools[elsewhere], _NOUNS[field]
        # A topic is suggested by its key, its labels in every language being typos of it too.
        called = {name: topic.key for topic in own for name in topic.names()}
        keys = []
        for name in names:
            if topic := find_topic(own, name):
                keys.append(topic.key)
            elif wrong := find_topic(other, name):
                # Topics and entities are separate filters; "CSTO" in `topics` is a slip, not a typo.
                t.report(
                    field,
                    f"{name!r} names {elsewhere}.{wrong.key}, not one of the {field}: "
                    f"put it in `{elsewhere}`",
                )
            else:
                # The rule `search --topic` and the chat suggest by: "peace" → peacekeeping.
                close = dict.fromkeys(called[n] for n in closest_names(name, list(called)))
                t.report(field, f"unknown {noun} {name!r}{_hint(list(close))}")
        return tuple(dict.fromkeys(keys))


def _hint(close: list[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest known names, or ""."""
    return f" ({did_you_mean(close)})" if close else ""
