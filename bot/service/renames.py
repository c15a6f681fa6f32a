"""Spot a source key renamed in the config: its address is one the archive knows under a key the
config no longer has, whose articles, state and readers' alerts stay with that old key."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from scrapers import Source, url_key

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)


def renamed_hints(sources: Sequence[Source], known: Mapping[str, str]) -> list[str]:
    """Return a line for each configured source whose address the archive knows (`known`: key ->
    address) under a key the config no longer has."""
    configured = {source.key for source in sources}
    gone: dict[str, list[str]] = {}
    for key, url in sorted(known.items()):
        if key not in configured:
            gone.setdefault(url_key(url), []).append(key)
    return [
        f"{source.key} has the url of {old} in the archive: renamed? "
        f"presswatch rename-source {old} {source.key}"
        for source in sources
        for old in gone.get(url_key(source.url), [])
    ]


def note_sources(store: Store, sources: Sequence[Source]) -> list[str]:
    """Remember each configured source's address in a writable archive, and log (and return)
    the sources that look renamed."""
    hints = renamed_hints(sources, store.sources.addresses())
    store.sources.note_addresses({source.key: source.url for source in sources})
    for hint in hints:
        log.warning("config: %s", hint)
    return hints
