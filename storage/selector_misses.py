"""The per-source note of selectors that matched nothing (`sources.selectors_missed`, m026): what
`presswatch status` shows until a page matches them again, and the runs of new pages in a row
that missed a selector not yet long enough to show (bot/ingest/misses.py keeps both).

One JSON object, selector name -> entry. An entry of a shown note is `{"css", "since"}`, as m026
wrote it; an entry of a run not yet shown has its count of pages too (`"pages"`). Runs live in
the archive, not in a process, so `once` under cron, a restarted service and another worker of a
fleet go on counting the same run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class SelectorMiss:
    """A source's selector that has matched nothing on every new page read since `since`."""

    name: str  # "body", "date", … (selectors.NAME in the config)
    css: str  # its CSS text then: a selector changed since is another one
    since: datetime


@dataclass(frozen=True, slots=True)
class SelectorRun:
    """New pages in a row, the first read at `since`, on which a selector matched nothing, not
    yet enough of them (or not over long enough) to show in status."""

    name: str
    css: str
    since: datetime
    pages: int


def misses_from_json(text: str | None) -> tuple[SelectorMiss, ...]:
    """Return the stored note of missing selectors (none for NULL or a note it cannot read)."""
    return _read(text)[0]


def runs_from_json(text: str | None) -> tuple[SelectorRun, ...]:
    """Return the stored runs of pages that missed a selector (none for NULL or a note it cannot
    read)."""
    return _read(text)[1]


def _read(text: str | None) -> tuple[tuple[SelectorMiss, ...], tuple[SelectorRun, ...]]:
    """Return the shown notes and the runs a stored note holds."""
    if not text:
        return (), ()
    try:
        noted = json.loads(text)
        entries = [
            (name, entry["css"], datetime.fromisoformat(entry["since"]), entry.get("pages"))
            for name, entry in sorted(noted.items())
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        # A hand edit's or a rollback's: read as no note (a later note replaces it), rather than
        # fail every read of the source's row (each of its polls, `status`).
        return (), ()
    valid = all(
        isinstance(name, str)
        and isinstance(css, str)
        and since.tzinfo is not None  # a time without its zone is not one this module wrote
        and (pages is None or (type(pages) is int and pages > 0))
        for name, css, since, pages in entries
    )
    if not valid:
        return (), ()
    misses = tuple(SelectorMiss(n, c, s) for n, c, s, p in entries if p is None)
    runs = tuple(SelectorRun(n, c, s, p) for n, c, s, p in entries if p is not None)
    return misses, runs


def misses_to_json(
    misses: tuple[SelectorMiss, ...], runs: tuple[SelectorRun, ...] = ()
) -> str | None:
    """Return the note to store (NULL when every selector matches and no run is under way)."""
    noted: dict[str, dict] = {m.name: _entry(m.css, m.since) for m in misses}
    for run in runs:
        noted.setdefault(run.name, _entry(run.css, run.since) | {"pages": run.pages})
    if not noted:
        return None
    return json.dumps(dict(sorted(noted.items())), ensure_ascii=False)


def _entry(css: str, since: datetime) -> dict:
    """Return the stored entry of a selector's CSS text and the first page that missed it."""
    return {"css": css, "since": since.astimezone(UTC).isoformat(timespec="seconds")}
