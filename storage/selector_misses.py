"""The per-source note of selectors that matched nothing (`sources.selectors_missed`, m026): what
`presswatch status` shows until a page matches them again (bot/ingest/misses.py keeps it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter


@dataclass(frozen=True, slots=True)
class SelectorMiss:
    """A source's selector that has matched nothing on every new page read since `since`."""

    name: str  # "body", "date", … (selectors.NAME in the config)
    css: str  # its CSS text then: a selector changed since is another one
    since: datetime


def misses_from_json(text: str | None) -> tuple[SelectorMiss, ...]:
    """Return the stored note of missing selectors (none for NULL or a note it cannot read)."""
    if not text:
        return ()
    try:
        noted = json.loads(text)
        misses = tuple(
            SelectorMiss(name, entry["css"], datetime.fromisoformat(entry["since"]))
            for name, entry in sorted(noted.items())
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # A hand edit's or a rollback's: read as no note (a later note replaces it), rather than
        # fail every read of the source's row (each of its polls, `status`).
        return ()
    # A time without its zone is not one this module wrote: not a moment to show.
    return misses if all(m.since.tzinfo is not None for m in misses) else ()


def misses_to_json(misses: tuple[SelectorMiss, ...]) -> str | None:
    """Return the note to store (NULL when every selector matches)."""
    if not misses:
        return None
    noted = {
        m.name: {"css": m.css, "since": m.since.astimezone(UTC).isoformat(timespec="seconds")}
        for m in sorted(misses, key=attrgetter("name"))
    }
    return json.dumps(noted, ensure_ascii=False)
