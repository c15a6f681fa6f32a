"""Spot a source key renamed in the config: a configured source reads what the archive knows
under a key the config no longer has, whose articles, state and readers' alerts stay with it.

A source is what it reads (its address and link_pattern, as the config's twin check compares
them), and a hint is given only while it may still be followed: the configured key holds no
articles and no polls of its own (a rename is spotted at the first check or start after it), and
the old key holds articles. A source removed and another added on purpose to read the same is
hinted at until the new one's first poll.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config.sources import reads
from scrapers import Source

if TYPE_CHECKING:
    from storage import Store
    from storage.sources import Noted

log = logging.getLogger(__name__)


def renamed_hints(sources: Sequence[Source], noted: Sequence[Noted]) -> list[str]:
    """Return a line for each configured source, holding nothing yet, that reads what the archive
    knows (`noted`, storage's Sources.noted) under a key the config no longer has, holding
    articles."""
    configured = {source.key for source in sources}
    held = {n.key for n in noted if n.articles or n.polled}
    gone: dict[tuple[str, str | None], list[str]] = {}
    for n in noted:
        if n.url is not None and n.key not in configured and n.articles:
            gone.setdefault(reads(n.url, n.link_pattern), []).append(n.key)
    return [
        f"{source.key} has the url of {old} in the archive: renamed? presswatch rename-source "
        f'{old} {source.key} (or, when the archive was renamed first, set key = "{old}" in the '
        "config)"
        for source in sources
        if source.key not in held
        for old in gone.get(reads(source.url, source.link_pattern), [])
    ]


def note_sources(store: Store, sources: Sequence[Source]) -> list[str]:
    """Remember what each configured source reads in a writable archive, and log (and return)
    the sources that look renamed."""
    noted = store.sources.noted()  # one read for the hints and for what changed
    hints = renamed_hints(sources, noted)
    store.sources.note_addresses({s.key: (s.url, s.link_pattern) for s in sources}, noted)
    for hint in hints:
        log.warning("config: %s", hint)
    return hints
